"""Typed settings read from the environment (prefix ``NDX_``), validated once at start-up.

Every field carries a description: the README's settings table is checked against them by a test, so the
documentation cannot drift from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SOURCE_NAMES: tuple[str, ...] = ("population", "insurance", "land", "enterprise")


class SettingsError(Exception):
    """A setting has a bad value; the message is one line that names the setting."""


def _check_url(value: str | None, env_name: str) -> str | None:
    if value is None:
        return None
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError(f"not a SQLAlchemy URL ({exc})") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite:// or postgresql+psycopg://")
    return value


class Settings(BaseSettings):
    """NDX settings. Environment variables are the field names upper-cased with the ``NDX_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="NDX_", extra="ignore", validate_default=True)

    data_dir: Path = Field(
        default=Path("./var"),
        description="Folder for the embedded SQLite platform database, the demo sources and reports.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the platform database; default sqlite:///<data dir>/platform.db.",
    )
    source_population: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the population source; default <data dir>/sources/population.db.",
    )
    source_insurance: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the insurance source; default <data dir>/sources/insurance.db.",
    )
    source_land: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the land source; default <data dir>/sources/land.db.",
    )
    source_enterprise: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the enterprise source; default <data dir>/sources/enterprise.db.",
    )
    host: str = Field(default="127.0.0.1", description="Address `ndx serve` and `ndx demo` listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port `ndx serve` and `ndx demo` listen on.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Lowest level of log lines written to standard error."
    )
    source_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Time limit in seconds for one query against a source database.",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Secret (32+ characters) signing web session cookies and CSRF tokens; without it web login is "
        "off (the API's bearer tokens still work). `ndx demo` makes one in the data dir.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL (redis://host:6379/0) for rate-limit counters shared by every worker and replica; "
        "unset, each worker counts in memory.",
    )
    token_days: int = Field(default=90, ge=1, le=3650, description="Days a new API token stays valid.")
    session_hours: int = Field(default=12, ge=1, le=720, description="Hours a web login session stays valid.")
    open_data_min_cell: int = Field(
        default=10,
        ge=2,
        le=1000,
        description="Smallest count an open-data aggregate publishes: smaller cells (and the cells that would let "
        "one recover them from totals) are suppressed.",
    )

    @field_validator("database_url", "source_population", "source_insurance", "source_land", "source_enterprise")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _check_url(value or None, "")

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError(
                "must be at least 32 characters (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _valid_redis(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db, rediss://... or unix://...")
        return value or None

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if self.database_url is None:
            self.database_url = sqlite_url(self.data_dir / "platform.db")
        for name in SOURCE_NAMES:
            if getattr(self, f"source_{name}") is None:
                setattr(self, f"source_{name}", sqlite_url(self.data_dir / "sources" / f"{name}.db"))
        return self

    @property
    def platform_url(self) -> str:
        assert self.database_url is not None
        return self.database_url

    def source_urls(self) -> dict[str, str]:
        """The URL of each of the four sources, by source name."""
        return {name: str(getattr(self, f"source_{name}")) for name in SOURCE_NAMES}


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise SettingsError with one line naming the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        value = err.get("input")
        secret = "secret" in field
        shown = f" (got {value!r})" if value is not None and not isinstance(value, dict) and not secret else ""
        raise SettingsError(f"NDX_{field.upper()}: {err['msg']}{shown}") from None
