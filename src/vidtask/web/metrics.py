"""Prometheus metrics on a registry of the app's own (so tests can build many apps)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from vidtask.core.task import Task

__all__ = ["Metrics"]


class _TaskCounts(Collector):
    def __init__(self) -> None:
        #: The counts of the render in progress (read from the store before it).
        self.counts: dict[str, int] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "vidtask_tasks", "Tasks in the store by status", labels=["status"]
        )
        for status, count in self.counts.items():
            gauge.add_metric([status], count)
        yield gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.submitted = Counter(
            "vidtask_tasks_submitted", "Tasks created", ["model"], registry=self.registry
        )
        self._counts = _TaskCounts()
        self.registry.register(self._counts)

    def created(self, task: Task) -> None:
        """Count a task the service created (its ``on_created``)."""
        self.submitted.labels(task.model).inc()

    def render(self, counts: dict[str, int]) -> bytes:
        """The metrics, with ``counts`` (tasks by status) as the task gauge."""
        self._counts.counts = counts
        return generate_latest(self.registry)
