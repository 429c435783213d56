"""The container image, built and run where Docker can run: a Web Connector session through it.

Elsewhere the test skips saying why; ``tests/unit/test_deploy_files.py`` still lints and checks
the Dockerfile and compose.yaml.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from qbwc_service.simulator import QuickBooksEmulator
from qbwc_service.simulator.webconnector import Outcome, WebConnector
from tests.emulator.conftest import needs_spec
from tests.helpers import customer_add, free_port

pytestmark = [pytest.mark.slow, needs_spec]
ROOT = Path(__file__).resolve().parents[2]
IMAGE = "qbwc-service:test"


def docker() -> str:
    """The docker client, when its daemon answers; otherwise skip with the reason."""
    client = shutil.which("docker")
    if client is None:
        pytest.skip("no docker client on this machine")
    info = subprocess.run([client, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    if info.returncode != 0:
        why = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        pytest.skip(f"Docker cannot run containers here: {why}")
    return client


@pytest.fixture(scope="module")
def container() -> Iterator[tuple[str, str, str]]:
    """The image built from this repository, running on SQLite in its volume: (docker, name, base URL)."""
    client = docker()
    build = subprocess.run([client, "build", "-t", IMAGE, str(ROOT)], capture_output=True, text=True, timeout=1800,
                           check=False)  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    name, port = f"qbwc-test-{uuid.uuid4().hex[:8]}", free_port()
    subprocess.run([client, "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000",
                    "-e", "QBWC_SECRET_KEY=" + uuid.uuid4().hex * 2, IMAGE], check=True, capture_output=True,
                   timeout=120)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            logs = subprocess.run([client, "logs", name], capture_output=True, text=True, check=False)
            pytest.fail("the container did not answer /healthz: " + logs.stderr[-3000:])
        yield client, name, base
    finally:
        subprocess.run([client, "rm", "-f", "-v", name], capture_output=True, check=False, timeout=120)


def in_container(client: str, name: str, *args: str, stdin: str | None = None) -> dict[str, object]:
    """A ``qbwc-service --json`` command run inside the container, its JSON answer."""
    run = subprocess.run([client, "exec", "-i", name, "qbwc-service", "--json", *args], input=stdin,
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    answer: dict[str, object] = json.loads(run.stdout)
    return answer


def test_a_web_connector_session_through_the_container(container: tuple[str, str, str]) -> None:
    """The container migrated on start, runs as non-root, reports healthy and serves a whole QBWC session."""
    client, name, base = container
    user = subprocess.run([client, "exec", name, "id", "-u"], capture_output=True, text=True, check=True)
    assert user.stdout.strip() != "0"
    created = in_container(client, name, "company", "create", "acme", "--username", "acme-qbwc")
    job = in_container(client, name, "enqueue", "acme", "qbxml", "--xml", "-", stdin=customer_add("Zoë"))
    connector = WebConnector(base + "/qbwc", "acme-qbwc", str(created["token"]), QuickBooksEmulator(),
                             noop_delay=0.0)  # fmt: skip
    try:
        report = connector.run_session()
    finally:
        connector.close()
    assert report.outcome == Outcome.DONE, report.detail
    assert in_container(client, name, "job", "show", str(job["id"]))["state"] == "done"
    doctor = subprocess.run([client, "exec", name, "qbwc-service", "--json", "doctor"], capture_output=True,
                            text=True, check=False)  # fmt: skip
    checks = {c["check"]: c["status"] for c in json.loads(doctor.stdout)["checks"]}
    assert checks["database"] == "ok" and checks["secret_key"] == "ok"
