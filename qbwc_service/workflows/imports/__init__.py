"""Imports from QuickBooks: customers, items, vendors, accounts, sales tax items and codes, terms,
classes and payment methods.

Each list is read by an iterated query (``import_<list>`` kinds, :mod:`.kinds`) whose pages
are written to ``qb_record`` (:class:`.records.TableSink`); nothing is ever deleted.
:mod:`.runs` starts imports (full, or incremental by modified date) and reads their
progress; :mod:`.reading` lists the records; :mod:`.counts` holds the list sizes against
the edition's limits. See docs/imports.md.

For other workflows: :func:`names` (the names of a list, for forms) and :func:`list_sizes`.
"""

from __future__ import annotations

import functools

from qbwc_service.queue.kinds import JobKind, register
from qbwc_service.workflows.imports.counts import LIST_COUNTS, ListSizes, list_sizes, list_sizes_of
from qbwc_service.workflows.imports.kinds import import_kinds
from qbwc_service.workflows.imports.lists import LISTS, UnknownList, get_list
from qbwc_service.workflows.imports.reading import DEFAULT_PAGE, NameConflict, Page, name_conflicts, names, records
from qbwc_service.workflows.imports.runs import ImportStatus, Started, start_import, status, statuses

__all__ = [
    "DEFAULT_PAGE",
    "LISTS",
    "ImportStatus",
    "ListSizes",
    "NameConflict",
    "Page",
    "Started",
    "UnknownList",
    "get_list",
    "install",
    "list_sizes",
    "list_sizes_of",
    "name_conflicts",
    "names",
    "records",
    "start_import",
    "status",
    "statuses",
]


@functools.cache
def _kinds() -> tuple[JobKind, ...]:
    return (*import_kinds(), LIST_COUNTS)


def install() -> None:
    """Register the import kinds and ``list_counts`` with the queue's registry (harmless twice)."""
    for kind in _kinds():
        register(kind)
