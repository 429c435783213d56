"""Field types shared by every payload model: limited text, fixed-point numbers, refs.

Limits come from the qbXML 13.0 XSD (``xsd:maxLength``, the ``AMTTYPE``/``PRICETYPE``
patterns); where the XSD leaves a field unbounded the limit of the qbXML reference is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from .versions import Country

#: Characters XML 1.0 cannot carry (lxml refuses them): C0 controls but tab, LF, CR;
#: lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: str) -> str:
    bad = _NOT_XML.search(value)
    if bad:
        raise ValueError(f"contains the character U+{ord(bad.group()):04X}, which XML cannot carry")
    return value


def _list_name(value: str) -> str:
    if ":" in value:
        raise ValueError("must not contain a colon (QuickBooks uses it to separate parent names)")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


#: Text of at most N characters that XML can carry (``StrN``).
Str3 = Annotated[str, StringConstraints(max_length=3), AfterValidator(_xml_text)]
Str7 = Annotated[str, StringConstraints(max_length=7), AfterValidator(_xml_text)]
Str5 = Annotated[str, StringConstraints(max_length=5), AfterValidator(_xml_text)]
Str11 = Annotated[str, StringConstraints(max_length=11), AfterValidator(_xml_text)]
Str13 = Annotated[str, StringConstraints(max_length=13), AfterValidator(_xml_text)]
Str15 = Annotated[str, StringConstraints(max_length=15), AfterValidator(_xml_text)]
Str20 = Annotated[str, StringConstraints(max_length=20), AfterValidator(_xml_text)]
Str21 = Annotated[str, StringConstraints(max_length=21), AfterValidator(_xml_text)]
Str25 = Annotated[str, StringConstraints(max_length=25), AfterValidator(_xml_text)]
Str29 = Annotated[str, StringConstraints(max_length=29), AfterValidator(_xml_text)]
Str30 = Annotated[str, StringConstraints(max_length=30), AfterValidator(_xml_text)]
Str31 = Annotated[str, StringConstraints(max_length=31), AfterValidator(_xml_text)]
Str41 = Annotated[str, StringConstraints(max_length=41), AfterValidator(_xml_text)]
Str50 = Annotated[str, StringConstraints(max_length=50), AfterValidator(_xml_text)]
Str64 = Annotated[str, StringConstraints(max_length=64), AfterValidator(_xml_text)]
Str99 = Annotated[str, StringConstraints(max_length=99), AfterValidator(_xml_text)]
Str200 = Annotated[str, StringConstraints(max_length=200), AfterValidator(_xml_text)]
Str209 = Annotated[str, StringConstraints(max_length=209), AfterValidator(_xml_text)]
Str1023 = Annotated[str, StringConstraints(max_length=1023), AfterValidator(_xml_text)]
Str4095 = Annotated[str, StringConstraints(max_length=4095), AfterValidator(_xml_text)]
#: Text without a length limit in the schema.
StrAny = Annotated[str, AfterValidator(_xml_text)]

#: The ``Name`` of a list entry: not blank, no colon, at most 3 characters.
Name3 = Annotated[
    str,
    StringConstraints(min_length=1, max_length=3),
    AfterValidator(_xml_text),
    AfterValidator(_list_name),
]
#: The ``Name`` of a list entry: not blank, no colon, at most 31 characters.
Name31 = Annotated[
    str,
    StringConstraints(min_length=1, max_length=31),
    AfterValidator(_xml_text),
    AfterValidator(_list_name),
]
#: The ``Name`` of a list entry: not blank, no colon, at most 41 characters.
Name41 = Annotated[
    str,
    StringConstraints(min_length=1, max_length=41),
    AfterValidator(_xml_text),
    AfterValidator(_list_name),
]

#: A ListID, TxnID or TxnLineID (``IDTYPE``).
Id = Annotated[str, StringConstraints(min_length=1, max_length=36), AfterValidator(_xml_text)]
#: The ``EditSequence`` QuickBooks returned with the object being changed.
EditSequence = Annotated[str, StringConstraints(min_length=1, max_length=16), AfterValidator(_xml_text)]
#: A GUID in braces, as ``ExternalGUID`` and ``OwnerID`` take it (``GUIDTYPE``).
Guid = Annotated[
    str,
    StringConstraints(pattern=r"^(0|\{[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\})$"),
]
#: An element name for ``IncludeRetElement``.
RetElement = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^\w+$")]


def _fixed_point(places: int, digits: int, *, pad: bool) -> Callable[[Decimal], Decimal]:
    """Check a Decimal against a qbXML number pattern; ``pad`` renders all ``places``."""
    unit = Decimal(1).scaleb(-places)

    def check(value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite number")
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places:
            raise ValueError(f"must have at most {places} decimal places, got {value}")
        if abs(value) >= Decimal(10) ** digits:
            raise ValueError(f"must be less than 10^{digits} in size, got {value}")
        if pad:
            return value.quantize(unit)
        normal = value.normalize()
        return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal

    return check


#: Money (``AMTTYPE``): at most 2 decimal places, rendered with exactly two.
Money = Annotated[Decimal, AfterValidator(_fixed_point(2, 13, pad=True))]
#: A price or rate (``PRICETYPE``): at most 5 decimal places.
Price = Annotated[Decimal, AfterValidator(_fixed_point(5, 10, pad=False))]
#: A quantity (``QUANTYPE``): at most 5 decimal places.
Quantity = Annotated[Decimal, AfterValidator(_fixed_point(5, 10, pad=False))]
#: A percentage such as a tax rate, ``7.25`` for 7.25 % (``PERCENTTYPE``).
Percent = Annotated[Decimal, AfterValidator(_fixed_point(5, 10, pad=False))]
#: An exchange rate (``FLOATTYPE``).
Rate = Annotated[Decimal, Field(gt=0), AfterValidator(_fixed_point(8, 10, pad=False))]

US_ONLY: frozenset[Country] = frozenset({Country.US})
NOT_US: frozenset[Country] = frozenset({Country.CA, Country.UK})


@dataclass(frozen=True, slots=True)
class X:
    """How a payload field becomes XML; attach with ``Annotated[type, X(...)]``.

    Without it a field renders as one element named after the field in PascalCase
    (``ref_number`` -> ``RefNumber``), in declaration order, in every version and country.
    """

    #: The element name, when PascalCase of the field name is not it.
    tag: str | None = None
    #: The first qbXML version that has the element; asking for it earlier is a VersionError.
    since: str | None = None
    #: The QuickBooks editions that have it; asking for it elsewhere is a VersionError.
    countries: frozenset[Country] | None = None
    #: Render as this attribute of the ``…Rq`` element instead (iterator, iteratorID).
    attr: str | None = None
    #: Emit after the other fields, ordered by this rank (IncludeRetElement and friends).
    tail: int = 0
    #: Never rendered: the field picks an element name or drives a check.
    skip: bool = False


class Payload(BaseModel):
    """Base of every payload: frozen, unknown fields refused, rendered field by field."""

    # defer_build: a model's validator is made when it first validates, not at import, so a
    # process handling one kind (the CLI's enqueue) does not build the validators of all.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False, defer_build=True)

    #: The element name of this model when several models share one list (line kinds).
    xml_tag: ClassVar[str | None] = None

    def element_tag(self, default: str) -> str:
        """The element this model renders as, given its field's element name."""
        return self.xml_tag or default

    def reference(self) -> str | None:
        """A short human reference for support staff: the name, number or ID."""
        for attr in ("name", "ref_number", "full_name", "txn_id", "list_id"):
            value = getattr(self, attr, None)
            if isinstance(value, str) and value:
                return value
        for attr in ("full_names", "ref_numbers", "list_ids", "txn_ids"):
            values = getattr(self, attr, ())
            if values:
                return ", ".join(str(v) for v in values)
        return None


