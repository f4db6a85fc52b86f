"""One settings object for the whole service, read from CRM_* environment variables, and the
key that signs the bearer tokens."""

from __future__ import annotations

import ast
import hashlib
import ipaddress
import logging
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

log = logging.getLogger("crm.config")

# A signing key needs at least this many characters (a generated one has 64).
MIN_KEY_LENGTH = 32
# sha256 of keys that were published (the development default of earlier releases): refused
# even where the sources that held them are not installed.
PUBLISHED_KEY_HASHES = frozenset({
    "fcc809d6a89cf0dce4126ec3aa44959b564670e30073387a2ca5223edf65edb0",
})
# The packages whose string constants are never accepted as keys; the test and benchmark
# folders of a source checkout are read too.
PACKAGES = ("aggregates", "commands", "projections", "readmodels", "api", "workers")
CHECKOUT_FOLDERS = ("tests", "benchmarks", "scripts")


class ConfigError(ValueError):
    """A setting the service cannot start with; the message says what to change."""


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_")

    database_url: str = "sqlite:///./data/crm.db"
    # embedded: projections run inside the API process; distributed: in workers.
    mode: str = "embedded"
    # Signs the bearer tokens. Required, except in the embedded mode on a SQLite file: there,
    # when it is empty, a random key is made on first start and kept beside the database
    # (see `key_file`).
    secret_key: str = ""
    token_minutes: int = 12 * 60
    # Proxies whose X-Forwarded-For is believed: a comma list of addresses and networks
    # ("10.0.0.0/8, 192.168.1.7"). Empty: the address a request comes from is the client's.
    trusted_proxies: str = ""
    # Origins whose browser frontends may call the API across origins (CORS): a comma list of
    # scheme://host[:port] ("https://crm.example.com, http://localhost:5173"). Empty: none.
    cors_origins: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    projection_batch: int = 1000
    # PostgreSQL connections each process keeps open, and how many more it may open at busy
    # moments (closed after use). Keep at least the requests a process serves at once.
    # 12 + 4 churned backends under B3's 32 clients over 2 processes; 16 served 15% more.
    db_pool_size: int = 16
    db_max_overflow: int = 2
    # Seconds between catch-up polls of the in-process background projector.
    poll_seconds: float = 1.0
    # Minutes between scheduled pool sweeps; 0 turns the schedule off.
    sweep_minutes: float = 15.0
    # Photos and logos, stored by their sha256 (C-11).
    blob_dir: str = "./data/blobs"
    max_photo_bytes: int = 10 * 1024 * 1024
    # The live-update stream (GET /api/v1/stream): seconds a ticket stays valid, seconds between
    # each process's looks at the read models' position, and seconds between keep-alive events
    # (when the stream also checks that its session still holds).
    stream_ticket_seconds: float = 60.0
    stream_poll_seconds: float = 0.25
    stream_ping_seconds: float = 15.0


# ---- the signing key ----------------------------------------------------------------------


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite store; None for other stores and in-memory SQLite."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def key_file(config: Config) -> Path | None:
    """Where the embedded mode on a SQLite file keeps its generated key: beside the database,
    named after it (`data/crm.db` → `data/crm.db.key`). None where a key must be configured."""
    if config.mode != "embedded":
        return None
    database = sqlite_file(config.database_url)
    return None if database is None else database.with_name(database.name + ".key")


def needs_explicit_key(config: Config) -> bool:
    """CRM_SECRET_KEY is required outside the embedded mode on a SQLite store."""
    if config.mode != "embedded":
        return True
    url = make_url(config.database_url)
    return not url.drivername.startswith("sqlite")


def check_settings(config: Config) -> None:
    """Refuse, before anything starts, settings the service must not run with. Writes nothing."""
    if config.secret_key:
        check_key(config.secret_key, "CRM_SECRET_KEY")
    elif needs_explicit_key(config):
        where = "the distributed mode" if config.mode != "embedded" else "a store other than SQLite"
        raise ConfigError(f"CRM_SECRET_KEY is required in {where}: set it to a random string of at least "
                          f"{MIN_KEY_LENGTH} characters, the same for every process (for example the output "
                          "of: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    trusted_networks(config.trusted_proxies)
    allowed_origins(config.cors_origins)


def check_key(key: str, source: str) -> None:
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"{source} is too short: a signing key needs at least {MIN_KEY_LENGTH} characters")
    if hashlib.sha256(key.encode()).hexdigest() in PUBLISHED_KEY_HASHES or key in published_strings():
        raise ConfigError(f"{source} appears in the published sources, so anyone could sign tokens with it; "
                          "use a random key of your own")


