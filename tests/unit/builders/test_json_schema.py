"""The published JSON Schemas refuse what the validator refuses: payloads drawn from them build."""

from __future__ import annotations

import functools
import typing
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from qbxml_builders import KINDS, VersionError, _rules, check_document, kinds_json_schema, preview
from qbxml_builders._fields import Payload
from qbxml_builders._rules import Rule

#: Payloads drawn per kind. hypothesis-jsonschema takes up to 5 s to read an invoice's schema and
#: about 0.1 s a payload (0.4 s with invoice lines): the 49 kinds together stay under a minute.
EXAMPLES_PER_KIND = 8
#: Every payload model a kind reaches, nested shapes included.
MODELS: set[type[Payload]] = set()


def _collect(model: type[Any]) -> None:
    if not (isinstance(model, type) and issubclass(model, Payload)) or model in MODELS:
        return
    MODELS.add(model)
    for info in model.model_fields.values():
        for arg in _args(info.annotation):
            _collect(arg)


def _args(annotation: object) -> list[object]:
    out = [annotation]
    for arg in typing.get_args(annotation):
        out += _args(arg)
    return out


for _kind in KINDS.values():
    _collect(_kind.payload_model)


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    """Every kind's JSON Schema, as ``qbwc-service qbxml kinds --json`` prints it."""
    return kinds_json_schema()


#: The lone surrogates a pattern refuses; hypothesis-jsonschema's UTF-8 alphabet never draws one.
SURROGATES = r"\uD800-\uDFFF"
#: Keywords that validate nothing, dropped to keep hypothesis-jsonschema's per-draw work small.
ANNOTATIONS = {"title", "description", "default"}
#: The most items a drawn list holds (at least its minItems): long lists only cost time.
ARRAY_ITEMS = 1
#: What a field rule says of a property (see qbxml_builders._rules).
PRESENT = _rules._PRESENT
LEFT_OUT = _rules._LEFT_OUT


