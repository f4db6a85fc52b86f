"""One settings object for the whole service, read from CRM_* environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "crm-embedded-development-secret-change-me-in-production"


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_")

    database_url: str = "sqlite:///./data/crm.db"
    # embedded: projections run inside the API process; distributed: in workers.
    mode: str = "embedded"
    secret_key: str = DEV_SECRET
    token_minutes: int = 12 * 60
    redis_url: str = "redis://127.0.0.1:6379/0"
    projection_batch: int = 1000
    # PostgreSQL connections each process keeps open, and how many more it may open at busy
    # moments (closed after use). Keep at least the requests a process serves at once.
    db_pool_size: int = 12
    db_max_overflow: int = 4
    # Seconds between catch-up polls of the in-process background projector.
    poll_seconds: float = 1.0
    # Minutes between scheduled pool sweeps; 0 turns the schedule off.
    sweep_minutes: float = 15.0
    # Photos and logos, stored by their sha256 (C-11).
    blob_dir: str = "./data/blobs"
    max_photo_bytes: int = 10 * 1024 * 1024
