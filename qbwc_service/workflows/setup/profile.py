"""The integration profile: what setup makes sure a company's QuickBooks has, as validated JSON.

A profile maps the lines a business application writes (labor, parts, tires; a point of
sale's product categories) to items, the account roles it posts to (income, cost of goods
sold, undeposited funds, ...) to accounts, and says how sales tax is set up. It is a
pydantic model, so the JSON Schema published for it (:func:`schema`) is exactly what
:func:`validate` accepts. Rules of the company's country (US: agency, tax item and codes;
CA/UK: tax codes only) are checked by :func:`refusals`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qbwc_service.errors import QbwcError
from qbxml_builders.accounts import AccountType

#: QuickBooks' longest list entry name.
NAME_MAX = 31
#: The countries QuickBooks Desktop comes in.
COUNTRIES = ("US", "CA", "UK")


class ProfileError(QbwcError):
    """The integration profile is not valid; ``errors`` lists each problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("the integration profile is not valid: " + "; ".join(errors))


class Role(StrEnum):
    """The account roles a business application posts to."""

    INCOME = "income"
    COGS = "cogs"
    INVENTORY_ASSET = "inventory_asset"
    UNDEPOSITED_FUNDS = "undeposited_funds"
    SALES_TAX_PAYABLE = "sales_tax_payable"
    DISCOUNTS = "discounts"
    TIPS = "tips"
    GIFT_CARDS = "gift_cards"
    CASH_OVER_SHORT = "cash_over_short"
    CARD_FEES = "card_fees"


#: Each role's account: its default name and the type QuickBooks must have for it.
ROLE_DEFAULTS: dict[Role, tuple[str, AccountType]] = {
    Role.INCOME: ("Sales Income", AccountType.INCOME),
    Role.COGS: ("Cost of Goods Sold", AccountType.COST_OF_GOODS_SOLD),
    Role.INVENTORY_ASSET: ("Inventory Asset", AccountType.OTHER_CURRENT_ASSET),
    Role.UNDEPOSITED_FUNDS: ("Undeposited Funds", AccountType.OTHER_CURRENT_ASSET),
    Role.SALES_TAX_PAYABLE: ("Sales Tax Payable", AccountType.OTHER_CURRENT_LIABILITY),
    Role.DISCOUNTS: ("Discounts Given", AccountType.INCOME),
    Role.TIPS: ("Tips Payable", AccountType.OTHER_CURRENT_LIABILITY),
    Role.GIFT_CARDS: ("Gift Cards Outstanding", AccountType.OTHER_CURRENT_LIABILITY),
    Role.CASH_OVER_SHORT: ("Cash Over and Short", AccountType.EXPENSE),
    Role.CARD_FEES: ("Card Processing Fees", AccountType.EXPENSE),
}

#: Account types a gift card balance may be kept in: it is owed to the card holder.
LIABILITIES = frozenset({AccountType.OTHER_CURRENT_LIABILITY, AccountType.LONG_TERM_LIABILITY})


class ItemType(StrEnum):
    """The item types a line kind may be."""

    SERVICE = "service"
    NON_INVENTORY = "non_inventory"
    OTHER_CHARGE = "other_charge"
    DISCOUNT = "discount"


Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=r"^[^:]*[^:\s][^:]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountEntry(_Strict):
    """An account role: the account's name, the type it must have, and whether setup may create it."""

    name: Name
    type: AccountType
    #: When false, setup only looks the account up; a missing one fails its step.
    create: bool = True


class LineKind(_Strict):
    """A kind of line (or a POS product category) and the item it is written with."""

    #: The item's name, after the profile's ``item_prefix``.
    name: Name
    item_type: ItemType
    #: The role whose account the item's sales post to.
    income_account: Role | None = None
    #: Bought for a job and resold (parts, tires): the role of its cost (COGS or expense).
    #: With it the item takes the income-and-expense form.
    expense_account: Role | None = None
    description: Annotated[str, Field(max_length=4095)] | None = None


class Agency(_Strict):
    """The vendor sales tax is paid to (US), marked as a sales tax agency."""

    name: Name
    create: bool = True


class TaxItem(_Strict):
    """The sales tax item (US); 0 % when the application computes the tax itself."""

    name: Name
    rate: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(0)
    description: Annotated[str, Field(max_length=4095)] | None = None


class TaxCode(_Strict):
    """A sales tax code (US: three letters such as Tax and Non; CA/UK: QuickBooks' own codes)."""

    name: Annotated[str, Field(min_length=1, max_length=3)]
    #: Whether sales with this code are taxed (US codes are created with it).
    taxable: bool
    create: bool = True


