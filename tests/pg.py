"""Where the PostgreSQL tests find their server: the one decision the suite and ``.ci/run`` share.

``QBWC_TEST_POSTGRES_URL`` names the server when it is set (set and empty, like
``QBWC_TEST_POSTGRES=off``, turns the PostgreSQL tests off). Otherwise the local server CI
and developers' machines run, :data:`DEFAULT_URL`, is used when it answers within
:data:`CONNECT_TIMEOUT` seconds. Without one the PostgreSQL tests skip, saying why.
``python -m tests.pg`` prints what this machine gets.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT = 2  # seconds: a machine without PostgreSQL waits no longer than this once


@dataclass(frozen=True, slots=True)
class Detected:
    """The PostgreSQL the tests use (``url``) and how it was found, or ``None`` and why they skip."""

    url: str | None
    reason: str

    def describe(self) -> str:
        """One line for the pytest header and ``.ci/run``."""
        if self.url is None:
            return f"PostgreSQL tests skip: {self.reason}"
        return f"PostgreSQL tests run on {shown(self.url)} ({self.reason})"


def detect(environ: Mapping[str, str], default: str = DEFAULT_URL) -> Detected:
    """Decide from ``environ`` and, when it names no server, by trying ``default``."""
    if environ.get("QBWC_TEST_POSTGRES", "").strip().lower() == "off":
        return Detected(None, "QBWC_TEST_POSTGRES=off turns them off")
    if "QBWC_TEST_POSTGRES_URL" in environ:
        url = environ["QBWC_TEST_POSTGRES_URL"].strip()
        if not url:
            return Detected(None, "QBWC_TEST_POSTGRES_URL is set and empty, which turns them off")
        return Detected(url, "named by QBWC_TEST_POSTGRES_URL")
    try:
        libpq = make_url(default).set(drivername="postgresql").render_as_string(hide_password=False)
        psycopg.connect(libpq, connect_timeout=CONNECT_TIMEOUT).close()
    except psycopg.Error as exc:
        error = " ".join(str(exc).split()) or exc.__class__.__name__
        return Detected(None, f"no PostgreSQL at {shown(default)}: {error}; set QBWC_TEST_POSTGRES_URL")
    return Detected(default, "it answered")


@functools.cache
def detected() -> Detected:
    """:func:`detect` on this process's environment, asked once per test session."""
    return detect(os.environ)


def shown(url: str | None) -> str:
    """``url`` as it may be printed: its password hidden."""
    return make_url(url).render_as_string(hide_password=True) if url else "<none>"


if __name__ == "__main__":
    print(detected().describe())
