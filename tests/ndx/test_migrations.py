from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import ndx.app  # noqa: F401  (the shell imports every domain, registering all platform tables)
from ndx import migrate
from ndx.db import Base, make_engine


def test_upgrade_matches_models_and_downgrades(new_database_url: Callable[[str], str]) -> None:
    engine = make_engine(new_database_url("platform"))
    migrate.upgrade(engine)
    assert migrate.current_revisions(engine) == migrate.head_revisions()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)  # and back up again: migrations are repeatable
    assert migrate.current_revisions(engine) == migrate.head_revisions()
    engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_wal(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()