class Ref(Payload):
    """A reference to a list entry: its ListID, its FullName, or both (ListID wins)."""

    list_id: Annotated[Id | None, X(tag="ListID")] = None
    full_name: Str209 | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Ref:
        if self.list_id is None and self.full_name is None:
            raise ValueError("list_id: give list_id or full_name")
        return self

    def reference(self) -> str | None:
        """The FullName, else the ListID."""
        return self.full_name or self.list_id


class TaxCodeRef(Ref):
    """A reference to a sales tax code (names of at most 3 characters)."""

    list_id: Annotated[Id | None, X(tag="ListID")] = None
    full_name: Str3 | None = None


class CurrencyRef(Ref):
    """A reference to a currency (names of at most 64 characters)."""

    list_id: Annotated[Id | None, X(tag="ListID")] = None
    full_name: Str64 | None = None


class Address(Payload):
    """A postal address; lines of at most 41 characters, as QuickBooks prints them."""

    addr1: Str41 | None = None
    addr2: Str41 | None = None
    addr3: Str41 | None = None
    addr4: Annotated[Str41 | None, X(since="2.0")] = None
    addr5: Annotated[Str41 | None, X(since="6.0")] = None
    city: Str31 | None = None
    state: Str21 | None = None
    postal_code: Str13 | None = None
    country: Str31 | None = None
    note: Annotated[Str41 | None, X(since="6.0")] = None


class BarCode(Payload):
    """An item's bar code."""

    bar_code_value: Str50 | None = None
    assign_even_if_used: bool | None = None
    allow_override: bool | None = None


def exactly_one(model: BaseModel, *names: str, required: bool = True) -> None:
    """Raise unless exactly one (or, unless ``required``, at most one) of ``names`` is set."""
    given = [n for n in names if getattr(model, n) not in (None, ())]
    if len(given) > 1:
        raise ValueError(f"{given[1]}: cannot be combined with {given[0]}")
    if required and not given:
        raise ValueError(f"{names[0]}: give one of {', '.join(names)}")
