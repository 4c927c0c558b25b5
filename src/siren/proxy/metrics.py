"""The sidecar's counters, kept as plain Python numbers on the hot path (no locks, no label
lookups: the event loop is single-threaded) and turned into Prometheus text only when
``/metrics`` is scraped.

With ``--workers N`` each worker writes a snapshot of its numbers to a shared folder once a
second and any worker answering ``/metrics`` sums them; counters of a restarted worker start again
from zero, which Prometheus reads as a counter reset.

Metric names (all prefixed ``siren_``) are listed in :data:`METRICS`, from which ``docs/proxy.md``
takes its table.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

METRICS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # name, type, help, labels
    ("requests", "counter", "Requests answered, by service and outcome "
     "(forwarded, blocked, shadow_blocked, rejected, overloaded, upstream_error)", ("service", "outcome")),
    ("blocks", "counter", "Blocked requests by attack category and rule (one count per rule that scored)",
     ("service", "category", "rule")),
    ("would_blocks", "counter", "Requests shadow mode let through that block mode would have blocked, by category and rule",
     ("service", "category", "rule")),
    ("protocol_rejects", "counter", "Malformed or over-limit requests answered without forwarding, by status", ("status", "reason")),
    ("engine_errors", "counter", "Engine failures, by the decision taken (fail open or closed)", ("service", "decision")),
    ("upstream_errors", "counter", "Upstream failures: connect, refused, timeout, reset", ("service", "kind")),
    ("overload_drops", "counter", "Requests answered 503 because too many were in flight", ()),
    ("events_dropped", "counter", "Events dropped because the event queue was full", ()),
    ("config_reloads", "counter", "Configuration reloads (SIGHUP), by result", ("result",)),
    ("inspection_seconds", "histogram", "Time spent in the engine per request", ()),
    ("upstream_seconds", "histogram", "Time from sending a request upstream to its response headers", ()),
    ("in_flight", "gauge", "Requests being handled (the sidecar's queue depth)", ()),
    ("connections", "gauge", "Open client connections", ()),
    ("event_queue_depth", "gauge", "Events waiting to be sent to the brain", ()),
    ("bundle_version", "gauge", "Version of the brain's signed bundle in force (0: none; the lowest across workers)", ()),
    ("brain_bundles", "counter", "Bundle sync outcomes (applied, refused, compile_failures, not_modified, fetch_errors)",
     ("result",)),
    ("brain_events", "counter", "Events shipped to the brain, by result (sent, rejected, invalid)", ("result",)),
    ("heartbeats", "counter", "Heartbeats to the brain, by result (sent, failed)", ("result",)),
)
MIN_GAUGES = frozenset({"bundle_version"})
"""Gauges merged across workers by their lowest value instead of their sum."""


class Histogram:
    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value


class Stats:
    """Every number the sidecar exports. Counters keyed by label tuples."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[tuple[str, ...], float]] = {
            name: {} for name, kind, _, _ in METRICS if kind == "counter"
        }
        self.inspection = Histogram()
        self.upstream = Histogram()
        self.in_flight = 0
        self.connections = 0
        self.event_queue_depth = 0
        self.events_dropped = 0
        self.bundle_version = 0

    def inc(self, name: str, labels: tuple[str, ...] = (), amount: float = 1) -> None:
        series = self.counters[name]
        series[labels] = series.get(labels, 0) + amount

    def snapshot(self) -> dict[str, Any]:
        counters = {name: [[list(k), v] for k, v in series.items()] for name, series in self.counters.items()}
        counters["events_dropped"] = [[[], self.events_dropped]]
        return {
            "counters": counters,
            "histograms": {
                "inspection_seconds": [self.inspection.counts, self.inspection.total],
                "upstream_seconds": [self.upstream.counts, self.upstream.total],
            },
            "gauges": {
                "in_flight": self.in_flight, "connections": self.connections, "event_queue_depth": self.event_queue_depth,
                "bundle_version": self.bundle_version,
            },
        }


def merge_snapshots(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    counters: dict[str, dict[tuple[str, ...], float]] = {}
    hists: dict[str, list[Any]] = {}
    gauges: dict[str, float] = {}
    for snap in snapshots:
        for name, series in snap["counters"].items():
            bucket = counters.setdefault(name, {})
            for labels, value in series:
                key = tuple(labels)
                bucket[key] = bucket.get(key, 0) + value
        for name, (counts, total) in snap["histograms"].items():
            if name not in hists:
                hists[name] = [list(counts), total]
            else:
                hists[name] = [[a + b for a, b in zip(hists[name][0], counts, strict=True)], hists[name][1] + total]
        for name, value in snap["gauges"].items():
            if name in MIN_GAUGES:
                gauges[name] = min(gauges.get(name, value), value)
            else:
                gauges[name] = gauges.get(name, 0) + value
    return {
        "counters": {k: [[list(lk), v] for lk, v in s.items()] for k, s in counters.items()},
        "histograms": hists,
        "gauges": gauges,
    }


class _Collector:
    def __init__(self, source: Any) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        snap: dict[str, Any] = self._source()
        for name, kind, doc, labels in METRICS:
            full = f"siren_{name}"
            if kind == "counter":
                c = CounterMetricFamily(full, doc, labels=list(labels))
                for key, value in sorted(snap["counters"].get(name, []), key=lambda kv: kv[0]):
                    c.add_metric(list(key), value)
                yield c
            elif kind == "gauge":
                yield GaugeMetricFamily(full, doc, value=snap["gauges"].get(name, 0))
            else:
                counts, total = snap["histograms"][name]
                cumulative, running = [], 0
                for bound, n in zip([*map(str, LATENCY_BUCKETS), "+Inf"], counts, strict=True):
                    running += n
                    cumulative.append((bound, running))
                yield HistogramMetricFamily(full, doc, buckets=cumulative, sum_value=total)


class MetricsExporter:
    """Renders :class:`Stats` as Prometheus text; with ``shared_dir``, sums every worker's snapshot."""

    def __init__(self, stats: Stats, *, shared_dir: str = "", worker: int = 0) -> None:
        self.stats = stats
        self.shared_dir = shared_dir
        self.worker = worker
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self._snapshot))

    def write_snapshot(self) -> None:
        if not self.shared_dir:
            return
        path = Path(self.shared_dir) / f"worker-{self.worker}.json"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(orjson.dumps(self.stats.snapshot()))
        os.replace(tmp, path)

    def _snapshot(self) -> dict[str, Any]:
        own = self.stats.snapshot()
        if not self.shared_dir:
            return own
        snaps = [own]
        for path in sorted(Path(self.shared_dir).glob("worker-*.json")):
            if path.name == f"worker-{self.worker}.json":
                continue
            try:
                snaps.append(orjson.loads(path.read_bytes()))
            except (OSError, orjson.JSONDecodeError):
                continue
        return merge_snapshots(snaps)

    def render(self) -> bytes:
        return generate_latest(self.registry)
