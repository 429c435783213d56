"""``…_mod`` kinds whose payload may leave out the EditSequence: the job reads it first.

QuickBooks changes a record only when the Mod carries the record's current EditSequence.
A Mod job that gives one is sent as it is (a stale one fails with 3200, as QuickBooks says).
One that gives none runs as steps in one session:

1. it queries the record by its ListID (or TxnID) and keeps the EditSequence found;
2. it sends the Mod with it. Answered 3200 (someone changed the record in between), it
   takes the current EditSequence the answer carries (or queries again when it carries
   none) and resends, at most :data:`MAX_STALE` times, then fails with a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from qbwc_service.errors import PayloadError
from qbwc_service.queue.refs import stand_in
from qbwc_service.queue.steps import Done, Failed, JobKind, Next, Step, StepState, typed_clean, typed_model
from qbxml_builders import QBResponse
from qbxml_builders.kinds import KINDS, RequestKind, build_request
from qbxml_builders.responses import classify

#: QuickBooks' status for a Mod whose EditSequence is out of date.
STALE = 3200
#: How many times a Mod answered 3200 is sent again with the EditSequence read anew.
MAX_STALE = 3
#: Stands for the EditSequence while a payload without one is validated (never sent).
_PLACEHOLDER = "0"


def applies(spec: RequestKind) -> bool:
    """Whether ``spec`` is a Mod whose payload model requires an EditSequence."""
    return spec.name.endswith("_mod") and "edit_sequence" in spec.payload_model.model_fields


def _id_field(spec: RequestKind) -> tuple[str, str]:
    """The payload field naming the record and the query field matching it."""
    return ("list_id", "list_ids") if "list_id" in spec.payload_model.model_fields else ("txn_id", "txn_ids")


def mod_kind(spec: RequestKind) -> JobKind:
    """The ``…_mod`` job kind over ``spec``, reading the EditSequence when the payload has none."""
    prefix = spec.name.removesuffix("_mod")
    id_field, query_field = _id_field(spec)
    what = spec.description.removeprefix("Change ").rstrip(".")
    label = "ListID" if id_field == "list_id" else "TxnID"

    def model(payload: Mapping[str, Any], edit_sequence: str | None = None) -> Any:
        data = dict(payload)
        if edit_sequence is not None:
            data["edit_sequence"] = edit_sequence
        return typed_model(spec, data)

    def validate(payload: Mapping[str, Any]) -> dict[str, Any]:
        if payload.get("edit_sequence") is not None:
            return typed_clean(spec, payload)
        clean = typed_clean(spec, {**payload, "edit_sequence": _PLACEHOLDER})
        del clean["edit_sequence"]
        return clean

    def build(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
        if payload.get("edit_sequence") is None:
            return query(payload, version, country)
        return spec.build(model(payload), version=version, country=country)

    def query(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
        ident = payload.get(id_field)
        if not ident:
            raise PayloadError(spec.name, [f"{id_field}: required"])
        return build_request(f"{prefix}_query", {query_field: [ident]}, version=version, country=country)

    def steps(state: StepState, version: str, country: str) -> etree._Element:
        if state.payload.get("edit_sequence") is not None:
            return build(state.payload, version, country)
        current = (state.progress or {}).get("edit_sequence")
        if current:
            return spec.build(model(state.payload, str(current)), version=version, country=country)
        return query(state.payload, version, country)

    def take_answer(state: StepState, response: QBResponse) -> Step:
        ident = state.payload.get(id_field)
        if state.payload.get("edit_sequence") is not None:
            if response.status_code == STALE:
                return Failed(f"QuickBooks status {STALE}: {response.message}. {classify(STALE).explanation}")
            return Done(response.ids() or None)
        progress = state.progress or {}
        tries = int(progress.get("tries", 0))
        if not progress.get("edit_sequence"):  # the answer to the query
            found = response.ids().get("EditSequence")
            if not found:
                return Failed(
                    f"QuickBooks has no {what.removeprefix('a ').removeprefix('an ')} with {label} {ident}: "
                    "it may have been deleted there. Correct the job's id, then retry."
                )
            return Next(
                {"edit_sequence": found, "tries": tries},
                f"read {ident}: its current EditSequence is {found}; sending the change with it",
            )
        if response.status_code != STALE:
            return Done(response.ids() or None)
        tries += 1
        if tries >= MAX_STALE:
            return Failed(
                f"{what.capitalize()} {ident} was changed in QuickBooks each of the {tries} times this change was "
                f"sent (status {STALE}, EditSequence out of date). Retry the job once nobody is editing it."
            )
        current = response.ids().get("EditSequence")
        if current:
            return Next(
                {"edit_sequence": current, "tries": tries},
                f"{ident} was changed in QuickBooks since it was read (status {STALE}): sending the change again "
                f"with its current EditSequence {current} (try {tries + 1} of {MAX_STALE})",
            )
        return Next(
            {"tries": tries},
            f"{ident} was changed in QuickBooks since it was read (status {STALE}): reading it again",
        )

    def reference(payload: Mapping[str, Any]) -> str | None:
        return spec.reference(model(stand_in(payload)[0], payload.get("edit_sequence") or _PLACEHOLDER))

    return JobKind(
        spec.name,
        spec.description + " Without an edit_sequence, the record is read first and its current one is used.",
        validate,
        build,
        reference,
        steps=steps,
        take_answer=take_answer,
        reads_status=frozenset({STALE}),
        schema=lambda: _schema(spec),
    )


def _schema(spec: RequestKind) -> dict[str, Any]:
    """The Mod's JSON Schema with the EditSequence optional."""
    schema = spec.payload_model.model_json_schema()
    schema["required"] = [r for r in schema.get("required", []) if r != "edit_sequence"]
    return schema


def mod_kinds() -> dict[str, JobKind]:
    """Every Mod of :mod:`qbxml_builders` as a job kind, by name."""
    return {name: mod_kind(spec) for name, spec in KINDS.items() if applies(spec)}
