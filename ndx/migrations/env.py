"""Alembic environment: the engine comes from ``ndx.migrate`` through the config's attributes."""

from __future__ import annotations

from alembic import context

from ndx.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
