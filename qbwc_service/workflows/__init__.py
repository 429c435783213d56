"""Workflows over the queue (company setup, imports, documents, schedules).

Each registers its job kinds with :mod:`qbwc_service.queue.kinds`; the queue never imports
them. :func:`install` registers every workflow's kinds: the application factory calls it
(so every process serving the SOAP endpoint knows them), and so do the CLI commands that
queue or list jobs.
"""

from __future__ import annotations

__all__ = ["install"]


def install() -> None:
    """Register every workflow's job kinds (cheap and harmless when done already)."""
    from qbwc_service.workflows import documents, imports, setup  # imported here: the package itself stays light

    imports.install()
    setup.register_kinds()
    documents.register_kinds()
