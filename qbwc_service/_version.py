"""The service's version, apart from the package's ``__init__`` (whose ``create_app`` reaches every part)."""

from __future__ import annotations

__version__ = "0.1.0"
