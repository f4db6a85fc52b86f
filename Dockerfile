FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY aggregates aggregates
COPY commands commands
COPY projections projections
COPY readmodels readmodels
COPY api api
COPY workers workers
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["crm", "api", "--host", "0.0.0.0"]
