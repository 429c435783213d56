"""The real service under gunicorn, started on a free localhost port for simulations and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from qbwc_service.simulator.errors import SimulatorError

#: The service's gunicorn settings (``qbwc-service serve`` uses them too).
CONFIG = "qbwc_service.gunicorn_conf"


def free_port() -> int:
    """A TCP port on localhost nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    """The resident set of one process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """The CPU time one process has used so far, user and system, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServedService:
    """``gunicorn`` serving ``qbwc_service:create_app()`` with ``workers`` workers on ``database_url``.

    ``env`` adds ``QBWC_*`` settings (or anything else the workers read); ``config`` names
    the gunicorn settings module. Use it as a context manager: it waits for ``/healthz``
    and stops the server (master and workers) on leaving.
    """

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 2,
        env: Mapping[str, str] | None = None,
        config: str = CONFIG,
        access_log: Path | None = None,
        access_format: str = "%(p)s %(r)s",
        error_log: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/qbwc"
        environ = {
            **os.environ,
            "QBWC_DATABASE_URL": database_url,
            "QBWC_LOG_LEVEL": "WARNING",
            "QBWC_SECRET_KEY": "simulation",
            **(env or {}),
        }
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        args = [gunicorn, "-c", f"python:{config}", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}"]
        if access_log is not None:
            args += ["--access-logfile", str(access_log), "--access-logformat", access_format]
        else:
            args += ["--access-logfile", "/dev/null"]
        # gunicorn's own log and the service's (which writes to stderr) go to ``error_log``.
        log = open(error_log, "ab") if error_log is not None else None  # noqa: SIM115 (the child keeps it)
        try:
            self.process = subprocess.Popen(
                [*args, "qbwc_service:create_app()"],
                env=environ,
                stdout=subprocess.DEVNULL,
                stderr=log if log is not None else subprocess.DEVNULL,
            )
        finally:
            if log is not None:
                log.close()

    def __enter__(self) -> ServedService:
        self.wait_healthy()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Return once ``/healthz`` answers 200; raise when the server died or never did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SimulatorError(f"gunicorn exited with status {self.process.returncode}")
            try:
                if requests.get(self.base + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise SimulatorError("gunicorn did not answer /healthz in time")

    def worker_pids(self) -> list[int]:
        """The pids of the workers serving now (the master's children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def wait_workers(self, count: int, timeout: float = 60.0) -> list[int]:
        """The worker pids once ``count`` of them run (after a kill, gunicorn starts another)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) >= count:
                return pids
            time.sleep(0.05)
        raise SimulatorError(f"gunicorn did not get back to {count} workers")

    def stop(self) -> None:
        """Stop master and workers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
