"""Rules across a payload's fields, each checked by the validator and stated in the JSON Schema.

A model declares its rules once, in ``field_rules()``; :class:`~qbxml_builders._fields.Payload`
checks them in one model validator and writes them into its JSON Schema, so the published
schema refuses what the validator refuses. A field is *given* when it is neither null nor
an empty list (an empty string is given). What no JSON Schema can say (sums, balances,
version and country) stays a model validator, listed in ``docs/qbxml.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

JsonDict = dict[str, Any]

#: The JSON Schema of a field left out: absent, null or an empty list.
_LEFT_OUT: JsonDict = {"type": ["null", "array"], "maxItems": 0}
#: The JSON Schema of a field's value when it is given: not null, not an empty list.
_PRESENT: JsonDict = {"type": ["string", "number", "boolean", "object", "array"], "minItems": 1}


def given(model: object, name: str) -> bool:
    """Whether ``model`` has a value for ``name``: neither None nor an empty tuple."""
    return getattr(model, name) not in (None, ())


def _given(*names: str) -> JsonDict:
    return {"required": list(names), "properties": dict.fromkeys(names, _PRESENT)}


def _left_out(names: tuple[str, ...]) -> JsonDict:
    return {"properties": dict.fromkeys(names, _LEFT_OUT)}


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names)


class Condition(Protocol):
    """What a rule tests of a payload, as a check and as JSON Schema (and its negation)."""

    def holds(self, model: object) -> bool:
        """Whether the condition holds of ``model``."""

    def schema(self) -> JsonDict:
        """JSON Schema that a payload passes exactly when the condition holds."""

    def negation(self) -> JsonDict:
        """JSON Schema that a payload passes exactly when the condition does not hold."""

    def describe(self) -> str:
        """The condition in words, for the documentation."""


@dataclass(frozen=True, slots=True)
class Given:
    """The field ``name`` is given."""

    name: str

    def holds(self, model: object) -> bool:
        """True when the field has a value."""
        return given(model, self.name)

    def schema(self) -> JsonDict:
        """Required, not null, not empty."""
        return _given(self.name)

    def negation(self) -> JsonDict:
        """Absent, null or empty."""
        return _left_out((self.name,))

    def describe(self) -> str:
        """``name`` given."""
        return f"`{self.name}` is given"


@dataclass(frozen=True, slots=True)
class Is:
    """The field ``name`` holds one of ``values``."""

    name: str
    values: tuple[str, ...]

    def holds(self, model: object) -> bool:
        """True when the field's value is one of the values."""
        return getattr(model, self.name) in self.values

    def schema(self) -> JsonDict:
        """Required, with one of the values."""
        return {"required": [self.name], "properties": {self.name: {"enum": list(self.values)}}}

    def negation(self) -> JsonDict:
        """Absent, or any other value."""
        return {"properties": {self.name: {"not": {"enum": list(self.values)}}}}

    def describe(self) -> str:
        """``name`` is one of the values."""
        return f"`{self.name}` is " + " or ".join(f"`{v}`" for v in self.values)


class Rule(Protocol):
    """A rule across fields: the validator's check and the JSON Schema that says the same."""

    def problem(self, model: object) -> str | None:
        """The ``"field: message"`` sentence when ``model`` breaks the rule, else None."""

    def schema(self) -> JsonDict:
        """JSON Schema that a payload passes exactly when it keeps the rule."""

    def describe(self) -> str:
        """The rule in words, for the documentation."""


@dataclass(frozen=True, slots=True)
class Need:
    """At least one of ``conditions`` holds; else ``message``."""

    conditions: tuple[Condition, ...]
    message: str

    def problem(self, model: object) -> str | None:
        """The message when no condition holds."""
        return None if any(c.holds(model) for c in self.conditions) else self.message

    def schema(self) -> JsonDict:
        """One of the conditions' schemas."""
        if len(self.conditions) == 1:
            return self.conditions[0].schema()
        return {"anyOf": [c.schema() for c in self.conditions]}

    def describe(self) -> str:
        """The conditions, joined by "or"."""
        return " or ".join(c.describe() for c in self.conditions)


def need(*names: str, message: str) -> Need:
    """At least one of the fields ``names`` is given."""
    return Need(tuple(Given(n) for n in names), message)


@dataclass(frozen=True, slots=True)
class OneOf:
    """Exactly one of the fields ``names`` is given."""

    names: tuple[str, ...]

    def problem(self, model: object) -> str | None:
        """Names the second field given, or the first of all when none is."""
        found = [n for n in self.names if given(model, n)]
        if len(found) > 1:
            return f"{found[1]}: cannot be combined with {found[0]}"
        if not found:
            return f"{self.names[0]}: give one of {_names(self.names)}"
        return None

    def schema(self) -> JsonDict:
        """One alternative per field: that one given, the others left out."""
        return {
            "anyOf": [
                {"required": [n], "properties": {m: _PRESENT if m == n else _LEFT_OUT for m in self.names}}
                for n in self.names
            ]
        }

    def describe(self) -> str:
        """Exactly one of the names."""
        return "exactly one of " + _names(tuple(f"`{n}`" for n in self.names))


