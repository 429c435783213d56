"""The browser tier's shared fixture: Debian's chromium through Playwright (never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium (never a downloaded one), or a skip when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        found = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield found
        found.close()