def _fragments(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """A rule's alternatives, each a ``required`` plus ``properties`` fragment."""
    if set(rule) == {"anyOf"}:
        return [f for alternative in rule["anyOf"] for f in _fragments(alternative)]
    assert set(rule) <= {"required", "properties"}, rule
    return [rule]


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    """Both fragments at once, or None when they cannot both hold."""
    properties = dict(a.get("properties", {}))
    for name, said in b.get("properties", {}).items():
        before = properties.setdefault(name, said)
        if before == said:
            continue
        if LEFT_OUT in (before, said) and (PRESENT in (before, said) or "enum" in before or "enum" in said):
            return None
        properties[name] = {"allOf": [before, said]}
    return {"required": sorted({*a.get("required", ()), *b.get("required", ())}), "properties": properties}


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's schema without its ``null`` alternative (absent says the same to the validator)."""
    options = [o for o in schema.get("anyOf", [schema]) if o != {"type": "null"}]
    return options[0] if len(options) == 1 else {"anyOf": options}


def _constrained(schema: dict[str, Any], said: dict[str, Any]) -> dict[str, Any] | None:
    """A property's schema under what a rule says of it; None when it must be left out."""
    if said == LEFT_OUT:
        return {"type": "array", "maxItems": 0} if schema.get("type") == "array" else None
    if said == PRESENT:
        return {**schema, "minItems": 1} if schema.get("type") == "array" else schema
    if "allOf" in said:
        for part in said["allOf"]:
            out = _constrained(schema, part)
            if out is None:
                return None
            schema = out
        return schema
    return {"allOf": [schema, said]}


def generative(schema: Any) -> Any:
    """The same payloads in a shape hypothesis-jsonschema draws from without rejecting most draws.

    A model's ``allOf`` of field rules becomes an ``anyOf`` of whole objects, one per
    combination of the rules' alternatives (contradictory ones dropped); optional fields are
    left out rather than null; lists hold at most ``ARRAY_ITEMS``; patterns lose the
    surrogate range, which the UTF-8 alphabet never draws. Every payload drawn is still
    checked against the published schema.
    """
    if isinstance(schema, list):
        return [generative(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: (v.replace(SURROGATES, "") if k == "pattern" else generative(v))
        for k, v in schema.items()
        if k not in ANNOTATIONS
    }
    if out.get("type") == "array":
        cap = max(ARRAY_ITEMS, out.get("minItems", 0))
        out["maxItems"] = min(out.get("maxItems", cap), cap)
    if "properties" not in out:
        return out
    out["properties"] = {name: _non_null(p) for name, p in out["properties"].items()}
    combined: list[dict[str, Any]] = [{}]
    for rule in out.pop("allOf", []):
        combined = [m for c in combined for f in _fragments(rule) if (m := _merge(c, f)) is not None]
    objects = []
    for fragment in combined:
        properties: dict[str, Any] = {}
        for name, prop in out["properties"].items():
            said = fragment.get("properties", {}).get(name)
            constrained = prop if said is None else _constrained(prop, said)
            if constrained is not None:
                properties[name] = constrained
        required = sorted({*out.get("required", ()), *fragment.get("required", ())})
        shape = {k: v for k, v in out.items() if k != "$defs"}
        objects.append({**shape, "properties": properties, "required": required})
    root = {"$defs": out["$defs"]} if "$defs" in out else {}
    return {**objects[0], **root} if len(objects) == 1 else {"anyOf": objects, **root}


@functools.cache
def payloads(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads valid by the kind's published schema."""
    return from_schema(generative(schemas()[kind]))


def balanced(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A journal entry made to balance (a rule no schema can say): each line mirrored by its opposite."""
    lines = payload.get("lines") or []
    if kind == "journal_entry_add":
        flip = {"debit": "credit", "credit": "debit"}
        mirrored = [{**line, "side": flip[line["side"]]} for line in lines]
    elif kind == "journal_entry_mod":
        flip = {"Debit": "Credit", "Credit": "Debit"}
        mirrored = [{**line, "journal_line_type": flip[line["journal_line_type"]]} for line in lines]
    else:
        return payload
    return {**payload, "lines": [*lines, *mirrored]}


def overapplied(payload: dict[str, Any]) -> bool:
    """Whether a payment applies more to invoices than its total (a rule no schema can say)."""
    total = payload.get("total_amount")
    applied = [a.get("payment_amount") for a in payload.get("applied_to") or []]
    if total is None or not applied:
        return False
    return sum((Decimal(str(a)) for a in applied if a is not None), Decimal(0)) > Decimal(str(total))


def test_every_schema_is_a_valid_json_schema() -> None:
    """Each published schema is valid JSON Schema (draft 2020-12), with no pydantic-only keywords."""
    for kind, schema in schemas().items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert '"ge"' not in str(schema).replace("'", '"'), kind


def test_rules_no_schema_can_say_are_documented() -> None:
    """A payload model with a validator of its own (beyond its stated field rules) says in words what it checks."""
    for model in MODELS:
        own = {
            name
            for name, dec in model.__pydantic_decorators__.model_validators.items()
            if dec.info.mode == "after" and name != "_keep_field_rules"
        }
        assert not own or model.unstated_rules, f"{model.__name__} checks {own} but lists no unstated_rules"


@pytest.mark.parametrize(
    "model", sorted((m for m in MODELS if m.field_rules()), key=lambda m: m.__name__), ids=lambda m: m.__name__
)
def test_field_rules_are_in_the_schema(model: type[Payload]) -> None:
    """The JSON Schema of each model with field rules carries one allOf entry per rule."""
    rules: tuple[Rule, ...] = model.field_rules()
    assert model.model_json_schema()["allOf"] == [r.schema() for r in rules]


@functools.cache
def published(kind: str) -> jsonschema.Draft202012Validator:
    """A validator of the kind's published schema, built once."""
    return jsonschema.Draft202012Validator(schemas()[kind])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_payload_drawn_from_the_schema_validates_and_builds(kind: str) -> None:
    """Any payload the kind's JSON Schema accepts validates and builds a well-formed qbXML document."""

    @settings(
        max_examples=EXAMPLES_PER_KIND,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(payload=payloads(kind))
    def builds(payload: dict[str, Any]) -> None:
        payload = balanced(kind, payload)
        published(kind).validate(payload)
        assume(not (kind == "payment_add" and overapplied(payload)))
        built = []
        for country in ("US", "CA"):
            try:
                built.append(preview(kind, payload, version="16.0", country=country))
            except VersionError:
                continue  # a field of the other editions (documented: version and country)
        assume(built)  # the payload mixes US-only fields with CA/UK-only ones
        assert check_document(built[0]) == "16.0"

    builds()
