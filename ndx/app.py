"""The app factory: assembles the kernel and every domain's routers. Assembly only, no logic."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import catalog.models  # noqa: F401  (registers the platform tables on ndx.db.Base)
import policies.models  # noqa: F401
import quality.models  # noqa: F401
from catalog import pages as catalog_pages
from catalog import router as catalog_router
from catalog.ckan import router as ckan_router
from catalog.dcat import router as dcat_router
from catalog.opendata import pages as opendata_pages
from catalog.opendata import router as opendata_router
from connectors import router as data_router
from connectors.gateway import DataGateway
from connectors.registry import Sources
from ndx import __version__, health
from ndx.db import make_engine, make_sessionmaker
from ndx.observability import Metrics, RequestMiddleware, configure_logging
from ndx.settings import Settings, load_settings
from ndx.web import install_error_handlers, make_templates
from policies import audit_metrics, pages_auth, router_access, router_audit
from policies import pages as policy_pages
from policies.audit_writer import AuditWriter
from policies.auth import Sessions
from policies.ratelimit import RateLimiter
from quality import pages as quality_pages
from quality import router as quality_router

# The collector scans its youngest generation whenever container allocations outnumber deallocations by this
# much. At CPython's default (700) the query route under load (32 requests in flight) set one off every ~19
# requests, ~60 us each: 0.35 s of a 22 s bench run. Request-scoped objects die by reference counting, so a
# larger threshold only delays collecting the rare reference cycle; at 20,000 the bench run had none.
GC_YOUNG_THRESHOLD = 20_000


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build an NDX app for these settings; engines are created here, never at import time."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    engine = make_engine(settings.platform_url)
    sources = Sources(settings.source_urls(), timeout_s=settings.source_timeout_s)

    audit_writer = AuditWriter(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await audit_writer.start()
        # Everything built so far lives as long as the process: keep it out of the collector's scans, which
        # otherwise walk these objects on every full collection (tens of ms at the query route's p99).
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
        yield
        gc.set_threshold(*thresholds)
        await audit_writer.stop()
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
    audit_metrics.register(app.state.metrics.registry, audit_writer)
    app.state.audit_writer = audit_writer
    app.state.gateway = DataGateway(
        platform=engine,
        sources=sources,
        writer=audit_writer,
        limiter=RateLimiter(settings.redis_url),
        timeout_s=settings.source_timeout_s,
    )
    app.state.templates = make_templates(
        catalog_pages.TEMPLATE_DIR, quality_pages.TEMPLATE_DIR, policy_pages.TEMPLATE_DIR
    )
    secret = settings.secret_key
    app.state.sessions = (
        Sessions(secret.get_secret_value(), max_age_s=settings.session_hours * 3600) if secret is not None else None
    )
    app.state.account_lookup = pages_auth.header_account  # ndx.web.signed_in: the user in every page's header
    install_error_handlers(app)
    # The query and verify routes first: FastAPI matches routes in order, and the hot path should not pay
    # for trying fifty others (about 100 µs a call, measured by bench/profile_query.py).
    app.include_router(data_router.router)
    app.include_router(health.router)
    app.include_router(catalog_router.router)
    app.include_router(catalog_pages.router)
    app.include_router(ckan_router.router)
    app.include_router(opendata_router.router)
    app.include_router(dcat_router.router)
    app.include_router(opendata_pages.router)
    app.include_router(router_access.router)
    app.include_router(router_audit.router)
    app.include_router(policy_pages.router)
    app.include_router(quality_router.router)
    app.include_router(quality_pages.router)
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics)
    return app
