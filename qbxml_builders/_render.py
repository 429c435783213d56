"""Turn a payload model into elements, in field order, honouring version and country."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from lxml import etree

from ._fields import Payload, X
from .errors import BuilderError, VersionError
from .versions import Country, normalize_version, version_tuple

_WORDS = {"id": "ID", "ar": "AR", "cogs": "COGS", "po": "PO", "fob": "FOB", "guid": "GUID"}


def pascal(name: str) -> str:
    """``ref_number`` -> ``RefNumber``, ``ar_account_ref`` -> ``ARAccountRef``."""
    return "".join(_WORDS.get(part, part[:1].upper() + part[1:]) for part in name.split("_"))


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """A payload field with its rendering rules resolved."""

    name: str
    tag: str
    since: tuple[int, int] | None
    since_text: str | None
    countries: frozenset[Country] | None
    attr: str | None
    skip: bool


@functools.cache
def plan(model: type[Payload]) -> tuple[FieldPlan, ...]:
    """The fields of ``model`` in emission order, with their rules."""
    rows: list[tuple[int, int, FieldPlan]] = []
    for index, (name, info) in enumerate(model.model_fields.items()):
        spec = next((m for m in info.metadata if isinstance(m, X)), X())
        row = FieldPlan(
            name=name,
            tag=spec.attr or spec.tag or pascal(name),
            since=version_tuple(spec.since) if spec.since else None,
            since_text=spec.since,
            countries=spec.countries,
            attr=spec.attr,
            skip=spec.skip,
        )
        rows.append((spec.tail, index, row))
    return tuple(row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1])))


@dataclass(frozen=True, slots=True)
class Target:
    """The QuickBooks a request is built for."""

    version: str
    country: Country
    key: tuple[int, int]

    @classmethod
    def of(cls, version: str, country: Country | str) -> Target:
        """Normalise ``version`` and ``country`` (VersionError when unknown)."""
        canonical = normalize_version(version)
        try:
            edition = Country(country)
        except ValueError:
            raise VersionError("country", f"{country!r} is not a QuickBooks edition (US, CA or UK)") from None
        return cls(canonical, edition, version_tuple(canonical))

    def check(self, field: FieldPlan, path: str) -> None:
        """Raise VersionError when the target lacks ``field``'s element."""
        if field.since is None and field.countries is None:
            return
        if field.since is not None and self.key < field.since:
            raise VersionError(
                path,
                f"{field.tag} needs qbXML {field.since_text} or later; this QuickBooks speaks {self.version}",
            )
        if field.countries is not None and self.country not in field.countries:
            have = ", ".join(sorted(c.value for c in field.countries))
            raise VersionError(
                path,
                f"{field.tag} does not exist in QuickBooks {self.country.value} editions (only {have})",
            )


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _datetime(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat()


def _date(value: date) -> str:
    return value.isoformat()


def _bool(value: bool) -> str:
    return "true" if value else "false"


#: How a value of each exact type is spelled (subclasses, such as enums, go through :func:`text`).
_SPELLING: dict[type, Callable[[Any], str]] = {
    str: str, int: str, bool: _bool, Decimal: _decimal, date: _date, datetime: _datetime,
}  # fmt: skip


def text(value: object) -> str:
    """The qbXML spelling of a simple value."""
    if isinstance(value, bool):
        return _bool(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, datetime):
        return _datetime(value)
    if isinstance(value, date):
        return _date(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, int | str):
        return str(value)
    raise BuilderError(f"cannot render a {type(value).__name__} as qbXML text")


def attributes(model: Payload, target: Target) -> dict[str, str]:
    """The ``…Rq`` attributes a payload carries (iterator, iteratorID)."""
    out: dict[str, str] = {}
    for field in _attributes(type(model)):
        value = getattr(model, field.name)
        if value is not None:
            target.check(field, field.name)
            out[field.attr or field.tag] = text(value)
    return out


@functools.cache
def _elements(model: type[Payload]) -> tuple[FieldPlan, ...]:
    """The fields of ``model`` rendered as elements, in emission order."""
    return tuple(f for f in plan(model) if not (f.skip or f.attr))


@functools.cache
def _attributes(model: type[Payload]) -> tuple[FieldPlan, ...]:
    """The fields of ``model`` rendered as attributes of the request."""
    return tuple(f for f in plan(model) if f.attr)


def emit(parent: etree._Element, model: Payload, target: Target, path: str = "") -> None:
    """Append the elements of ``model``'s fields to ``parent``, in schema order."""
    values = model.__dict__
    for field in _elements(type(model)):
        value = values[field.name]
        if value is None or (type(value) is tuple and not value):
            continue
        if field.since is not None or field.countries is not None:
            target.check(field, f"{path}{field.name}")
        if type(value) is tuple:
            for i, item in enumerate(value):
                _emit_one(parent, field.tag, item, target, path, field.name, i)
        else:
            _emit_one(parent, field.tag, value, target, path, field.name, None)


def _emit_one(
    parent: etree._Element, tag: str, value: object, target: Target, path: str, name: str, index: int | None
) -> None:
    spell = _SPELLING.get(type(value))
    if spell is not None:
        etree.SubElement(parent, tag).text = spell(value)
    elif isinstance(value, Payload):
        child = etree.SubElement(parent, value.element_tag(tag))
        emit(child, value, target, f"{path}{name}." if index is None else f"{path}{name}.{index}.")
    else:
        etree.SubElement(parent, tag).text = text(value)
