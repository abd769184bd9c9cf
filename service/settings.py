"""Configuration, read once at the edge from `SITREP_*` variables or CLI options."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything sitrep can be told; defaults serve a newcomer on an embedded SQLite file."""

    model_config = SettingsConfigDict(env_prefix="SITREP_", extra="ignore")

    database_url: str = "sqlite:///sitrep.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    api_keys: str = Field(default="", repr=False)
    public_reads: bool = False
