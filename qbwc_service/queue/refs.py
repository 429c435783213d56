"""References between jobs: a ``{"job": N}`` in a typed payload, where an id of QuickBooks goes.

A ref may stand for a list entry (a ``…_ref`` field: ``{"customer_ref": {"job": 3}}``), a
record's ListID (a ``list_id`` field, as a Mod's own id; an item of a query's ``list_ids``)
or a TxnID (a ``txn_id`` field, as in a payment's ``applied_to``; an item of ``txn_ids``).
One rule serves every typed kind (plain, ensure, Mod, iterated query; see
:func:`.steps.typed_clean`):

- at enqueue the payload is validated with :func:`stand_in` placeholders where the refs
  are, so every other field is checked as usual, and stored with the refs as given;
- the queue makes each named job a dependency (``job_dependency.ref``);
- whenever a step of the job is built, and when its answer is read, the refs are replaced
  by what the dependencies recorded (:func:`resolve_refs`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from qbwc_service.errors import PayloadError

__all__ = ["JobRef", "job_refs", "names_referred_to", "resolve_refs", "restore", "stand_in"]

#: Stands in for a ``{"job": N}`` ref while the rest of the payload is validated.
PLACEHOLDER_ID = "JOB-REF"


@dataclass(frozen=True, slots=True)
class JobRef:
    """A ``{"job": N}`` in a payload: where it sits, the job it names, and the id it stands for."""

    path: tuple[str | int, ...]
    job_id: int
    #: ``ListID`` (a list ref, ``…_ref``, or a ``list_id`` field) or ``TxnID`` (a ``txn_id`` field).
    wants: str

    @property
    def field(self) -> str:
        """The field's path as validation errors name it (``applied_to.0.txn_id``)."""
        return ".".join(str(p) for p in self.path)

    @property
    def by_name(self) -> bool:
        """Whether the ref may go by the FullName its job will create (a ``…_ref``; not a bare id)."""
        return str(self.path[-1]).endswith("_ref")


def is_job_ref(value: Any) -> bool:
    """Whether ``value`` is a ``{"job": N}`` ref."""
    return isinstance(value, Mapping) and len(value) == 1 and type(value.get("job")) is int


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _walk(inner, (*path, key))
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            yield from _walk(inner, (*path, index))


#: Fields (and lists, by their items) whose value is a bare id, by the id they hold.
_BARE = {"list_id": "ListID", "list_id_with_children": "ListID", "list_ids": "ListID", "txn_id": "TxnID",
         "txn_ids": "TxnID"}  # fmt: skip


def job_refs(payload: Mapping[str, Any]) -> list[JobRef]:
    """Every ``{"job": N}`` ref of a payload.

    In a ``…_ref`` field (a list entry), or where an id goes: a ``list_id`` or ``txn_id``
    field (a Mod's record, a payment's ``applied_to``), an item of a query filter's
    ``list_ids`` or ``txn_ids``, a ``list_id_with_children``.
    """
    found = []
    for path, value in _walk(payload, ()):
        if not path or not is_job_ref(value):
            continue
        key = path[-1] if isinstance(path[-1], str) else (path[-2] if len(path) > 1 else None)
        if not isinstance(key, str) or (isinstance(path[-1], int) and not key.endswith("_ids")):
            continue
        if key in _BARE:
            found.append(JobRef(path, value["job"], _BARE[key]))
        elif key.endswith("_ref"):
            found.append(JobRef(path, value["job"], "ListID"))
    return found


def names_referred_to(payload: Mapping[str, Any]) -> set[str]:
    """The FullNames a payload's refs give without a ListID, case-folded (implicit dependencies)."""
    names = set()
    for path, value in _walk(payload, ()):
        if path and isinstance(path[-1], str) and path[-1].endswith("_ref") and isinstance(value, Mapping):
            name = value.get("full_name")
            if isinstance(name, str) and value.get("list_id") is None:
                names.add(name.casefold())
    return names


def _replace(payload: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of ``payload`` with ``value`` at ``path`` (containers on the path copied, the rest shared)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(payload, Mapping) and isinstance(head, str):
        return {**payload, head: _replace(payload[head], rest, value)}
    if isinstance(payload, list | tuple) and isinstance(head, int):
        items = list(payload)
        items[head] = _replace(items[head], rest, value)
        return items
    raise PayloadError("job ref", [f"{'.'.join(str(p) for p in path)}: not found in the payload"])


def _placeholder(ref: JobRef) -> Any:
    return {"list_id": PLACEHOLDER_ID} if ref.by_name else PLACEHOLDER_ID


def stand_in(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[JobRef]]:
    """The payload with a placeholder id where each ``{"job": N}`` ref is, and the refs (for :func:`restore`)."""
    refs = job_refs(payload)
    for ref in refs:
        payload = _replace(payload, ref.path, _placeholder(ref))
    return payload, refs


def restore(clean: Mapping[str, Any], refs: list[JobRef]) -> dict[str, Any]:
    """A payload validated with :func:`stand_in` placeholders, with its refs put back as given."""
    out: Any = clean
    for ref in refs:
        out = _replace(out, ref.path, {"job": ref.job_id})
    return dict(out)


def resolve_refs(kind: str, payload: Mapping[str, Any], known: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """The payload with each ``{"job": N}`` ref replaced by what ``known[N]`` gives for it.

    ``known[N]`` is the dependency's recorded ``result`` (ListID, TxnID, FullName), or
    ``{"FullName": ...}`` for a dependency sent earlier in the same message. A list ref
    becomes ``{"list_id": ListID}``, else ``{"full_name": FullName}``; a ``list_id`` or
    ``txn_id`` field becomes the ListID or TxnID. Raises :class:`PayloadError` naming the
    job whose result lacks the id.
    """
    out: Any = dict(payload)
    problems = []
    for ref in job_refs(payload):
        got = known.get(ref.job_id) or {}
        if not ref.by_name:
            value: Any = got.get(ref.wants)
        elif got.get("ListID"):
            value = {"list_id": got["ListID"]}
        else:
            value = {"full_name": got["FullName"]} if got.get("FullName") else None
        if value is None:
            problems.append(
                f"{ref.field}: job {ref.job_id}, which this one refers to, recorded no {ref.wants} "
                f"(its result: {dict(got) or 'none'}); correct the payload or that job, then retry"
            )
            continue
        out = _replace(out, ref.path, value)
    if problems:
        raise PayloadError(kind, problems)
    return dict(out)
