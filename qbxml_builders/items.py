"""Items: service, non-inventory, inventory, other charge and discount (Add, Mod, Query).

Service, non-inventory and other charge items are either bought *or* sold
(``sales_or_purchase``: one description, price and account) or bought *and* sold
(``sales_and_purchase``: income and expense sides). Sales tax items live in
:mod:`qbxml_builders.salestax`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from ._fields import (
    NOT_US,
    BarCode,
    EditSequence,
    Guid,
    Id,
    Money,
    Name31,
    Payload,
    Percent,
    Price,
    Quantity,
    Ref,
    Str31,
    Str4095,
    TaxCodeRef,
    X,
)
from ._rules import AtMostOne, OneOf, Rule
from .queries import IteratingListQuery

_BARCODE = X(since="12.0")
_CLASS = X(since="12.0")
_UOM = X(tag="UnitOfMeasureSetRef", since="7.0")
_TAX_INCLUDED = X(since="6.0", countries=NOT_US)
_GUID = X(tag="ExternalGUID", since="8.0")
_SIDES = frozenset({"sales_or_purchase", "sales_and_purchase", "sales_or_purchase_mod", "sales_and_purchase_mod"})


class SalesOrPurchase(Payload):
    """An item either sold or bought: one description, one price, one account."""

    desc: Str4095 | None = None
    price: Price | None = None
    price_percent: Percent | None = None
    account_ref: Ref | None = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """A price or a percentage, not both."""
        return (*super().field_rules(), AtMostOne(("price", "price_percent")))


class SalesAndPurchase(Payload):
    """An item both sold and bought: income and expense sides."""

    sales_desc: Str4095 | None = None
    sales_price: Price | None = None
    income_account_ref: Ref | None = None
    purchase_desc: Str4095 | None = None
    purchase_cost: Price | None = None
    purchase_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    expense_account_ref: Ref | None = None
    pref_vendor_ref: Ref | None = None


class SalesOrPurchaseMod(SalesOrPurchase):
    """Changes to the one side of a sold-or-bought item."""

    apply_account_ref_to_existing_txns: bool | None = None


class SalesAndPurchaseMod(Payload):
    """Changes to the two sides of a sold-and-bought item."""

    sales_desc: Str4095 | None = None
    sales_price: Price | None = None
    income_account_ref: Ref | None = None
    apply_income_account_ref_to_existing_txns: bool | None = None
    purchase_desc: Str4095 | None = None
    purchase_cost: Price | None = None
    purchase_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    expense_account_ref: Ref | None = None
    apply_expense_account_ref_to_existing_txns: bool | None = None
    pref_vendor_ref: Ref | None = None


class _TwoSided(Payload):
    """Checks that exactly one of the sold/bought shapes is given."""

    #: Whether one of the two shapes must be given (Add) or may be left out (Mod).
    side_required: ClassVar[bool] = True

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """One of the two shapes (at most one, in a Mod)."""
        names = tuple(n for n in cls.model_fields if n in _SIDES)
        return (*super().field_rules(), OneOf(names) if cls.side_required else AtMostOne(names))


class ItemServiceAdd(_TwoSided):
    """A new service item (labour, fees: things sold that are not stocked)."""

    name: Name31
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    unit_of_measure_set_ref: Annotated[Ref | None, _UOM] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_or_purchase: SalesOrPurchase | None = None
    sales_and_purchase: SalesAndPurchase | None = None
    external_guid: Annotated[Guid | None, _GUID] = None


class ItemServiceMod(_TwoSided):
    """Changes to a service item."""

    side_required = False
    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    unit_of_measure_set_ref: Annotated[Ref | None, _UOM] = None
    force_uom_change: Annotated[bool | None, X(tag="ForceUOMChange", since="7.0")] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_or_purchase_mod: SalesOrPurchaseMod | None = None
    sales_and_purchase_mod: SalesAndPurchaseMod | None = None


class ItemNonInventoryAdd(_TwoSided):
    """A new non-inventory item (goods sold or bought but not stocked)."""

    name: Name31
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    parent_ref: Ref | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    manufacturer_part_number: Str31 | None = None
    unit_of_measure_set_ref: Annotated[Ref | None, _UOM] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_or_purchase: SalesOrPurchase | None = None
    sales_and_purchase: SalesAndPurchase | None = None
    external_guid: Annotated[Guid | None, _GUID] = None


class ItemNonInventoryMod(_TwoSided):
    """Changes to a non-inventory item."""

    side_required = False
    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    manufacturer_part_number: Str31 | None = None
    unit_of_measure_set_ref: Annotated[Ref | None, _UOM] = None
    force_uom_change: Annotated[bool | None, X(tag="ForceUOMChange", since="7.0")] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_or_purchase_mod: SalesOrPurchaseMod | None = None
    sales_and_purchase_mod: SalesAndPurchaseMod | None = None


class ItemOtherChargeAdd(_TwoSided):
    """A new other charge item (shipping, handling, surcharges)."""

    name: Name31
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_or_purchase: SalesOrPurchase | None = None
    sales_and_purchase: SalesAndPurchase | None = None
    external_guid: Annotated[Guid | None, _GUID] = None


class ItemOtherChargeMod(_TwoSided):
    """Changes to an other charge item."""

    side_required = False
    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_or_purchase_mod: SalesOrPurchaseMod | None = None
    sales_and_purchase_mod: SalesAndPurchaseMod | None = None


class ItemInventoryAdd(Payload):
    """A new inventory item: stocked, with income, cost of goods sold and asset accounts."""

    name: Name31
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    manufacturer_part_number: Str31 | None = None
    unit_of_measure_set_ref: Annotated[Ref | None, _UOM] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_desc: Str4095 | None = None
    sales_price: Price | None = None
    income_account_ref: Ref
    purchase_desc: Str4095 | None = None
    purchase_cost: Price | None = None
    purchase_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    cogs_account_ref: Ref
    pref_vendor_ref: Ref | None = None
    asset_account_ref: Ref
    reorder_point: Quantity | None = None
    max: Annotated[Quantity | None, X(since="13.0")] = None
    quantity_on_hand: Quantity | None = None
    total_value: Money | None = None
    inventory_date: date | None = None
    external_guid: Annotated[Guid | None, _GUID] = None


class ItemInventoryMod(Payload):
    """Changes to an inventory item (quantities change through inventory adjustments)."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    manufacturer_part_number: Str31 | None = None
    unit_of_measure_set_ref: Annotated[Ref | None, _UOM] = None
    force_uom_change: Annotated[bool | None, X(tag="ForceUOMChange", since="7.0")] = None
    is_tax_included: Annotated[bool | None, _TAX_INCLUDED] = None
    sales_tax_code_ref: TaxCodeRef | None = None
    sales_desc: Str4095 | None = None
    sales_price: Price | None = None
    income_account_ref: Ref | None = None
    apply_income_account_ref_to_existing_txns: bool | None = None
    purchase_desc: Str4095 | None = None
    purchase_cost: Price | None = None
    purchase_tax_code_ref: Annotated[TaxCodeRef | None, X(countries=NOT_US)] = None
    cogs_account_ref: Ref | None = None
    apply_cogs_account_ref_to_existing_txns: bool | None = None
    pref_vendor_ref: Ref | None = None
    asset_account_ref: Ref | None = None
    reorder_point: Quantity | None = None
    max: Annotated[Quantity | None, X(since="13.0")] = None


