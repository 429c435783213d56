"""Field types shared by every payload model: limited text, fixed-point numbers, refs.

Limits come from the qbXML 13.0 XSD (``xsd:maxLength``, the ``AMTTYPE``/``PRICETYPE``
patterns); where the XSD leaves a field unbounded the limit of the qbXML reference is used.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticKnownError, core_schema

from ._rules import JsonDict, Rule, need, schema_of
from .versions import Country

#: Characters XML 1.0 cannot carry (lxml refuses them): C0 controls but tab, LF, CR;
#: lone surrogates; U+FFFE and U+FFFF. Written as regex escapes, so that the validator's
#: regex and the JSON Schema's ``pattern`` are the same text.
_NOT_XML_CLASS = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF"
#: The characters ``str.isspace`` calls whitespace (what ``strip()`` removes).
_SPACE_CLASS = r"\u0009-\u000D\u001C-\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_NOT_XML = re.compile(f"[{_NOT_XML_CLASS}]")
_BLANK = re.compile(f"[{_SPACE_CLASS}]*")
#: The JSON Schema ``pattern`` of text XML can carry.
XML_TEXT_PATTERN = f"^[^{_NOT_XML_CLASS}]*$"
#: The JSON Schema ``pattern`` of a list entry's name: XML text, no colon, not blank.
LIST_NAME_PATTERN = f"^[^:{_NOT_XML_CLASS}]*[^:{_NOT_XML_CLASS}{_SPACE_CLASS}][^:{_NOT_XML_CLASS}]*$"

#: The validation context of a payload read back as stored (see ``validate_payload(stored=True)``).
STORED: dict[str, bool] = {"stored": True}


def _stored(info: ValidationInfo) -> bool:
    """Whether the payload being validated is one validated and stored before."""
    context = info.context
    return context is STORED or (isinstance(context, dict) and context.get("stored") is True)


@dataclass(frozen=True, slots=True)
class XmlText:
    """Refuse text XML cannot carry (and, for a list name, a colon or blank text).

    Put it in ``Annotated[str, ...]`` after the length constraints: it checks the value and
    adds the same rule to the JSON Schema as a ``pattern``.
    """

    #: Also refuse a colon (QuickBooks separates parent names with it) and blank text.
    list_name: bool = False

    def check(self, value: str) -> str:
        """Return ``value`` or raise ValueError saying what XML or QuickBooks refuses."""
        bad = _NOT_XML.search(value)
        if bad:
            raise ValueError(f"contains the character U+{ord(bad.group()):04X}, which XML cannot carry")
        if self.list_name:
            if ":" in value:
                raise ValueError("must not contain a colon (QuickBooks uses it to separate parent names)")
            if _BLANK.fullmatch(value):
                raise ValueError("must not be blank")
        return value

    def _check(self, value: str, info: ValidationInfo) -> str:
        return value if _stored(info) else self.check(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out["pattern"] = LIST_NAME_PATTERN if self.list_name else XML_TEXT_PATTERN
        return out


_TEXT = XmlText()
_NAME = XmlText(list_name=True)

#: Text of at most N characters that XML can carry (``StrN``).
Str3 = Annotated[str, StringConstraints(max_length=3), _TEXT]
Str7 = Annotated[str, StringConstraints(max_length=7), _TEXT]
Str5 = Annotated[str, StringConstraints(max_length=5), _TEXT]
Str11 = Annotated[str, StringConstraints(max_length=11), _TEXT]
Str13 = Annotated[str, StringConstraints(max_length=13), _TEXT]
Str15 = Annotated[str, StringConstraints(max_length=15), _TEXT]
Str20 = Annotated[str, StringConstraints(max_length=20), _TEXT]
Str21 = Annotated[str, StringConstraints(max_length=21), _TEXT]
Str25 = Annotated[str, StringConstraints(max_length=25), _TEXT]
Str29 = Annotated[str, StringConstraints(max_length=29), _TEXT]
Str30 = Annotated[str, StringConstraints(max_length=30), _TEXT]
Str31 = Annotated[str, StringConstraints(max_length=31), _TEXT]
Str41 = Annotated[str, StringConstraints(max_length=41), _TEXT]
Str50 = Annotated[str, StringConstraints(max_length=50), _TEXT]
Str64 = Annotated[str, StringConstraints(max_length=64), _TEXT]
Str99 = Annotated[str, StringConstraints(max_length=99), _TEXT]
Str200 = Annotated[str, StringConstraints(max_length=200), _TEXT]
Str209 = Annotated[str, StringConstraints(max_length=209), _TEXT]
Str1023 = Annotated[str, StringConstraints(max_length=1023), _TEXT]
Str4095 = Annotated[str, StringConstraints(max_length=4095), _TEXT]
#: Text without a length limit in the schema.
StrAny = Annotated[str, _TEXT]

#: The ``Name`` of a list entry: not blank, no colon, at most 3 characters.
Name3 = Annotated[str, StringConstraints(min_length=1, max_length=3), _NAME]
#: The ``Name`` of a list entry: not blank, no colon, at most 31 characters.
Name31 = Annotated[str, StringConstraints(min_length=1, max_length=31), _NAME]
#: The ``Name`` of a list entry: not blank, no colon, at most 41 characters.
Name41 = Annotated[str, StringConstraints(min_length=1, max_length=41), _NAME]

#: A ListID, TxnID or TxnLineID (``IDTYPE``).
Id = Annotated[str, StringConstraints(min_length=1, max_length=36), _TEXT]
#: The ``EditSequence`` QuickBooks returned with the object being changed.
EditSequence = Annotated[str, StringConstraints(min_length=1, max_length=16), _TEXT]
#: The ``iteratorID`` QuickBooks returned with the first page of a query.
IteratorId = Annotated[str, StringConstraints(min_length=1), _TEXT]
#: A GUID in braces, as ``ExternalGUID`` and ``OwnerID`` take it (``GUIDTYPE``).
Guid = Annotated[
    str,
    StringConstraints(pattern=r"^(0|\{[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\})$"),
]
#: An element name for ``IncludeRetElement`` (qbXML element names are ASCII).
RetElement = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_]+$")]


@dataclass(frozen=True, slots=True)
class FixedPoint:
    """A qbXML number pattern: at most ``places`` decimals and ``digits`` integer digits.

    Put it in ``Annotated[Decimal, ...]``: it checks the value (and its sign, when
    ``minimum`` is set) and gives the JSON Schema that says the same: a whole JSON number
    within the bounds, or a decimal string such as ``"45.50"``. The validator also reads a
    JSON number with a fraction (``45.5``), but the schema does not offer one: JSON Schema's
    ``multipleOf`` is float arithmetic, and would pass ``1999.8700000000001``.
    """

    places: int
    digits: int
    #: Render with exactly ``places`` decimals (money); else as few as the value needs.
    pad: bool = False
    #: The value must be at least this (or, with ``exclusive``, above it).
    minimum: int | None = None
    exclusive: bool = False

    def check(self, value: Decimal) -> Decimal:
        """Return ``value`` normalised for rendering, or raise saying what is wrong."""
        if not value.is_finite():
            raise ValueError("must be a finite number")
        if self.minimum is not None:
            if self.exclusive and not value > self.minimum:
                raise PydanticKnownError("greater_than", {"gt": self.minimum})
            if not self.exclusive and not value >= self.minimum:
                raise PydanticKnownError("greater_than_equal", {"ge": self.minimum})
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.places:
            raise ValueError(f"must have at most {self.places} decimal places, got {value}")
        if abs(value) >= Decimal(10) ** self.digits:
            raise ValueError(f"must be less than 10^{self.digits} in size, got {value}")
        if self.pad:
            return value.quantize(Decimal(1).scaleb(-self.places))
        normal = value.normalize()
        return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal

    def json_schema(self) -> JsonDict:
        """A whole number within the bounds, or a plain decimal string with at most ``places`` decimals."""
        top = 10**self.digits - 1
        whole = rf"(0|[1-9][0-9]{{0,{self.digits - 1}}})"
        fraction = rf"(\.[0-9]{{1,{self.places}}})?"
        if self.minimum is None:
            low, pattern = -top, rf"^-?{whole}{fraction}$"
        elif self.minimum == 0 and not self.exclusive:
            low, pattern = 0, rf"^{whole}{fraction}$"
        elif self.minimum == 0:
            low = 1
            pattern = rf"^([1-9][0-9]{{0,{self.digits - 1}}}{fraction}|0\.[0-9]{{0,{self.places - 1}}}[1-9])$"
        else:
            raise NotImplementedError("FixedPoint states a minimum of 0 only")
        return {
            "anyOf": [
                {"type": "integer", "minimum": low, "maximum": top},
                {"type": "string", "pattern": pattern},
            ]
        }

    def _check(self, value: Decimal, info: ValidationInfo) -> Decimal:
        return value if _stored(info) else self.check(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema()


#: Money (``AMTTYPE``): at most 2 decimal places, rendered with exactly two.
Money = Annotated[Decimal, FixedPoint(2, 13, pad=True)]
#: Money that cannot be negative (journal lines, whose side gives the sign).
NonNegativeMoney = Annotated[Decimal, FixedPoint(2, 13, pad=True, minimum=0)]
#: A price or rate (``PRICETYPE``): at most 5 decimal places.
Price = Annotated[Decimal, FixedPoint(5, 10)]
#: A quantity (``QUANTYPE``): at most 5 decimal places.
Quantity = Annotated[Decimal, FixedPoint(5, 10)]
#: A percentage such as a tax rate, ``7.25`` for 7.25 % (``PERCENTTYPE``).
Percent = Annotated[Decimal, FixedPoint(5, 10)]
#: An exchange rate (``FLOATTYPE``): above zero.
Rate = Annotated[Decimal, FixedPoint(8, 10, minimum=0, exclusive=True)]

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


def _state_rules(schema: JsonDict, model: type[Any]) -> None:
    """Write a payload model's field rules into its JSON Schema (``json_schema_extra``)."""
    if issubclass(model, Payload):
        schema.update(schema_of(_rules(model)))


