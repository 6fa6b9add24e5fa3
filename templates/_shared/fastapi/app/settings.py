"""Typed settings, read from the environment (and a local .env file) by pydantic-settings."""

from functools import lru_cache

from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_name: str = {{ startup.displayName | dump }}
    environment: str = "development"
    # In the cluster this comes from the `url` key of the `{{ database.secretName }}` Secret.
    database_url: PostgresDsn = PostgresDsn(
        "postgresql://{{ database.name }}:{{ database.name }}@localhost:{{ services.db.port if services.db else 5432 }}/{{ database.name }}"
    )
    cors_origins: list[str] = ["http://localhost:{{ services.frontend.port if services.frontend else 3000 }}"]


@lru_cache
def get_settings() -> Settings:
    return Settings()