def signing_key(config: Config) -> str:
    """The key that signs tokens: CRM_SECRET_KEY when set; else, in the embedded mode on a
    SQLite file, the key file beside the database, made on first start. Raises ConfigError
    when there is no acceptable key."""
    check_settings(config)
    if config.secret_key:
        return config.secret_key
    path = key_file(config)
    if path is None:  # embedded, in-memory SQLite: the store and its sessions end with the process
        return secrets.token_urlsafe(48)
    return load_or_create_key(path)


def load_or_create_key(path: Path) -> str:
    """Read the key file, or make it (random, mode 0600) when there is none. Two processes
    starting at once end up with the same key: the file appears whole or not at all."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            os.chmod(draft, 0o600)
            try:
                os.link(draft, path)  # never over a key another process made a moment ago
                log.warning("made a new signing key in %s; keep it with the database (crm backup does)", path)
            except FileExistsError:
                pass
        finally:
            draft.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the key file %s is readable by others (mode %o); chmod 600 it", path, mode)
    key = path.read_text().strip()
    check_key(key, f"the key file {path}")
    return key


@lru_cache(maxsize=1)
def published_strings() -> frozenset[str]:
    """Every string constant of the service's sources (and, in a source checkout, of its
    tests and benchmarks) long enough to pass for a key: none of them may sign tokens."""
    root = Path(__file__).resolve().parents[1]
    folders = [root / name for name in PACKAGES]
    if (root / "pyproject.toml").exists():
        folders += [root / name for name in CHECKOUT_FOLDERS]
    found: set[str] = set()
    for folder in folders:
        for source in sorted(folder.rglob("*.py")) if folder.is_dir() else ():
            try:
                tree = ast.parse(source.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            found.update(node.value for node in ast.walk(tree)
                         if isinstance(node, ast.Constant) and isinstance(node.value, str)
                         and len(node.value) >= MIN_KEY_LENGTH)
    return frozenset(found)


# ---- cross-origin frontends ----------------------------------------------------------------

DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=8)
def allowed_origins(setting: str) -> tuple[str, ...]:
    """CRM_CORS_ORIGINS read: each origin as a browser sends it in `Origin` (lower case, no
    default port, no trailing slash). Anything else is refused at start: a path, a query, a
    user name, a scheme other than http(s), and `*` (the frontends are named one by one)."""
    origins: list[str] = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        origin = _origin(item)
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def _origin(item: str) -> str:
    def refuse(why: str) -> ConfigError:
        return ConfigError(f"CRM_CORS_ORIGINS: {item!r} {why}; write each origin as scheme://host[:port], "
                           "e.g. https://crm.example.com or http://localhost:5173, separated by commas")

    if item == "*" or "*" in item:
        raise refuse("is a wildcard, and every allowed origin must be named")
    if not item.isascii() or any(not ch.isprintable() or ch.isspace() for ch in item):
        raise refuse("has characters an origin cannot have (write a non-ASCII host in its xn-- form)")
    try:
        parts = urlsplit(item)
        port = parts.port
    except ValueError:
        raise refuse("cannot be read as one (its port must be a number from 0 to 65535)") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise refuse("is not an http or https origin")
    if not parts.hostname:
        raise refuse("has no host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise refuse("has a user name")
    if parts.path not in ("", "/") or parts.query or parts.fragment or item.endswith(("?", "#")):
        raise refuse("has a path, query or fragment, which an origin does not")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    return f"{scheme}://{host}" + ("" if port is None or port == DEFAULT_PORTS[scheme] else f":{port}")


# ---- trusted proxies ----------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """CRM_TRUSTED_PROXIES read: addresses and CIDR networks, comma-separated."""
    networks = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"CRM_TRUSTED_PROXIES: {item!r} is not an address or a network "
                              "(e.g. 10.0.0.5 or 10.0.0.0/8)") from None
    return tuple(networks)
