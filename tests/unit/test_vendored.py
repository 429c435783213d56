"""The vendored htmx is the release its README names, unchanged, with its license beside it."""

from __future__ import annotations

import hashlib
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "qbwc_service" / "static" / "vendor" / "htmx"


def test_vendored_htmx_is_the_named_release_unchanged() -> None:
    """htmx.min.js hashes to the sha256 in README.md and declares the version it names; LICENSE is 0BSD."""
    script = (VENDOR / "htmx.min.js").read_bytes()
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(script).hexdigest() in readme
    assert b'version:"2.0.11"' in script and "version **2.0.11**" in readme
    assert "Zero-Clause BSD" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