@dataclass(frozen=True, slots=True)
class AtMostOne:
    """No two of the fields ``names`` are given."""

    names: tuple[str, ...]

    def problem(self, model: object) -> str | None:
        """Names the second field given."""
        found = [n for n in self.names if given(model, n)]
        return f"{found[1]}: cannot be combined with {found[0]}" if len(found) > 1 else None

    def schema(self) -> JsonDict:
        """One alternative per field: every other one left out."""
        return {"anyOf": [_left_out(tuple(m for m in self.names if m != n)) for n in self.names]}

    def describe(self) -> str:
        """At most one of the names."""
        return "at most one of " + _names(tuple(f"`{n}`" for n in self.names))


@dataclass(frozen=True, slots=True)
class Excludes:
    """No field of ``first`` is given with a field of ``second``."""

    first: tuple[str, ...]
    second: tuple[str, ...]
    message: str | None = None

    def problem(self, model: object) -> str | None:
        """``message``, or names the first field of each group that is given."""
        a = [n for n in self.first if given(model, n)]
        b = [n for n in self.second if given(model, n)]
        if a and b:
            return self.message or f"{a[0]}: cannot be combined with {b[0]}"
        return None

    def schema(self) -> JsonDict:
        """Either group left out."""
        return {"anyOf": [_left_out(self.first), _left_out(self.second)]}

    def describe(self) -> str:
        """The two groups."""
        first = _names(tuple(f"`{n}`" for n in self.first))
        second = _names(tuple(f"`{n}`" for n in self.second))
        return f"none of {first} together with any of {second}"


@dataclass(frozen=True, slots=True)
class If:
    """``rule`` applies when ``condition`` holds."""

    condition: Condition
    rule: Rule

    def problem(self, model: object) -> str | None:
        """The rule's problem, when the condition holds."""
        return self.rule.problem(model) if self.condition.holds(model) else None

    def schema(self) -> JsonDict:
        """The condition does not hold, or the rule is kept."""
        return {"anyOf": [self.condition.negation(), self.rule.schema()]}

    def describe(self) -> str:
        """When ..., ...."""
        return f"when {self.condition.describe()}: {self.rule.describe()}"


@dataclass(frozen=True, slots=True)
class Requires:
    """When any field of ``fields`` is given, ``then`` is given too.

    ``message`` may name the first of ``fields`` given as ``{}``.
    """

    fields: tuple[str, ...]
    then: str
    message: str

    def problem(self, model: object) -> str | None:
        """The message, naming the first field given, when ``then`` is missing."""
        found = [n for n in self.fields if given(model, n)]
        return self.message.format(found[0]) if found and not given(model, self.then) else None

    def schema(self) -> JsonDict:
        """Every field of ``fields`` left out, or ``then`` given."""
        return {"anyOf": [_left_out(self.fields), _given(self.then)]}

    def describe(self) -> str:
        """``then`` with any of the fields."""
        return f"`{self.then}` is given when any of " + _names(tuple(f"`{n}`" for n in self.fields)) + " is"


@dataclass(frozen=True, slots=True)
class Iff:
    """``field`` is given exactly when ``condition`` holds.

    The messages may name the model's fields in braces (``{iterator}``).
    """

    condition: Condition
    field: str
    missing: str
    extra: str

    def problem(self, model: object) -> str | None:
        """``missing`` when the condition holds without the field, ``extra`` the other way round."""
        holds, present = self.condition.holds(model), given(model, self.field)
        if holds == present:
            return None
        values = {name: getattr(model, name) for name in type(model).model_fields}  # type: ignore[attr-defined]
        return (self.missing if holds else self.extra).format(**values)

    def schema(self) -> JsonDict:
        """Both, or neither."""
        both = {**self.condition.schema()}
        both["required"] = [*both.get("required", []), self.field]
        both["properties"] = {**both.get("properties", {}), self.field: _PRESENT}
        neither = {**self.condition.negation()}
        neither["properties"] = {**neither.get("properties", {}), self.field: _LEFT_OUT}
        return {"anyOf": [both, neither]}

    def describe(self) -> str:
        """The field exactly with the condition."""
        return f"`{self.field}` is given exactly when {self.condition.describe()}"


def schema_of(rules: tuple[Rule, ...]) -> JsonDict:
    """The JSON Schema keywords that state ``rules`` (an ``allOf``, or nothing)."""
    return {"allOf": [r.schema() for r in rules]} if rules else {}
