"""Processes that run alert sweeps together under a fake clock of their own (a light module: each child imports it)."""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from typing import Any

import time_machine

from qbwc_service.alerts.sweep import sweep
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine


def _sweeper_process(url: str, overrides: dict[str, Any], orders: Any, done: Any, barrier: Any) -> None:
    """A sweeping process: for each time it is sent, wait for the others, then sweep under that fake clock."""
    settings = load_settings({"database_url": url, "log_level": "WARNING", **overrides}, environ={})
    engine = make_engine(url)
    while (when := orders.get(timeout=60)) is not None:
        barrier.wait(30)
        with time_machine.travel(when, tick=True):
            sweep(engine, settings)
        done.put(when)
    engine.dispose()


class Sweepers:
    """``n`` processes (spawned, so nothing is shared but the database) that sweep together when told."""

    def __init__(self, n: int, url: str, overrides: dict[str, Any]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.barrier = barrier = ctx.Barrier(n)  # kept: the children unpickle it after start()
        self.done = ctx.Queue()
        self.orders = [ctx.Queue() for _ in range(n)]
        self.procs = [
            ctx.Process(target=_sweeper_process, args=(url, overrides, q, self.done, barrier)) for q in self.orders
        ]

    def __enter__(self) -> Sweepers:
        for p in self.procs:
            p.start()
        return self

    def sweep_at(self, when: datetime) -> None:
        """Every process sweeps at ``when``; returns once all have."""
        for q in self.orders:
            q.put(when)
        for _ in self.procs:
            self.done.get(timeout=60)

    def __exit__(self, *exc: object) -> None:
        for q in self.orders:
            q.put(None)
        for p in self.procs:
            p.join(30)
            assert p.exitcode == 0
