"""Write ``docs/qbxml.md`` from the registry.

Run ``python -m qbxml_builders._docgen > docs/qbxml.md``.
"""

from __future__ import annotations

import enum
import inspect
import sys
import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ._fields import Payload
from ._render import plan
from .kinds import KINDS

INTRO = """\
# qbXML request kinds

Generated from `qbxml_builders.kinds.KINDS` by `python -m qbxml_builders._docgen`; do not
edit by hand (a test checks that this file is current).

Each kind is a frozen pydantic payload model. `validate_payload(kind, data)` checks a JSON
payload and raises `PayloadValidationError` whose `errors` name each faulty field
(`lines.0.amount: must have at most 2 decimal places, got 1.005`);
`build_request(kind, data, version=, country=)` returns the `…Rq` element and
`preview(kind, data, ...)` the whole document the service would send for such a job (but for
the requestID), `onError="continueOnError"` (`SERVICE_ON_ERROR`) included.
`kinds_json_schema()` publishes every payload's JSON Schema. Example payloads: `qbxml_builders.examples.EXAMPLES`.

## Rules every kind follows

- Elements come out in schema order; every example validates against the qbXML 13.0 and
  16.0 XSDs (`tests/builders/test_schema_valid.py`).
- Text is escaped by lxml; non-ASCII survives; characters XML cannot carry are refused.
- Lengths are the XSD's `maxLength` (names: 41 for customers and vendors, 31 for items and
  accounts, 3 for sales tax codes; RefNumber 11, 20 for payments; address lines 41, city 31,
  state 21, postal code 13). List names may not contain a colon.
- Money (`AMTTYPE`) takes at most 2 decimals and is sent with exactly two; prices,
  quantities and percentages take up to 5. Dates are ISO (`2024-05-31`), timestamps ISO
  without microseconds (`FromModifiedDate` is read as QuickBooks' local time).
- References (`…_ref`) are `{"list_id": ...}`, `{"full_name": ...}` or both (ListID wins).
- **Version and country.** A field marked *since X* does not exist before qbXML X, and one
  marked with editions exists only there. Asking for it elsewhere raises `VersionError`
  naming the field; nothing is dropped silently. Older versions are produced by leaving out
  what they lack: a payload that uses only old fields builds for any version.
  Sources: the `since` versions of Addr4/Addr5/Note, IsToBeEmailed, IsTaxIncluded, Other,
  Other1/2, SalesTaxCountry, Notes and IncludeRetElement come from the version tables of
  consolibyte/quickbooks-php; iterators (5.0), UnitOfMeasure (7.0), multi-currency and
  ExternalGUID (8.0), class, bar code and contact fields (12.0) and the country columns come
  from Intuit's qbXML reference as we read it. Fields not marked are sent to every version.
- Sales tax preferences cannot be changed through qbXML. `preferences_query` (and
  `read_hcp(...).sales_tax_enabled`) tells whether sales tax is on; when it is off, show
  `SALES_TAX_OFF_MESSAGE` to the user. In US editions a tax agency is an ordinary vendor named
  as a sales tax item's `tax_vendor_ref`; in CA/UK editions the vendor says so itself
  (`is_sales_tax_agency` and the tax return fields).
- Mods need the `edit_sequence` QuickBooks last returned; a stale one fails with 3200
  (`stale_edit_sequence`). A `…_mod` *job* of the service may leave it out: the job reads
  the record first (see docs/architecture.md). A Mod that gives `lines` replaces every line: `txn_line_id`
  `"-1"` adds a line, lines left out are deleted.
- Rules across fields (one of two fields, at most one of several, one field only with
  another) are listed under each kind and shape; `kinds_json_schema()` states them too, as
  an `allOf` of `anyOf`s, so a payload the published schema accepts is one the validator
  accepts, but for the rules listed in [What the JSON Schemas cannot say](#what-the-json-schemas-cannot-say).
- Queries take one of: IDs (`list_ids`/`txn_ids`), names or RefNumbers, or filters. Where
  the schema allows it, `iterator="Start"` with `max_returned`, then `iterator="Continue"`
  with `iterator_id`, pages through results until `iteratorRemainingCount` is 0. A `…_query`
  *job* of the service does this itself with `"iterate": true`.

## What the JSON Schemas cannot say

The published schemas state lengths, the characters XML cannot carry, colons and blank
names, number formats and every rule across fields listed below each kind. These rules they
cannot state; the validator (or the build) refuses a payload that breaks them:

- **Version and country**: a field marked *since X* or with editions is refused when building
  for an older version or another edition (`VersionError`); a schema does not know the target.
- **Numbers**: the schemas offer money, prices, quantities and rates as a whole JSON number
  or a decimal string (`"45.50"`). The validator also reads a JSON number with a fraction
  (`45.5`) as its shortest decimal form; the schemas do not offer one, since JSON Schema's
  `multipleOf` is float arithmetic and would pass `1999.8700000000001`.
{unstated}

## Responses

- `parse_response(data)` reads a whole `QBXMLMsgsRs` document; `iter_responses(source)`
  streams one (bytes, str, path or binary file), freeing each `…Ret` as it goes. Both refuse
  DTDs, resolve no entity, reach no network, refuse huge text nodes and documents over
  `max_bytes` (64 MiB by default), raising `ResponseError`.
- Each `QBResponse` has `request_id`, `status_code`, `severity`, `message`, `objects`
  (each `…Ret` flattened: simple fields as text, `…Ref` as its FullName), `iterator_id`,
  `iterator_remaining`, `ids()` (ListID/TxnID, EditSequence, names, RefNumber), `ok`,
  `empty` (status 1: no match, not an error), `more`, `classification` and `info`.
- `classify(code, severity)`: `success` (0, 1, 500, 530 and any Info/Warn), `already_exists`
  (3100), `missing_reference` (3140), `stale_edit_sequence` (3200), `retryable` (3170,
  3175, 3176, 3180, 3231, 3391, 9001), `permanent` (3000, 3040, 3070, 3090, 3120, 3210, 3250,
  3260, 3261 and unknown errors), each with a plain-language explanation.
- `response_to_json(responses)` gives, per request: request_id, name, status_code,
  severity, message, classification, explanation, ok, iterator state and objects.
- `read_hcp(strHCPResponse)` reads product, country, supported versions
  (`best_version()`), company name and whether sales tax is on.
"""


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (types.UnionType, typing.Union):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " | ".join(names)
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if origin is typing.Literal:
        return " / ".join(f"`{a}`" for a in args)
    if inspect.isclass(annotation):
        return annotation.__name__
    return str(annotation)


