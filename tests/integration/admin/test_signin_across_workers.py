"""The defect "sign-in fails after `make run`": two gunicorn workers, no QBWC_SECRET_KEY, sign-ins that hold."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import AppSecret
from tests.integration.admin.factories import ADMIN, PASSWORD, make_user

pytestmark = pytest.mark.slow

CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGNED_IN_PAGES = ["/jobs", "/companies", "/sessions", "/jobs", "/companies"]
#: Every request on a new connection, so the kernel hands each to whichever worker accepts first.
CLOSE = {"Connection": "close"}
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


class Served:
    """``qbwc-service serve`` (what ``make run`` starts) running with its logs in files."""

    def __init__(self, tmp_path: Path) -> None:
        self.access_log = tmp_path / "access.log"
        self.server_log = tmp_path / "server.log"
        self.base = ""

    def pids(self, path: str | None = None) -> Counter[str]:
        """How many requests (for ``path``, else any) each worker answered, from the access log."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return Counter(line.split()[0] for line in lines if path is None or f" {path} " in line)


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[Served]:
    """Two workers on a migrated SQLite file with an admin user, QBWC_SECRET_KEY absent, both answering."""
    engine = make_engine(sqlite_url)
    make_user(engine, ADMIN, "admin")
    engine.dispose()
    server = Served(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QBWC_", "GUNICORN_"))}
    env |= {
        "QBWC_DATABASE_URL": sqlite_url,
        "QBWC_LOG_LEVEL": "INFO",
        # Extra gunicorn settings on top of `serve`'s; no control socket shared with other servers in $HOME.
        "GUNICORN_CMD_ARGS": f"--access-logfile {shlex.quote(str(server.access_log))} "
        "--access-logformat '%(p)s %(r)s %(s)s' --no-control-socket",
    }
    # Port 0: the system picks a free one (no race with other tests), and gunicorn logs which.
    command = [str(Path(sys.executable).with_name("qbwc-service")), "serve", "--bind", "127.0.0.1:0"]
    with server.server_log.open("wb") as log:
        proc = subprocess.Popen([*command, "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while len(server.pids("/healthz")) < 2:
            assert proc.poll() is None, server.server_log.read_text()
            assert time.monotonic() < deadline, "both workers did not answer within 60 s"
            listening = LISTENING.search(server.server_log.read_text())
            if listening is None:
                time.sleep(0.1)
                continue
            server.base = listening.group(1)
            try:
                requests.get(server.base + "/healthz", headers=CLOSE, timeout=10)
            except requests.RequestException:
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_every_sign_in_holds_whichever_worker_answers(served: Served, sqlite_url: str) -> None:
    """Ten sign-ins against two workers without QBWC_SECRET_KEY each open every staff page, and log out with CSRF."""
    for n in range(10):
        with requests.Session() as http:
            http.headers.update(CLOSE)
            form = http.get(served.base + "/login", timeout=30)
            assert form.status_code == 200
            token = CSRF_TOKEN.search(form.text)
            assert token is not None
            data = {"csrf_token": token.group(1), "email": ADMIN, "password": PASSWORD}
            signed_in = http.post(served.base + "/login", data=data, allow_redirects=False, timeout=30)
            assert (n, signed_in.status_code, signed_in.headers.get("Location")) == (n, 302, "/dashboard")
            for path in SIGNED_IN_PAGES:
                page = http.get(served.base + path, allow_redirects=False, timeout=30)
                assert (n, path, page.status_code) == (n, path, 200)
            token = CSRF_TOKEN.search(page.text)  # the log-out form's token, made by whichever worker answered
            assert token is not None
            out = http.post(
                served.base + "/logout", data={"csrf_token": token.group(1)}, allow_redirects=False, timeout=30
            )
            assert (n, out.status_code, out.headers.get("Location")) == (n, 302, "/login")
    if len(served.pids("/jobs")) < 2:
        _pages_from_both_workers(served)
    answered = served.pids("/jobs")
    assert len(answered) == 2, answered  # both workers served signed-in pages
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        key = conn.execute(select(AppSecret.value)).scalar_one()
    engine.dispose()
    log = served.server_log.read_text()
    assert log.count("info session_signing_key_from_database") == 2, log  # one line per worker
    assert key not in log


def _pages_from_both_workers(served: Served) -> None:
    """Load a signed-in page four at a time until both workers have served it (each answers 200).

    A sync worker takes the connections it gets to first, so ten sign-ins in a row may all
    reach one worker; with requests in parallel the other takes those the busy one cannot.
    """
    with requests.Session() as http:
        http.headers.update(CLOSE)
        token = CSRF_TOKEN.search(http.get(served.base + "/login", timeout=30).text)
        assert token is not None
        data = {"csrf_token": token.group(1), "email": ADMIN, "password": PASSWORD}
        assert http.post(served.base + "/login", data=data, allow_redirects=False, timeout=30).status_code == 302
        cookies = http.cookies.get_dict()

    def load(_: int) -> int:
        page = requests.get(served.base + "/jobs", cookies=cookies, headers=CLOSE, allow_redirects=False, timeout=30)
        return page.status_code

    with ThreadPoolExecutor(4) as pool:
        for _ in range(50):
            assert list(pool.map(load, range(4))) == [200] * 4
            if len(served.pids("/jobs")) == 2:
                return
