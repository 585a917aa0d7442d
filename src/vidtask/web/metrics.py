"""Prometheus metrics on a registry of the app's own (so tests can build many apps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Metrics"]


class _TaskCounts(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "vidtask_tasks", "Tasks in the store by status", labels=["status"]
        )
        for status, count in self.counts().items():
            gauge.add_metric([status], count)
        yield gauge


class Metrics:
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.submitted = Counter(
            "vidtask_tasks_submitted", "Tasks created", ["model"], registry=self.registry
        )
        self.registry.register(_TaskCounts(counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)