class ItemDiscountAdd(Payload):
    """A new discount item: a fixed amount or a percentage off the line above it."""

    name: Name31
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    item_desc: Str4095 | None = None
    sales_tax_code_ref: TaxCodeRef | None = None
    discount_rate: Price | None = None
    discount_rate_percent: Percent | None = None
    account_ref: Ref | None = None
    external_guid: Annotated[Guid | None, _GUID] = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """A rate or a percentage, not both."""
        return (*super().field_rules(), AtMostOne(("discount_rate", "discount_rate_percent")))


class ItemDiscountMod(Payload):
    """Changes to a discount item."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, _CLASS] = None
    parent_ref: Ref | None = None
    item_desc: Str4095 | None = None
    sales_tax_code_ref: TaxCodeRef | None = None
    discount_rate: Price | None = None
    discount_rate_percent: Percent | None = None
    account_ref: Ref | None = None
    apply_account_ref_to_existing_txns: bool | None = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """A rate or a percentage, not both."""
        return (*super().field_rules(), AtMostOne(("discount_rate", "discount_rate_percent")))


class ItemServiceQuery(IteratingListQuery):
    """Find service items."""


class ItemNonInventoryQuery(IteratingListQuery):
    """Find non-inventory items."""


class ItemInventoryQuery(IteratingListQuery):
    """Find inventory items."""


class ItemOtherChargeQuery(IteratingListQuery):
    """Find other charge items."""


class ItemQuery(IteratingListQuery):
    """Find items of every type at once (each answered as its own ``Item…Ret``)."""


class ItemDiscountQuery(IteratingListQuery):
    """Find discount items."""