class SalesTax(_Strict):
    """How sales tax is set up: US agency, tax item and codes; CA/UK codes only."""

    agency: Agency | None = None
    item: TaxItem | None = None
    taxable_code: TaxCode | None = None
    non_taxable_code: TaxCode | None = None


class Mode(StrEnum):
    """How an entity kind posts: an entry per customer (or product), or one for all (walk-in, category)."""

    DETAILED = "detailed"
    SUMMARY = "summary"


class SalesMode(StrEnum):
    """How sales post: per order, one sales receipt per day, location and tender, or one journal entry."""

    DETAILED = "detailed"
    SUMMARY = "summary"
    JOURNAL = "journal"


class Posting(_Strict):
    """How business documents post (docs/integration-guide.md): the sync mode of each entity kind."""

    #: Detailed: each document's customer is ensured by name. Summary: all go to ``walk_in_customer``.
    customers: Mode = Mode.DETAILED
    #: POS products. Detailed: each product is ensured as an item of its category's account.
    #: Summary: lines post to their category's item.
    items: Mode = Mode.SUMMARY
    #: Detailed: a sales receipt per order (a shop invoice keeps every line). Summary: a POS day
    #: posts one sales receipt per location and tender (a shop invoice one line per line kind);
    #: journal: a POS day posts one journal entry per location.
    sales: SalesMode = SalesMode.DETAILED
    #: The customer of summary postings (ensured once).
    walk_in_customer: Name = "Walk-in Customer"


