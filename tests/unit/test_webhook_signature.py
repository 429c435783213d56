"""The README's way of verifying a webhook accepts what the service signs, and nothing else."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from qbwc_service.alerts.deliver import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_verify() -> Any:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    code = next(b for b in blocks if "def verify(" in b)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 (our own README's example, run to prove it right)
    return namespace["verify"]


def test_the_documented_verification_accepts_our_signature_only() -> None:
    """A body signed by ``sign`` verifies; another secret, a changed body or an old timestamp does not."""
    verify = _readme_verify()
    body = b'{"event": "incident.opened"}'
    stamp = str(int(time.time()))
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign("s3cret", stamp, body)}
    assert verify("s3cret", headers, body)
    assert not verify("other", headers, body)
    assert not verify("s3cret", headers, body + b" ")
    old = str(int(time.time()) - 3600)
    assert not verify("s3cret", {TIMESTAMP_HEADER: old, SIGNATURE_HEADER: sign("s3cret", old, body)}, body)
