"""``qbwc-service doctor``: the configuration checked, each problem with its fix.

Each check reads settings, the database or the file system and returns a :class:`Finding`;
none changes anything. An ``error`` stops the service from working as deployed (the Web
Connector refuses the URL, sign-ins fail between workers, the schema is behind); a
``warning`` works but will hurt; ``skipped`` says what could not be checked and why.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from qbwc_service.accounts.app_secret import has_stored_key
from qbwc_service.config import MAX_POLL_MINUTES, Settings
from qbwc_service.db import migrate
from qbwc_service.db.engine import is_sqlite
from qbwc_service.db.models import Company
from qbwc_service.db.types import utcnow
from qbwc_service.qbwc.qwc import public_url_warning, render_qwc
from qbxml_builders import parse_untrusted

#: Clock differences between this host and the database: past these, leases and timeouts misjudge.
SKEW_WARNING = timedelta(seconds=2)
SKEW_ERROR = timedelta(seconds=30)
#: File systems on which a SQLite file may be shared by several machines (and its locks fail).
NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "glusterfs", "ceph", "fuse.glusterfs", "afs"}
)
MIN_SECRET_CHARS = 32


class Status(StrEnum):
    """How a check came out."""

    OK = "ok"
    #: Works, but will hurt (said why, with the fix).
    WARNING = "warning"
    #: Broken as deployed: ``doctor`` exits non-zero.
    ERROR = "error"
    #: Could not be checked (an earlier check failed).
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's outcome: what was found and, for a problem, how to fix it."""

    check: str
    status: Status
    summary: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The finding as JSON."""
        return {"check": self.check, "status": self.status.value, "summary": self.summary, "fix": self.fix}


def _ok(check: str, summary: str) -> Finding:
    return Finding(check, Status.OK, summary)


@dataclass
class Doctor:
    """The checks, on one configuration; ``clock`` and ``mounts`` are this host's (tests give others)."""

    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = utcnow
    mounts: Path = Path("/proc/mounts")
    _reachable: bool = field(default=False, init=False)
    _migrated: bool = field(default=False, init=False)

    def run(self) -> list[Finding]:
        """Every check, in order; the database's come after the database is known to answer."""
        found = [self.public_url(), self.log_dir(), self.sqlite_hosts(), self.database(), self.secret_key()]
        found.append(self.clock_skew() if self._reachable else self._skipped("clock", "the database did not answer"))
        found.append(self.poll_interval())
        return found

    @staticmethod
    def _skipped(check: str, why: str) -> Finding:
        return Finding(check, Status.SKIPPED, f"not checked: {why}")

    # -- settings and files ----------------------------------------------------------

    def public_url(self) -> Finding:
        """QBWC accepts an https AppURL, or http only to this machine."""
        url = self.settings.public_url
        problem = public_url_warning(self.settings)
        if problem:
            return Finding(
                "public_url", Status.ERROR, problem,
                "serve the service behind a reverse proxy with a TLS certificate (docs/deploy.md) and set "
                "QBWC_PUBLIC_URL=https://<its name>",
            )  # fmt: skip
        if url.lower().startswith("https://") and self.settings.proxy_hops == 0:
            return Finding(
                "public_url", Status.WARNING,
                f"QBWC_PUBLIC_URL is {url} but QBWC_PROXY_HOPS is 0: behind the TLS proxy every sign-in "
                "counts as the proxy's address and redirects say http",
                "set QBWC_PROXY_HOPS to the number of proxies in front of the service (1 for one nginx)",
            )  # fmt: skip
        if not url.lower().startswith("https://"):
            return _ok("public_url", f"{url}: only a Web Connector on this machine can reach it")
        return _ok("public_url", f"{url} (https)")

    def log_dir(self) -> Finding:
        """``QBWC_LOG_DIR``, when set, is a folder this process may write."""
        folder = self.settings.log_dir
        if not folder:
            return _ok("log_dir", "QBWC_LOG_DIR is not set: logs go to standard error")
        path = Path(folder)
        fix = f"create {path} and let the service's user write it (e.g. chown), or unset QBWC_LOG_DIR"
        if not path.is_dir():
            return Finding("log_dir", Status.ERROR, f"the log folder {path} does not exist", fix)
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
                pass
        except OSError as exc:
            return Finding("log_dir", Status.ERROR, f"the log folder {path} is not writable ({exc.strerror})", fix)
        return _ok("log_dir", f"{path} is writable")

    def sqlite_hosts(self) -> Finding:
        """SQLite serves one host: not with ``QBWC_HOSTS`` above 1, nor from a network file system."""
        url = self.settings.effective_database_url
        if not is_sqlite(url):
            return _ok("sqlite_hosts", "PostgreSQL: any number of hosts may share it")
        fix = "move to PostgreSQL (QBWC_DATABASE_URL=postgresql+psycopg://...; docs/deploy.md) for several hosts"
        if self.settings.hosts > 1:
            return Finding(
                "sqlite_hosts", Status.ERROR,
                f"QBWC_HOSTS is {self.settings.hosts} but the database is SQLite, which only the processes of "
                "one machine can share", fix,
            )  # fmt: skip
        database = self.engine.url.database
        fstype = self._filesystem(Path(database)) if database and database != ":memory:" else None
        if fstype in NETWORK_FILESYSTEMS:
            return Finding(
                "sqlite_hosts", Status.ERROR,
                f"the SQLite file {database} is on a network file system ({fstype}): its locks do not hold "
                "across machines and the database can be corrupted", fix + ", or keep the file on a local disk",
            )  # fmt: skip
        return _ok("sqlite_hosts", "SQLite on a local disk, one host (QBWC_HOSTS=1)")

    def _filesystem(self, file: Path) -> str | None:
        """The type of the file system holding ``file``, from the mount table (None when unknown)."""
        try:
            lines = self.mounts.read_text().splitlines()
        except OSError:
            return None
        target = str(file.resolve().parent)
        best, kind = "", None
        for line in lines:
            parts = line.split()
            if len(parts) < 3:
                continue
            point = parts[1].replace("\\040", " ")
            inside = target == point or target.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, kind = point, parts[2]
        return kind

    # -- the database ----------------------------------------------------------------

    def database(self) -> Finding:
        """The database answers and its schema is at the newest migration."""
        shown = self.engine.url.render_as_string(hide_password=True)
        database = self.engine.url.database
        if is_sqlite(self.engine) and database and database != ":memory:" and not Path(database).is_file():
            # Connecting would create an empty file: the doctor changes nothing.
            return Finding(
                "database", Status.ERROR, f"there is no SQLite database at {database}",
                "run `qbwc-service db upgrade` to create it, or point QBWC_DATABASE_URL at the database",
            )  # fmt: skip
        try:
            current, heads = migrate.revisions(self.engine)
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
            return Finding(
                "database", Status.ERROR, f"{shown} did not answer: {first}",
                "check QBWC_DATABASE_URL (host, port, name, user, password) and that the database runs",
            )  # fmt: skip
        self._reachable = True
        if current != heads:
            at = ", ".join(sorted(current)) or "no migration"
            return Finding(
                "database", Status.ERROR,
                f"{shown} is at {at}; the code expects {', '.join(sorted(heads))}",
                "run `qbwc-service db upgrade` (the container does it on start), then restart the service",
            )  # fmt: skip
        self._migrated = True
        return _ok("database", f"{shown} answers and is migrated to {', '.join(sorted(heads))}")

    def secret_key(self) -> Finding:
        """The signing key is set, or kept in the database, so every worker and host signs alike."""
        key = self.settings.secret_key
        if key:
            if len(key) < MIN_SECRET_CHARS:
                return Finding(
                    "secret_key", Status.WARNING, f"QBWC_SECRET_KEY has {len(key)} characters: easy to guess",
                    f"set a random one of {MIN_SECRET_CHARS} characters or more "
                    "(python -c 'import secrets; print(secrets.token_hex(32))')",
                )  # fmt: skip
            return _ok("secret_key", "QBWC_SECRET_KEY is set")
        fix = "run `qbwc-service db upgrade` and start the service once (it keeps a key), or set QBWC_SECRET_KEY"
        if not self._migrated:
            return Finding(
                "secret_key", Status.ERROR,
                "QBWC_SECRET_KEY is not set and the database cannot keep a key: each worker would sign with its "
                "own and sign-ins would fail between them", fix,
            )  # fmt: skip
        with self.engine.connect() as conn:
            stored = has_stored_key(conn)
        if stored:
            return _ok("secret_key", "generated once and kept in the database (app_secret), shared by every worker")
        return _ok("secret_key", "not set: the first start generates one and keeps it in the database")

    def clock_skew(self) -> Finding:
        """This host's clock agrees with the database's (leases and timeouts compare both)."""
        query = "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')" if is_sqlite(self.engine) else "SELECT clock_timestamp()"
        with self.engine.connect() as conn:
            before = self.clock()
            raw = conn.execute(text(query)).scalar_one()
            after = self.clock()
        theirs = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
        theirs = theirs.replace(tzinfo=UTC) if theirs.tzinfo is None else theirs
        ours = before + (after - before) / 2
        skew = theirs - ours
        size = abs(skew.total_seconds())
        said = f"the database's clock is {size:.1f} s {'ahead of' if skew > timedelta(0) else 'behind'} this host's"
        fix = "run NTP (chrony, systemd-timesyncd) on this host and the database's"
        if abs(skew) > SKEW_ERROR:
            return Finding("clock", Status.ERROR, said + ": sessions would be judged quiet or alive wrongly", fix)
        if abs(skew) > SKEW_WARNING:
            return Finding("clock", Status.WARNING, said, fix)
        return _ok("clock", f"agrees with the database's within {size:.1f} s")

    def poll_interval(self) -> Finding:
        """Every ``.qwc`` asks QBWC to run at least once per 15-minute window, and so does the default.

        A company stored with a longer interval gets 15 in its ``.qwc`` now; a file handed out
        before may still ask for more, so it is named (a warning) to be downloaded again.
        """
        window = MAX_POLL_MINUTES
        late: list[str] = []
        stale: list[str] = []
        if not 1 <= self.settings.default_poll_minutes <= window:
            late.append(f"QBWC_DEFAULT_POLL_MINUTES={self.settings.default_poll_minutes}")
        if self._migrated:
            with Session(self.engine) as db:
                for company in db.scalars(select(Company).where(Company.enabled.is_(True)).order_by(Company.name)):
                    minutes = run_every_minutes(render_qwc(company, self.settings))
                    if minutes is None or not 1 <= minutes <= window:
                        late.append(f"{company.name}'s .qwc: {'no RunEveryNMinutes' if minutes is None else minutes}")
                    elif company.poll_minutes > window:
                        stale.append(f"{company.name} ({company.poll_minutes} minutes stored)")
        if late:
            return Finding(
                "poll_interval", Status.ERROR,
                f"a Web Connector run is due at least every {window} minutes (work waits no longer, a stopped "
                f"connector is noticed within it), but: {'; '.join(late)}",
                f"give each company a poll interval of 1 to {window} minutes (and a .qwc template with "
                "Scheduler/RunEveryNMinutes), download its .qwc again and add it to the Web Connector; "
                "set QBWC_DEFAULT_POLL_MINUTES likewise",
            )  # fmt: skip
        if stale:
            return Finding(
                "poll_interval", Status.WARNING,
                f"their .qwc now asks for {window} minutes, but one handed out before may still ask for more: "
                + "; ".join(stale),
                "download each one's .qwc again and add it to the Web Connector (it replaces the old one)",
            )  # fmt: skip
        if not self._migrated:
            return _ok("poll_interval", f"QBWC_DEFAULT_POLL_MINUTES={self.settings.default_poll_minutes} "
                       "(companies not checked: the database is not migrated)")  # fmt: skip
        return _ok("poll_interval", f"every .qwc runs QBWC at least every {window} minutes")


def run_every_minutes(qwc: str) -> int | None:
    """The ``Scheduler/RunEveryNMinutes`` of a ``.qwc`` document, or None when it has none."""
    root = parse_untrusted(qwc)
    found = root.findtext("Scheduler/RunEveryNMinutes")
    try:
        return int(found) if found is not None else None
    except ValueError:
        return None


def has_errors(findings: list[Finding]) -> bool:
    """Whether any check failed outright."""
    return any(f.status is Status.ERROR for f in findings)
