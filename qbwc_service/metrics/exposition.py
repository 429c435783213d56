"""The ``/metrics`` page: every worker's counts (multiprocess mode) and the database's gauges."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from qbwc_service.metrics.collector import DatabaseCollector
from qbwc_service.metrics.instruments import instruments

#: The variable naming the folder where each gunicorn worker keeps its values (see ``gunicorn_conf``).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

__all__ = ["CONTENT_TYPE_LATEST", "MULTIPROC_ENV", "render"]


class _ThisProcess(Collector):
    """The instruments of this process alone, when no multiprocess folder is set."""

    def collect(self) -> Iterator[Metric]:
        yield from instruments().registry.collect()


def render(engine: Engine) -> bytes:
    """The metrics in Prometheus' text format, read now."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(engine))
    return generate_latest(registry)
