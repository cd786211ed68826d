"""The audit log's figures on ``/metrics``: what operators watch to see it keep up.

Read from the process's ``AuditWriter`` when Prometheus scrapes (a custom collector: nothing is counted
twice on the hot path). Per worker process, like the HTTP metrics.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from policies.audit_writer import AuditWriter


class AuditCollector(Collector):
    def __init__(self, writer: AuditWriter) -> None:
        self._writer = writer

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        w = self._writer
        yield CounterMetricFamily("ndx_audit_records", "Audit records committed by this process", value=w.records)
        yield CounterMetricFamily("ndx_audit_batches", "Audit transactions (group commits) of this process", w.batches)
        yield CounterMetricFamily(
            "ndx_audit_stale",
            "Calls not recorded nor answered because access changed after they were decided (run again)",
            value=w.stale,
        )
        yield CounterMetricFamily(
            "ndx_audit_write_seconds", "Time spent writing audit batches, waits for a turn included", w.write_seconds
        )
        s = w.subjects
        yield CounterMetricFamily("ndx_audit_subject_flushes", "Subject log moves into a run", value=s.flushes)
        yield CounterMetricFamily("ndx_audit_subject_merges", "Subject runs merged", value=s.merges)
        yield CounterMetricFamily(
            "ndx_audit_subject_failures", "Subject index steps that failed (logged; retried)", value=s.failures
        )
        yield GaugeMetricFamily(
            "ndx_audit_subject_longest_step_seconds", "Longest subject index transaction so far", value=s.longest_s
        )
        c = w.checkpointer
        if c is not None:
            yield CounterMetricFamily("ndx_audit_wal_checkpoints", "WAL checkpoints run", value=c.checkpoints)
            yield GaugeMetricFamily(
                "ndx_audit_wal_longest_pages", "Longest write-ahead log seen, in pages", c.max_frames
            )


def register(registry: CollectorRegistry, writer: AuditWriter) -> None:
    registry.register(AuditCollector(writer))
