"""Sweeps inside a served process: a daemon thread per gunicorn worker offers one each interval.

``gunicorn_conf.post_worker_init`` starts it once the worker's application is loaded. Each
worker's thread wakes every ``QBWC_ALERT_SWEEP_SECONDS`` (the first time after a random part
of it, so workers do not wake together) and asks for the lease with that interval: one
sweep runs per interval among all workers and hosts on the database, and none when no
worker serves (then cron's ``qbwc-service alerts check`` does it). A thread, not a call
piggybacked on authenticate, because the company that stopped polling is the one whose
calls no longer come.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta

from sqlalchemy import Engine

from qbwc_service.config import Settings
from qbwc_service.logs import log


class Sweeper(threading.Thread):
    """The sweeping thread of one process; ``stop()`` ends it."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(name="qbwc-alert-sweeper", daemon=True)
        self.engine, self.settings = engine, settings
        self.interval = float(settings.alert_sweep_seconds)
        self._stopped = threading.Event()

    def run(self) -> None:
        from qbwc_service.alerts.sweep import sweep

        wait = random.uniform(0, self.interval)  # noqa: S311 (spreading wake-ups, not secrecy)
        while not self._stopped.wait(wait):
            try:
                sweep(self.engine, self.settings, every=timedelta(seconds=self.interval))
            except Exception as exc:  # a failed sweep is logged; the next one tries again
                log(logging.ERROR, "alert_sweep_failed", error=f"{type(exc).__name__}: {exc}")
            wait = self.interval

    def stop(self) -> None:
        """Ask the thread to end after its current sweep."""
        self._stopped.set()


def start(engine: Engine, settings: Settings) -> Sweeper | None:
    """Start this process's sweeper, unless ``QBWC_ALERT_SWEEP_SECONDS`` is 0."""
    if settings.alert_sweep_seconds <= 0:
        return None
    sweeper = Sweeper(engine, settings)
    sweeper.start()
    return sweeper
