"""Counters as plain numbers, Prometheus text on demand, summed across workers."""

from __future__ import annotations

from pathlib import Path

from siren.proxy.metrics import MetricsExporter, Stats


def test_render_prometheus_text() -> None:
    stats = Stats()
    stats.inc("requests", ("app", "forwarded"), 3)
    stats.inc("blocks", ("app", "sqli", "sqli.tautology"))
    stats.inspection.observe(0.0003)
    stats.inspection.observe(20.0)
    stats.in_flight = 2
    text = MetricsExporter(stats).render().decode()
    assert 'siren_requests_total{outcome="forwarded",service="app"} 3.0' in text
    assert 'siren_blocks_total{category="sqli",rule="sqli.tautology",service="app"} 1.0' in text
    assert 'siren_inspection_seconds_bucket{le="0.0005"} 1.0' in text
    assert 'siren_inspection_seconds_bucket{le="+Inf"} 2.0' in text
    assert "siren_inspection_seconds_count 2.0" in text
    assert "siren_in_flight 2.0" in text


def test_workers_are_summed(tmp_path: Path) -> None:
    a, b = Stats(), Stats()
    a.inc("requests", ("app", "forwarded"), 2)
    b.inc("requests", ("app", "forwarded"), 5)
    b.inc("overload_drops")
    b.upstream.observe(0.002)
    MetricsExporter(b, shared_dir=str(tmp_path), worker=1).write_snapshot()
    text = MetricsExporter(a, shared_dir=str(tmp_path), worker=0).render().decode()
    assert 'siren_requests_total{outcome="forwarded",service="app"} 7.0' in text
    assert "siren_overload_drops_total 1.0" in text
    assert "siren_upstream_seconds_count 1.0" in text
