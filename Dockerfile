# The console (console/) is built by Node, and only its output goes into the service's image.
FROM node:20-slim AS console
WORKDIR /build/console
COPY console/package.json console/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY console/ ./
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
# The locked versions first (a layer that changes only with the lock), then the project alone.
RUN pip install --no-cache-dir -r requirements.lock
COPY aggregates aggregates
COPY commands commands
COPY projections projections
COPY readmodels readmodels
COPY api api
COPY --from=console /build/api/console_dist api/console_dist
COPY workers workers
RUN pip install --no-cache-dir --no-deps .
# An unprivileged user owns the data folder. The default command is the embedded mode on
# SQLite: its first start makes a random signing key, /app/data/crm.db.key (mode 0600), beside
# the database; keep /app/data on a volume so the key and the data outlive the container.
# Other modes and stores need CRM_SECRET_KEY (compose.yaml sets it for the distributed mode).
RUN useradd --system --home-dir /app --shell /usr/sbin/nologin crm \
    && mkdir -p /app/data && chown crm /app/data && chmod 700 /app/data
USER crm
VOLUME ["/app/data"]
EXPOSE 8000
CMD ["crm", "api", "--host", "0.0.0.0"]
