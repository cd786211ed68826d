"""The configured sources: one read-only engine per source, built on first use and disposed together."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Engine

from connectors.contract import SourceReport, check_source
from connectors.engines import describe_url, missing_sqlite_file, source_engine


class Sources:
    """Read-only engines for the four sources, by name."""

    def __init__(self, urls: Mapping[str, str], *, timeout_s: float = 5.0) -> None:
        self.urls = dict(urls)
        self.timeout_s = timeout_s
        self._engines: dict[str, Engine] = {}

    def engine(self, name: str) -> Engine:
        if name not in self.urls:
            raise KeyError(f"unknown source {name!r}; known: {', '.join(self.urls)}")
        if name not in self._engines:
            self._engines[name] = source_engine(self.urls[name], timeout_s=self.timeout_s)
        return self._engines[name]

    def engines(self) -> dict[str, Engine]:
        return {name: self.engine(name) for name in self.urls}

    def check(self, name: str) -> SourceReport:
        url = self.urls[name]
        missing = missing_sqlite_file(url)
        if missing:
            return SourceReport(source=name, url=describe_url(url), reachable=False, error=f"no such file {missing}")
        return check_source(name, self.engine(name), describe_url(url))

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
