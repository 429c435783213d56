"""What shop invoices and POS days share: field types, the company's posting context, planned jobs.

A document is validated (its pydantic model, one error per field), then *planned*: turned
into the jobs that post it (:class:`Plan`), against the company's :class:`Context` (its
profile and the mapping setup resolved). Planning is pure; :mod:`.post` queues the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from qbwc_service.errors import PayloadError
from qbwc_service.workflows.setup import mapping
from qbwc_service.workflows.setup.mapping import Resolved
from qbwc_service.workflows.setup.profile import Mode, Profile, Role, problems_of

T = TypeVar("T")
CENT = Decimal("0.01")
ZERO = Decimal(0)

#: A list entry's name: not blank, no colon (QuickBooks' parent separator).
_NAME = r"^[^:]*[^:\s][^:]*$"
Name31 = Annotated[str, StringConstraints(min_length=1, max_length=31, pattern=_NAME)]
Name41 = Annotated[str, StringConstraints(min_length=1, max_length=41, pattern=_NAME)]
Text = Annotated[str, StringConstraints(max_length=4095)]
#: A RefNumber as sales transactions take it.
RefNumber = Annotated[str, StringConstraints(min_length=1, max_length=11, pattern=r"^\S(.*\S)?$")]
#: A line kind's (or product category's) key in the profile.
KindKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Money = Annotated[Decimal, Field(ge=0, max_digits=13, decimal_places=2)]
Positive = Annotated[Decimal, Field(gt=0, max_digits=13, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=15, decimal_places=5)]


class Strict(BaseModel):
    """A document's part: unknown fields refused, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(Strict):
    """A postal address, as QuickBooks keeps it."""

    addr1: Annotated[str, StringConstraints(max_length=41)] | None = None
    addr2: Annotated[str, StringConstraints(max_length=41)] | None = None
    city: Annotated[str, StringConstraints(max_length=31)] | None = None
    state: Annotated[str, StringConstraints(max_length=21)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=13)] | None = None
    country: Annotated[str, StringConstraints(max_length=31)] | None = None