def _limit(info: FieldInfo) -> str:
    for meta in info.metadata:
        limit = getattr(meta, "max_length", None)
        if limit:
            return f"≤ {limit} chars"
    args = typing.get_args(info.annotation)
    for arg in args:
        for meta in getattr(arg, "__metadata__", ()):
            limit = getattr(meta, "max_length", None)
            if limit:
                return f"≤ {limit} chars"
    return ""


def _rows(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    if not issubclass(model, Payload):
        return
    fields = model.model_fields
    for field in plan(model):
        info = fields[field.name]
        rules = []
        if info.is_required():
            rules.append("**required**")
        if field.attr:
            rules.append(f"attribute `{field.attr}`")
        elif not field.skip:
            rules.append(f"`{field.tag}`")
        if field.since_text:
            rules.append(f"since {field.since_text}")
        if field.countries:
            rules.append("only " + "/".join(sorted(c.value for c in field.countries)))
        limit = _limit(info)
        if limit:
            rules.append(limit)
        yield f"| `{prefix}{field.name}` | {_type_name(info.annotation)} | {', '.join(rules)} |"


def _nested(model: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []

    def walk(annotation: object) -> None:
        if inspect.isclass(annotation) and issubclass(annotation, Payload):
            if annotation in found:
                return
            found.append(annotation)
            for info in annotation.model_fields.values():
                walk(info.annotation)
        for arg in typing.get_args(annotation):
            walk(arg)

    for info in model.model_fields.values():
        walk(info.annotation)
    return found


def _enums() -> set[type[enum.Enum]]:
    found: set[type[enum.Enum]] = set()

    def walk(annotation: object) -> None:
        if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
            found.add(annotation)
        for arg in typing.get_args(annotation):
            walk(arg)

    for kind in KINDS.values():
        for model in (kind.payload_model, *_nested(kind.payload_model)):
            for info in model.model_fields.values():
                walk(info.annotation)
    return found


def _rules(model: type[BaseModel]) -> list[str]:
    """The rules across ``model``'s fields, as lines under its table."""
    if not issubclass(model, Payload):
        return []
    lines = [f"- {rule.describe()}" for rule in model.field_rules()]
    lines += [f"- {rule} (not in the JSON Schema)" for rule in model.unstated_rules]
    return ["\nRules across fields:\n", *lines] if lines else []


def _unstated() -> str:
    """Every model's rules no JSON Schema can say, one line each."""
    models: dict[str, type[BaseModel]] = {}
    for kind in KINDS.values():
        for model in (kind.payload_model, *_nested(kind.payload_model)):
            models.setdefault(model.__name__, model)
    lines = [
        f"- **{name}**: {rule}."
        for name, model in sorted(models.items())
        if issubclass(model, Payload)
        for rule in model.unstated_rules
    ]
    return "\n".join(lines)


def render() -> str:
    """The whole markdown document."""
    out = [
        INTRO.replace("{unstated}", _unstated()),
        "## Kinds\n",
        "| kind | request | since | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for name, kind in KINDS.items():
        editions = f" ({'/'.join(sorted(c.value for c in kind.countries))})" if kind.countries else ""
        out.append(f"| [`{name}`](#{name}) | `{kind.request_tag}` | {kind.since}{editions} | {kind.description} |")
    shared: dict[str, type[BaseModel]] = {}
    for name, kind in KINDS.items():
        model = kind.payload_model
        out += [
            f"\n### {name}\n",
            f"`{kind.request_tag}`"
            + (f" > `{kind.body_tag}`" if kind.body_tag else "")
            + f" — payload `{model.__module__}.{model.__name__}`. {kind.description}\n",
            "| field | type | element and rules |",
            "| --- | --- | --- |",
            *_rows(model),
            *_rules(model),
        ]
        for sub in _nested(model):
            shared.setdefault(sub.__name__, sub)
    out.append("\n## Enumerations (QuickBooks' own values)\n")
    for choices in sorted(_enums(), key=lambda e: e.__name__):
        values = ", ".join(f"`{m.value}`" for m in choices)
        out.append(f"- **{choices.__name__}**: {values}")
    out.append("\n## Shared shapes\n")
    for sub_name, sub in sorted(shared.items()):
        doc = (sub.__doc__ or "").strip().splitlines()[0]
        out += [
            f"\n### {sub_name}\n",
            f"{doc}\n",
            "| field | type | element and rules |",
            "| --- | --- | --- |",
            *_rows(sub),
            *_rules(sub),
        ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