@functools.cache
def _rules(model: type[Payload]) -> tuple[Rule, ...]:
    return model.field_rules()


class Payload(BaseModel):
    """Base of every payload: frozen, unknown fields refused, rendered field by field.

    Rules across fields are declared in :meth:`field_rules`: one validator checks them and
    the JSON Schema states them. A rule no schema can say is a model validator of its own,
    described in :attr:`unstated_rules` for the documentation.
    """

    # defer_build: a model's validator is made when it first validates, not at import, so a
    # process handling one kind (the CLI's enqueue) does not build the validators of all.
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=False, json_schema_extra=_state_rules, defer_build=True
    )

    #: The element name of this model when several models share one list (line kinds).
    xml_tag: ClassVar[str | None] = None
    #: Rules this model's own validators check that its JSON Schema cannot state, in words.
    unstated_rules: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """The rules across this model's fields, checked in this order (extend with super())."""
        return ()

    @model_validator(mode="after")
    def _keep_field_rules(self, info: ValidationInfo) -> Payload:
        if _stored(info):
            return self
        for rule in _rules(type(self)):
            problem = rule.problem(self)
            if problem is not None:
                raise ValueError(problem)
        return self

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

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """list_id or full_name, or both."""
        return (*super().field_rules(), need("list_id", "full_name", message="list_id: give list_id or full_name"))

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
