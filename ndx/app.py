"""The app factory: assembles the kernel and every domain's routers. Assembly only, no logic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import policies.models  # noqa: F401  (registers the platform tables on ndx.db.Base)
from connectors.registry import Sources
from ndx import __version__, health
from ndx.db import make_engine, make_sessionmaker
from ndx.observability import Metrics, RequestMiddleware, configure_logging
from ndx.settings import Settings, load_settings
from ndx.web import install_error_handlers, make_templates
from policies import router as policies_router


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build an NDX app for these settings; engines are created here, never at import time."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    engine = make_engine(settings.platform_url)
    sources = Sources(settings.source_urls(), timeout_s=settings.source_timeout_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        sources.dispose()
        engine.dispose()

    app = FastAPI(
        title="NDX — National Data Exchange",
        version=__version__,
        description="Catalog, controlled query and verification APIs, access policies and data quality "
        "over Vietnam's national population, insurance, land and enterprise databases.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.sources = sources
    app.state.source_engines = sources.engines
    app.state.metrics = Metrics()
    app.state.templates = make_templates()
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(policies_router.router)
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics)
    return app
