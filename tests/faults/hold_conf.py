"""gunicorn settings for the fault tests: the service's own, plus a place to hold a worker.

Test-only, and never loaded by the service: the fault tests start gunicorn with
``-c python:tests.faults.hold_conf``. Each worker, once it has loaded the application,
wraps two functions so that a test can stop it at a chosen point of a call and then
``kill -9`` it there:

- ``send``: after :meth:`Protocol.send_request_xml` has leased the jobs and committed,
  before the answer is written to the Web Connector;
- ``receive``: in :meth:`Protocol.receive_response_xml`, after :func:`jobs.settle` has
  run its UPDATEs for QuickBooks' answer, before the transaction commits.

A test arms a point by creating the file ``arm-<point>`` in the folder named by the
environment variable ``FAULT_HOLD_DIR``. The first worker to reach the point renames it
to ``held-<point>`` (one rename wins), writes its pid there and stops itself with
SIGSTOP. Without the variable, or with nothing armed, the wrappers only pass through.
"""

from __future__ import annotations

import functools
import os
import signal
from pathlib import Path
from typing import Any

from qbwc_service.gunicorn_conf import *  # noqa: F403 (the service's settings, unchanged)
from qbwc_service.gunicorn_conf import post_worker_init as _service_post_worker_init

HOLD_DIR_ENV = "FAULT_HOLD_DIR"


def hold(point: str) -> None:
    """Stop this process here when ``point`` is armed (see the module)."""
    folder = os.environ.get(HOLD_DIR_ENV)
    if not folder:
        return
    armed, held = Path(folder) / f"arm-{point}", Path(folder) / f"held-{point}"
    try:
        armed.rename(held)
    except FileNotFoundError:
        return
    held.write_text(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGSTOP)


def _after(func: Any, point: str) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        hold(point)
        return result

    return wrapper


def post_worker_init(worker: Any) -> None:
    """The service's start-up, then the two holding points."""
    from qbwc_service.qbwc.protocol import Protocol
    from qbwc_service.queue import jobs

    Protocol.send_request_xml = _after(Protocol.send_request_xml, "send")  # type: ignore[method-assign]
    jobs.settle = _after(jobs.settle, "receive")
    _service_post_worker_init(worker)
