"""The import job kinds: an iterated query of one list whose pages go to ``qb_record``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from qbwc_service.queue.iterate import query_kind
from qbwc_service.queue.steps import Done, JobKind, Next, Step, StepState
from qbwc_service.workflows.imports.lists import LISTS, ImportList
from qbwc_service.workflows.imports.records import TableSink, ret_json
from qbxml_builders import QBResponse
from qbxml_builders.kinds import KINDS


def import_kind(entry: ImportList) -> JobKind:
    """``import_<list>``: the list's ``…_query`` with ``iterate``, each page written to the service's table.

    The pages carry the whole ``…Ret`` of each record (:func:`.records.ret_json`), not the
    flat mapping the result sink keeps.
    """
    query = query_kind(KINDS[entry.query], TableSink(entry))

    def take_answer(state: StepState, response: QBResponse) -> Step:
        step = query.take_answer(state, response)
        if state.answer is None or not isinstance(step, Done | Next) or not step.records:
            return step
        whole = tuple(ret_json(ret) for ret in state.answer if isinstance(ret.tag, str) and ret.tag.endswith("Ret"))
        return dataclasses.replace(step, records=whole)

    def reference(payload: Mapping[str, Any]) -> str | None:
        since = payload.get("from_modified_date")
        return f"{entry.label} modified since {since}" if since else f"all {entry.label}"

    return dataclasses.replace(
        query,
        name=entry.kind,
        description=f"Import the {entry.label} of QuickBooks into the service's records (read only, never deletes).",
        take_answer=take_answer,
        reference=reference,
    )


def import_kinds() -> list[JobKind]:
    """One import kind per list."""
    return [import_kind(entry) for entry in LISTS.values()]
