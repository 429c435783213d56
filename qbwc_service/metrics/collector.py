"""The gauges read from the database at scrape time: jobs, sessions and polls per company.

They describe the shared database, not a process, so any worker answers them alike and
nothing is counted twice. Three grouped SELECTs per scrape, served by the indexes on
``job (company_id, state, …)`` and ``qbwc_session (company_id, state)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from qbwc_service.db.models import Company, Job, QbwcSession
from qbwc_service.db.types import JobState, SessionState, utcnow


class DatabaseCollector(Collector):
    """Jobs by company and state, sessions by company and state, and each company's last poll."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing to describe ahead: reading the database belongs to the scrape."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read the database once and yield the gauges."""
        jobs = GaugeMetricFamily("qbwc_jobs", "Jobs by company and state", labels=["company", "state"])
        sessions = GaugeMetricFamily(
            "qbwc_sessions", "Web Connector sessions by company and state", labels=["company", "state"]
        )
        enabled = GaugeMetricFamily(
            "qbwc_company_enabled", "1 when the company connection is enabled", labels=["company"]
        )
        age = GaugeMetricFamily(
            "qbwc_company_last_poll_age_seconds",
            "Seconds since the company's Web Connector last authenticated (absent: never polled)",
            labels=["company"],
        )
        interval = GaugeMetricFamily(
            "qbwc_company_poll_interval_seconds",
            "How often the company's .qwc asks the Web Connector to run",
            labels=["company"],
        )
        with self.engine.connect() as conn:
            companies = conn.execute(
                select(Company.id, Company.name, Company.enabled, Company.poll_minutes, Company.last_poll_at)
            ).all()
            job_counts = conn.execute(
                select(Job.company_id, Job.state, func.count()).group_by(Job.company_id, Job.state)
            ).all()
            session_counts = conn.execute(
                select(QbwcSession.company_id, QbwcSession.state, func.count()).group_by(
                    QbwcSession.company_id, QbwcSession.state
                )
            ).all()
        now = self.clock()
        by_job = {(company_id, JobState(state)): n for company_id, state, n in job_counts}
        by_session = {(company_id, SessionState(state)): n for company_id, state, n in session_counts}
        for c in companies:
            for job_state in JobState:
                jobs.add_metric([c.name, job_state.value], by_job.get((c.id, job_state), 0))
            for session_state in SessionState:
                sessions.add_metric([c.name, session_state.value], by_session.get((c.id, session_state), 0))
            enabled.add_metric([c.name], 1 if c.enabled else 0)
            interval.add_metric([c.name], c.poll_minutes * 60)
            if c.last_poll_at is not None:
                age.add_metric([c.name], max(0.0, (now - c.last_poll_at).total_seconds()))
        yield from (jobs, sessions, enabled, age, interval)
