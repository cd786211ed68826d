"""Running a node: migrate the platform database, serve with uvicorn."""

from __future__ import annotations

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from ndx import migrate as migrations
from ndx.db import make_engine
from ndx.settings import Settings


class SetupError(Exception):
    """Preparing the node failed; the message says which step and why."""


def migrate(settings: Settings, revision: str = "heads") -> None:
    engine = make_engine(settings.platform_url)
    try:
        migrations.upgrade(engine, revision)
    except (SQLAlchemyError, OSError) as exc:
        orig = getattr(exc, "orig", None) or exc
        raise SetupError(f"NDX_DATABASE_URL: migration failed: {(str(orig).splitlines() or [repr(orig)])[0]}") from None
    finally:
        engine.dispose()


def serve(settings: Settings, *, host: str | None, port: int | None, workers: int = 1) -> None:
    """Serve the app factory; each worker builds its app from the same environment."""
    uvicorn.run(
        "ndx.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )
