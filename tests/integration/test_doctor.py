"""``qbwc-service doctor``: each check fails with its fix on a broken configuration and passes on a sound one."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, update

from qbwc_service.accounts import companies
from qbwc_service.accounts.app_secret import session_signing_key
from qbwc_service.cli import main
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Company
from qbwc_service.db.types import utcnow
from qbwc_service.doctor import Doctor, Finding, Status

SECRET = "k" * 40


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines made by a test, disposed after it."""
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def check(engines: list[Engine], name: str, url: str, **overrides: Any) -> Finding:
    """The finding of check ``name`` (after the database check, as ``run`` orders them)."""
    settings = load_settings({"database_url": url, "secret_key": SECRET, **overrides}, environ={})
    engine = make_engine(settings.effective_database_url)
    engines.append(engine)
    clock = overrides.pop("_clock", utcnow)
    doctor = Doctor(settings, engine, clock=clock)
    found = {f.check: f for f in doctor.run()}
    return found[name]


def doctor_with(engines: list[Engine], url: str, **kwargs: Any) -> Doctor:
    settings = load_settings({"database_url": url, "secret_key": SECRET}, environ={})
    engine = make_engine(url)
    engines.append(engine)
    return Doctor(settings, engine, **kwargs)


@pytest.mark.parametrize(
    ("url", "hops", "status"),
    [
        ("http://qb.example.com", 0, Status.ERROR),
        ("http://localhost:8000", 0, Status.OK),
        ("https://qb.example.com", 0, Status.WARNING),
        ("https://qb.example.com", 1, Status.OK),
    ],
)
def test_public_url(engines: list[Engine], sqlite_url: str, url: str, hops: int, status: Status) -> None:
    """A remote http URL is an error (QBWC refuses it), https without QBWC_PROXY_HOPS a warning, localhost fine."""
    found = check(engines, "public_url", sqlite_url, public_url=url, proxy_hops=hops)
    assert found.status is status, found
    if status is Status.ERROR:
        assert "QBWC1051" in found.summary and "https" in (found.fix or "")
    if status is Status.WARNING:
        assert "QBWC_PROXY_HOPS" in (found.fix or "")


def test_secret_key(engines: list[Engine], sqlite_url: str, tmp_path: Path) -> None:
    """A set key passes, a short one warns, a key kept in the database passes, none on an unmigrated one fails."""
    assert check(engines, "secret_key", sqlite_url).status is Status.OK
    short = check(engines, "secret_key", sqlite_url, secret_key="abc")
    assert short.status is Status.WARNING and "3 characters" in short.summary
    fresh = check(engines, "secret_key", sqlite_url, secret_key="")
    assert fresh.status is Status.OK and "first start" in fresh.summary
    engine = make_engine(sqlite_url)
    engines.append(engine)
    session_signing_key(engine)  # what the service's first start does
    kept = check(engines, "secret_key", sqlite_url, secret_key="")
    assert kept.status is Status.OK and "kept in the database" in kept.summary
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    missing = check(engines, "secret_key", f"sqlite:///{empty}", secret_key="")
    assert missing.status is Status.ERROR and "QBWC_SECRET_KEY" in (missing.fix or "")


def test_database(engines: list[Engine], db_url: str, tmp_path: Path) -> None:
    """A migrated database passes; an unmigrated, absent or unreachable one fails with its fix, creating nothing."""
    ok = check(engines, "database", db_url)
    assert ok.status is Status.OK and "migrated to" in ok.summary
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    behind = check(engines, "database", f"sqlite:///{empty}")
    assert behind.status is Status.ERROR and "no migration" in behind.summary
    assert "qbwc-service db upgrade" in (behind.fix or "")
    absent = tmp_path / "nowhere" / "qbwc.sqlite3"
    gone = check(engines, "database", f"sqlite:///{absent}")
    assert gone.status is Status.ERROR and "no SQLite database" in gone.summary
    assert not absent.exists()
    down = check(engines, "database", "postgresql+psycopg://qbwc:hunter2@127.0.0.1:1/qbwc?connect_timeout=2")
    assert down.status is Status.ERROR and "did not answer" in down.summary and "hunter2" not in down.summary
    assert "QBWC_DATABASE_URL" in (down.fix or "")
    skipped = check(engines, "clock", "postgresql+psycopg://qbwc@127.0.0.1:1/qbwc?connect_timeout=2")
    assert skipped.status is Status.SKIPPED


@pytest.mark.parametrize(
    ("offset", "status"), [(timedelta(0), Status.OK), (timedelta(seconds=10), Status.WARNING),
                           (timedelta(minutes=-5), Status.ERROR)]
)  # fmt: skip
def test_clock(engines: list[Engine], db_url: str, offset: timedelta, status: Status) -> None:
    """The database's clock is compared with this host's: seconds apart warn, minutes apart fail."""
    found = doctor_with(engines, db_url, clock=lambda: utcnow() + offset).clock_skew()
    assert found.status is status, found
    if status is not Status.OK:
        assert ("ahead of" if offset < timedelta(0) else "behind") in found.summary and "NTP" in (found.fix or "")


def test_sqlite_with_several_hosts(engines: list[Engine], sqlite_url: str, tmp_path: Path) -> None:
    """SQLite fails with QBWC_HOSTS above 1 or on a network file system; PostgreSQL serves several hosts."""
    assert check(engines, "sqlite_hosts", sqlite_url).status is Status.OK
    many = check(engines, "sqlite_hosts", sqlite_url, hosts=3)
    assert many.status is Status.ERROR and "PostgreSQL" in (many.fix or "")
    assert check(engines, "sqlite_hosts", "postgresql+psycopg://x@127.0.0.1:1/x", hosts=3).status is Status.OK
    folder = Path(sqlite_url.removeprefix("sqlite:///")).parent
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\nfiler:/export {folder} nfs4 rw 0 0\n")
    shared = doctor_with(engines, sqlite_url, mounts=mounts).sqlite_hosts()
    assert shared.status is Status.ERROR and "nfs4" in shared.summary
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\nfiler:/export {folder}/other nfs4 rw 0 0\n")
    assert doctor_with(engines, sqlite_url, mounts=mounts).sqlite_hosts().status is Status.OK


def test_poll_interval(engines: list[Engine], sqlite_url: str, tmp_path: Path) -> None:
    """Each .qwc must run QBWC at least every 15 minutes: a template without it fails, a longer stored one warns."""
    engine = make_engine(sqlite_url)
    engines.append(engine)
    with engine.begin() as conn:
        companies.create_company(conn, "acme", "acme-qbwc", poll_minutes=5)
        companies.create_company(conn, "slow", "slow-qbwc", poll_minutes=5)
    assert check(engines, "poll_interval", sqlite_url).status is Status.OK
    with engine.begin() as conn:
        conn.execute(update(Company).where(Company.name == "slow").values(poll_minutes=60))
    stale = check(engines, "poll_interval", sqlite_url)
    assert stale.status is Status.WARNING and "slow (60 minutes stored)" in stale.summary
    assert "acme" not in stale.summary and "download" in (stale.fix or "")
    with engine.begin() as conn:
        conn.execute(update(Company).where(Company.name == "slow").values(enabled=False))
    assert check(engines, "poll_interval", sqlite_url).status is Status.OK  # a disabled company does not poll
    doctor = doctor_with(engines, sqlite_url)
    doctor.settings = dataclasses.replace(doctor.settings, default_poll_minutes=30)
    assert "QBWC_DEFAULT_POLL_MINUTES=30" in {f.check: f for f in doctor.run()}["poll_interval"].summary
    template = tmp_path / "default.qwc.xml"
    template.write_text("<QBWCXML><AppName>{{ app_name }}</AppName></QBWCXML>")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("qbwc_service.qbwc.qwc.TEMPLATES_DIR", tmp_path)
        broken = check(engines, "poll_interval", sqlite_url)
    assert broken.status is Status.ERROR and "acme's .qwc: no RunEveryNMinutes" in broken.summary


def test_log_dir(engines: list[Engine], sqlite_url: str, tmp_path: Path) -> None:
    """An unset QBWC_LOG_DIR passes, a writable folder passes, a missing one or a file in its place fails."""
    assert check(engines, "log_dir", sqlite_url).status is Status.OK
    assert check(engines, "log_dir", sqlite_url, log_dir=str(tmp_path)).status is Status.OK
    assert not list(tmp_path.glob(".doctor-*"))  # the probe file is gone
    missing = check(engines, "log_dir", sqlite_url, log_dir=str(tmp_path / "absent"))
    assert missing.status is Status.ERROR and "does not exist" in missing.summary
    (tmp_path / "afile").write_text("")
    assert check(engines, "log_dir", sqlite_url, log_dir=str(tmp_path / "afile")).status is Status.ERROR


def test_the_command_prints_fixes_and_fails_on_errors(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor exits 0 on a sound configuration, 1 with an error; --json gives every check with its fix."""
    monkeypatch.setenv("QBWC_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("QBWC_SECRET_KEY", SECRET)
    monkeypatch.setenv("QBWC_PUBLIC_URL", "https://qb.example.com")
    monkeypatch.setenv("QBWC_PROXY_HOPS", "1")
    runner = CliRunner()
    sound = runner.invoke(main, ["doctor"], catch_exceptions=False)
    assert sound.exit_code == 0, sound.output
    assert sound.stdout.count("\nok ") + sound.stdout.startswith("ok ") == 7 and "no errors" in sound.stderr
    monkeypatch.setenv("QBWC_PUBLIC_URL", "http://qb.example.com")
    broken = runner.invoke(main, ["doctor"], catch_exceptions=False)
    assert broken.exit_code == 1 and "ERROR    public_url" in broken.stdout and "fix: serve" in broken.stdout
    as_json = runner.invoke(main, ["doctor", "--json"], catch_exceptions=False)
    document = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and document["ok"] is False
    by_check = {c["check"]: c for c in document["checks"]}
    assert set(by_check) == {
        "public_url",
        "log_dir",
        "sqlite_hosts",
        "database",
        "secret_key",
        "clock",
        "poll_interval",
    }
    assert by_check["public_url"]["status"] == "error" and by_check["public_url"]["fix"]
    assert runner.invoke(main, ["--json", "doctor"]).stdout == as_json.stdout
