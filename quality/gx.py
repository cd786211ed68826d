"""Run the expectation suites with great-expectations (GX Core 1.x) against the source databases.

The only module that imports great_expectations, and only inside ``run_suites``: the CLI and the web app
start without it. Each suite runs on the source itself (SQLite or PostgreSQL) with COMPLETE results and
the table's key as ``unexpected_index_column_names``, so every failing row is named. GX caps the rows an
``unexpected_rows_expectation`` returns (200); when it reports more, the same query is read in full
through the source's read-only engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from connectors.registry import Sources
from quality.findings import Finding, record
from quality.suites import SuiteSpec, expand

Progress = Callable[[str, int, int], None]


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def gx_url(url: str) -> str:
    """The connection string GX opens: SQLite files read-only, others as configured."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        from pathlib import Path

        return f"sqlite:///file:{Path(parsed.database).resolve()}?mode=ro&uri=true"
    return parsed.render_as_string(hide_password=False)


def run_suites(sources: Sources, suites: list[SuiteSpec], progress: Progress = _noop) -> list[Finding]:
    """Validate every suite's table; one ``invalid_value`` finding per failing row and expectation."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    findings: list[Finding] = []
    datasources: dict[str, Any] = {}
    total = sum(len(s.expectations) for s in suites)
    done = 0
    progress("expectation suites", 0, total)
    for suite_spec in suites:
        if suite_spec.source not in datasources:
            url = gx_url(sources.urls[suite_spec.source])
            backend = make_url(url).get_backend_name()
            add = {
                "sqlite": context.data_sources.add_or_update_sqlite,
                "postgresql": context.data_sources.add_or_update_postgres,
            }.get(backend, context.data_sources.add_or_update_sql)
            datasources[suite_spec.source] = add(suite_spec.source, connection_string=url)
        asset = datasources[suite_spec.source].add_table_asset(suite_spec.table, table_name=suite_spec.table)
        batch = asset.add_batch_definition_whole_table("whole table")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_spec.name))
        for i, spec in enumerate(suite_spec.expectations):
            built = ExpectationConfiguration(
                type=spec.type, kwargs=expand(spec.kwargs), meta={"index": i, "field": spec.field}
            )
            suite.add_expectation(built.to_domain_obj())
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_spec.name, data=batch, suite=suite)
        )
        result = validation.run(
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [suite_spec.key]}
        )
        table = f"{suite_spec.source}.{suite_spec.table}"
        one: ExpectationValidationResult
        for one in result.results:
            done += 1
            progress("expectation suites", done, total)
            config = one.expectation_config
            assert config is not None
            if one.exception_info and one.exception_info.get("raised_exception"):
                raise RuntimeError(
                    f"suite {suite_spec.name}: {config.type} failed to run: "
                    f"{one.exception_info.get('exception_message')}"
                )
            if one.success:
                continue
            spec = suite_spec.expectations[int((config.meta or {})["index"])]
            for key in _failing_keys(sources, suite_spec, spec.type, expand(spec.kwargs), one.result):
                findings.append(
                    Finding(
                        "invalid_value",
                        (record(table, key),),
                        spec.field,
                        1.0,
                        spec.message,
                        message_vi=spec.message_vi or "",
                    )
                )
    return findings


def _failing_keys(
    sources: Sources, suite: SuiteSpec, kind: str, kwargs: dict[str, Any], result: dict[str, Any]
) -> list[str]:
    """Every failing row's key. GX returns at most 200 unexpected rows of a query expectation and, on
    SQL, 20 index rows of a column expectation even with COMPLETE results; past that, the same query
    (GX's own ``unexpected_index_query``) is read in full through the source's read-only engine."""
    if kind == "unexpected_rows_expectation":
        rows = result.get("details", {}).get("unexpected_rows", [])
        if int(result.get("observed_value") or 0) > len(rows):
            query = kwargs["unexpected_rows_query"].replace("{batch}", suite.table)
            return _keys_of(sources, suite.source, query, 0)
        return [str(row.get(suite.key, next(iter(row.values())))) for row in rows]
    listed = [str(row[suite.key]) for row in result.get("unexpected_index_list") or []]
    full_query = result.get("unexpected_index_query")
    if int(result.get("unexpected_count") or 0) > len(listed) and isinstance(full_query, str):
        return _keys_of(sources, suite.source, full_query, suite.key)
    return listed


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def _keys_of(sources: Sources, source: str, query: str, key: str | int) -> list[str]:
    with sources.engine(source).connect() as conn:
        if conn.dialect.name == "sqlite":
            # GX compiles regex expectations on SQLite to REGEXP, a function SQLite leaves to the caller.
            raw = conn.connection.driver_connection
            raw.create_function("regexp", 2, _regexp, deterministic=True)  # type: ignore[union-attr]
        rows = conn.execute(text(query.rstrip().rstrip(";"))).mappings().all()
    if isinstance(key, int):
        return [str(next(iter(row.values()))) for row in rows]
    return [str(row[key]) for row in rows]