class Profile(_Strict):
    """A company's integration profile."""

    #: The application it is for: a shop-management system or a point of sale (product categories).
    system: Literal["shop", "pos"] = "shop"
    #: The country of the company's QuickBooks: what sales tax setup it supports.
    country: Literal["US", "CA", "UK"] = "US"
    #: Put before every item name (``Shop `` makes ``Shop Labor``).
    item_prefix: Annotated[str, Field(max_length=20, pattern=r"^[^:]*$")] = ""
    accounts: dict[Role, AccountEntry] = Field(default_factory=dict)
    #: Line kinds (shop) or product categories (POS) by key.
    line_kinds: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")], LineKind] = Field(default_factory=dict)
    sales_tax: SalesTax = Field(default_factory=SalesTax)
    posting: Posting = Field(default_factory=Posting)

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        problems = consistency(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def item_name(self, kind: LineKind) -> str:
        """The FullName of a line kind's item (prefix and name)."""
        return f"{self.item_prefix}{kind.name}"


def consistency(profile: Profile) -> list[str]:
    """What the profile says that does not hold together (names too long, roles not given)."""
    problems = []
    for key, kind in profile.line_kinds.items():
        if len(profile.item_name(kind)) > NAME_MAX:
            problems.append(
                f"line_kinds.{key}.name: {profile.item_name(kind)!r} is longer than {NAME_MAX} characters "
                "with the prefix"
            )
        for field in ("income_account", "expense_account"):
            role = getattr(kind, field)
            if role is not None and role not in profile.accounts:
                problems.append(f"line_kinds.{key}.{field}: the account role {role!s} is not in accounts")
        if kind.item_type is not ItemType.DISCOUNT and kind.income_account is None:
            problems.append(
                f"line_kinds.{key}.income_account: a {kind.item_type} item needs the account its sales go to"
            )
        if kind.item_type is ItemType.DISCOUNT and kind.expense_account is not None:
            problems.append(f"line_kinds.{key}.expense_account: a discount item has one account (income_account)")
    gift = profile.accounts.get(Role.GIFT_CARDS)
    if gift is not None and gift.type not in LIABILITIES:
        problems.append(f"accounts.gift_cards.type: a gift card balance is a liability, not {gift.type}")
    tax = profile.sales_tax
    if tax.item is not None and tax.agency is None:
        problems.append("sales_tax.item: a sales tax item is paid to an agency: give sales_tax.agency")
    for field in ("taxable_code", "non_taxable_code"):
        code = getattr(tax, field)
        if code is not None and code.taxable != (field == "taxable_code"):
            problems.append(f"sales_tax.{field}.taxable: must be {str(field == 'taxable_code').lower()}")
    return problems


def refusals(profile: Profile, country: str | None) -> list[str]:
    """What the company's country does not support, each with a sentence saying so."""
    country = (country or profile.country).upper()
    problems = []
    if country != profile.country:
        problems.append(
            f"country: this company's QuickBooks is the {country} edition, but the profile is for {profile.country}; "
            f"set country to {country!r}"
        )
    if country == "US":
        return problems
    edition = {"CA": "Canadian", "UK": "UK"}.get(country, country)
    if profile.sales_tax.agency is not None:
        problems.append(
            f"sales_tax.agency: QuickBooks {edition} editions have no sales tax agency vendor to set up "
            "(tax agencies belong to its tax codes); remove it and map the tax codes only"
        )
    if profile.sales_tax.item is not None:
        problems.append(
            f"sales_tax.item: QuickBooks {edition} editions have no sales tax items; remove it and map the tax "
            "codes only"
        )
    for field in ("taxable_code", "non_taxable_code"):
        code = getattr(profile.sales_tax, field)
        if code is not None and code.create:
            problems.append(
                f"sales_tax.{field}: QuickBooks {edition} editions come with their own tax codes and qbXML cannot "
                f'add one; name an existing code with "create": false'
            )
    return problems


def _accounts(*roles: Role) -> dict[Role, AccountEntry]:
    return {r: AccountEntry(name=ROLE_DEFAULTS[r][0], type=ROLE_DEFAULTS[r][1]) for r in roles}


def _us_sales_tax() -> SalesTax:
    return SalesTax(
        agency=Agency(name="State Sales Tax Agency"),
        item=TaxItem(name="Sales Tax", rate=Decimal(0), description="Sales tax computed by the application"),
        taxable_code=TaxCode(name="Tax", taxable=True),
        non_taxable_code=TaxCode(name="Non", taxable=False),
    )


#: The tax codes CA and UK editions come with, mapped by default: (taxable, non-taxable).
_OWN_CODES = {"CA": ("G", "E"), "UK": ("S", "E")}


def default_profile(system: str = "shop", country: str = "US") -> Profile:
    """The profile a new company starts with: a shop-management system's line kinds, or a POS's categories."""
    if country == "US":
        tax = _us_sales_tax()
    else:
        taxable, exempt = _OWN_CODES.get(country, ("G", "E"))
        tax = SalesTax(
            taxable_code=TaxCode(name=taxable, taxable=True, create=False),
            non_taxable_code=TaxCode(name=exempt, taxable=False, create=False),
        )
    two_sided = {"item_type": ItemType.NON_INVENTORY, "income_account": Role.INCOME, "expense_account": Role.COGS}
    one_sided = {"item_type": ItemType.NON_INVENTORY, "income_account": Role.INCOME}
    discount = LineKind(name="Discount", item_type=ItemType.DISCOUNT, income_account=Role.DISCOUNTS)
    if system == "pos":
        return Profile(
            system="pos", country=country, item_prefix="POS ",
            accounts=_accounts(*Role),
            line_kinds={
                "merchandise": LineKind(name="Merchandise", **two_sided),
                "services": LineKind(name="Services", item_type=ItemType.SERVICE, income_account=Role.INCOME),
                "gift_cards": LineKind(name="Gift Cards", item_type=ItemType.OTHER_CHARGE,
                                       income_account=Role.GIFT_CARDS),
                "tips": LineKind(name="Tips", item_type=ItemType.OTHER_CHARGE, income_account=Role.TIPS),
                "discount": discount,
            },
            sales_tax=tax,
            posting=Posting(customers=Mode.SUMMARY, items=Mode.SUMMARY, sales=SalesMode.SUMMARY),
        )  # fmt: skip
    return Profile(
        system="shop", country=country, item_prefix="Shop ",
        accounts=_accounts(*Role),
        line_kinds={
            "labor": LineKind(name="Labor", item_type=ItemType.SERVICE, income_account=Role.INCOME),
            "part": LineKind(name="Parts", **two_sided),
            "tire": LineKind(name="Tires", **two_sided),
            "subcontract": LineKind(name="Subcontract", **one_sided),
            "epa": LineKind(name="EPA", **one_sided),
            "shop_supplies": LineKind(name="Supplies", **one_sided),
            "fee": LineKind(name="Fees", **one_sided),
            "discount": discount,
        },
        sales_tax=tax,
    )  # fmt: skip


def validate(data: Any) -> Profile:
    """The profile ``data`` describes (a JSON object), or :class:`ProfileError` naming each problem."""
    if not isinstance(data, dict):
        raise ProfileError(["the profile must be a JSON object"])
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError([line for found in problems_of(exc) for line in found.split("; ")]) from None


def problems_of(exc: ValidationError) -> list[str]:
    """A pydantic validation error as one ``field.path: what is wrong`` line per problem."""
    return [_problem(e) for e in exc.errors()]


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", "not valid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def to_json(profile: Profile) -> dict[str, Any]:
    """The profile as it is stored and shown (JSON; the rate as a string)."""
    return profile.model_dump(mode="json")


def schema() -> dict[str, Any]:
    """The published JSON Schema of the profile."""
    found = Profile.model_json_schema()
    found["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    found["$id"] = "urn:qbwc-service:integration-profile"
    return found