class Customer(Strict):
    """A customer by name with contact details: ensured (found, or added) in detailed mode."""

    name: Name41
    company_name: Annotated[str, StringConstraints(max_length=41)] | None = None
    first_name: Annotated[str, StringConstraints(max_length=25)] | None = None
    last_name: Annotated[str, StringConstraints(max_length=25)] | None = None
    phone: Annotated[str, StringConstraints(max_length=21)] | None = None
    email: Annotated[str, StringConstraints(max_length=1023)] | None = None
    address: Address | None = None

    def ensure_payload(self) -> dict[str, Any]:
        """The ``customer_ensure`` payload of this customer."""
        out: dict[str, Any] = {"name": self.name}
        for key in ("company_name", "first_name", "last_name", "phone", "email"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.address is not None:
            out["bill_address"] = self.address.model_dump(exclude_none=True)
        return out


class ListRef(Strict):
    """A customer QuickBooks has already, by ListID or FullName."""

    list_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = None
    full_name: Annotated[str, StringConstraints(min_length=1, max_length=209)] | None = None


def cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent as QuickBooks rounds."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def text(value: Decimal) -> str:
    """Money as a payload carries it."""
    return str(cents(value))


def validate_model(kind: str, model: type[BaseModel], data: Any) -> Any:
    """``data`` as ``model``, or :class:`PayloadError` with one line per field."""
    if not isinstance(data, Mapping):
        raise PayloadError(kind, ["the document must be a JSON object"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(kind, problems_of(exc)) from None


def planned(label: str) -> dict[str, str]:
    """A ref to another job of the same plan, by its label (it becomes ``{"job": N}`` when queued)."""
    return {"planned": label}


@dataclass(frozen=True, slots=True)
class Ensure:
    """A list entry a document needs: queued as an ensure job unless QuickBooks or the queue has it."""

    #: ``customers`` or ``items`` (what it counts against).
    list: str
    kind: str
    payload: dict[str, Any]

    @property
    def name(self) -> str:
        """The FullName it makes sure of."""
        return str(self.payload["name"])


@dataclass(frozen=True, slots=True)
class Planned:
    """One transaction job of a document; its payload may hold :func:`planned` refs."""

    label: str
    kind: str
    payload: dict[str, Any]


@dataclass
class Plan:
    """What a document becomes: the entries it needs, then its transactions, in order."""

    key: str
    mode: str
    ensures: list[Ensure] = field(default_factory=list)
    jobs: list[Planned] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)

    def need(self, entry: Ensure) -> None:
        """Add an entry unless the plan has it already (by list and name, case-folded)."""
        if all((e.list, e.name.casefold()) != (entry.list, entry.name.casefold()) for e in self.ensures):
            self.ensures.append(entry)


@dataclass(frozen=True)
class Context:
    """A company as its documents post: country, profile, and the mapping setup resolved."""

    company_id: int
    country: str
    profile: Profile
    resolved: Mapping[str, Resolved]
    #: The names (case-folded) that the company's queued or running setup jobs will make sure of:
    #: an entry not resolved yet is referred to by name, and its job waits for setup's.
    pending: frozenset[str] = frozenset()
    #: Each profile entry's FullName in QuickBooks, by mapping key (``line_kind:labor`` → ``Shop Labor``).
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def us(self) -> bool:
        """Whether sales tax is the US kind (an agency and a tax item)."""
        return self.country == "US"

    def entry(self, key: str, where: str, what: str) -> dict[str, str]:
        """The ListID ref of a resolved mapping entry, or a :class:`Refusal` naming ``where``."""
        found = self.resolved.get(key)
        if found is not None and found.list_id:
            return {"list_id": found.list_id}
        name = self.names.get(key)
        if name is not None and name.casefold() in self.pending:
            return {"full_name": name}  # setup is making sure of it: the job waits for that step
        raise Refusal(f"{where}: {what} is not resolved for this company yet: run setup (qbwc-service setup run "
                      "COMPANY)")  # fmt: skip

    def item(self, kind: str, where: str) -> dict[str, str]:
        """The item of a line kind (or POS category); refused when the profile does not map it."""
        if kind not in self.profile.line_kinds:
            mapped = ", ".join(sorted(self.profile.line_kinds)) or "none"
            raise Refusal(f"{where}: the line kind {kind!r} is not mapped for this company (its profile maps: "
                          f"{mapped}); add it to the profile's line_kinds and run setup")  # fmt: skip
        return self.entry(mapping.line_kind(kind), where, f"the item of line kind {kind!r}")

    def account(self, role: Role, where: str) -> dict[str, str]:
        """The account of a role."""
        return self.entry(mapping.account(role), where, f"the {role} account")

    def account_name(self, role: Role) -> str:
        """The FullName of a role's account (as resolved, else as the profile names it)."""
        found = self.resolved.get(mapping.account(role))
        if found is not None and found.full_name:
            return found.full_name
        return self.profile.accounts[role].name

    def tax_code(self, taxable: bool, where: str) -> dict[str, str] | None:
        """The sales tax code of a line (None when the profile maps no codes)."""
        part = "taxable_code" if taxable else "non_taxable_code"
        if getattr(self.profile.sales_tax, part) is None:
            return None
        return self.entry(mapping.sales_tax(part), where, f"the {part.replace('_', ' ')}")

    def tax_item(self, where: str) -> dict[str, str]:
        """The sales tax item (US) that tax lines are written with."""
        if self.profile.sales_tax.item is None:
            raise Refusal(f"{where}: the profile has no sales tax item to write the tax with (sales_tax.item)")
        return self.entry(mapping.sales_tax("item"), where, "the sales tax item")

    def walk_in(self) -> Ensure:
        """The customer of summary postings."""
        return Ensure("customers", "customer_ensure", {"name": self.profile.posting.walk_in_customer})

    def customers_detailed(self) -> bool:
        """Whether each document's customer gets an entry of its own."""
        return self.profile.posting.customers is Mode.DETAILED


class Refusal(Exception):
    """A document cannot post for this company as it is (a line kind not mapped, setup not done)."""


class Problems:
    """Refusals collected while planning, so that a document is refused with all of them at once."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def get(self, fn: Callable[..., T], *args: Any) -> T | None:
        """What ``fn(*args)`` returns, or None with its :class:`Refusal` kept."""
        try:
            return fn(*args)
        except Refusal as exc:
            self.found.append(str(exc))
            return None

    def add(self, problem: str) -> None:
        """Keep a refusal found otherwise."""
        self.found.append(problem)

    def check(self, kind: str) -> None:
        """Raise :class:`PayloadError` with every refusal kept, if any."""
        if self.found:
            raise PayloadError(kind, list(dict.fromkeys(self.found)))


def sum_money(values: Sequence[Decimal]) -> Decimal:
    """The sum, to the cent."""
    return cents(sum(values, ZERO))
