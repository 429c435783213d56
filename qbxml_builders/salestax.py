"""Sales tax setup: sales tax items, sales tax group items and sales tax codes.

Whether sales tax is turned on is a company preference: read it with a PreferencesQuery
(see :func:`qbxml_builders.hcp.sales_tax_enabled`). qbXML cannot change preferences; a
person turns sales tax on in QuickBooks (Edit > Preferences > Sales Tax).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._fields import (
    NOT_US,
    BarCode,
    EditSequence,
    Guid,
    Id,
    Name3,
    Name31,
    Payload,
    Percent,
    Ref,
    Str31,
    Str4095,
    X,
)
from .queries import IteratingListQuery, ListQuery

_BARCODE = X(since="12.0")
_GUID = X(tag="ExternalGUID", since="8.0")


class ItemSalesTaxAdd(Payload):
    """A new sales tax item: one rate, paid to one agency (``tax_vendor_ref``).

    A 0 % item suits point-of-sale connectors whose own system computes the tax.
    """

    name: Name31
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, X(since="12.0")] = None
    item_desc: Str4095 | None = None
    tax_rate: Percent | None = None
    tax_vendor_ref: Ref | None = None
    sales_tax_return_line_ref: Annotated[Ref | None, X(countries=NOT_US)] = None
    external_guid: Annotated[Guid | None, _GUID] = None


class ItemSalesTaxMod(Payload):
    """Changes to a sales tax item."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    class_ref: Annotated[Ref | None, X(since="12.0")] = None
    item_desc: Str4095 | None = None
    tax_rate: Percent | None = None
    tax_vendor_ref: Ref | None = None
    sales_tax_return_line_ref: Annotated[Ref | None, X(countries=NOT_US)] = None


class ItemSalesTaxQuery(IteratingListQuery):
    """Find sales tax items."""


class ItemSalesTaxGroupAdd(Payload):
    """A new sales tax group item: several sales tax items charged as one."""

    name: Name31
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    item_desc: Str4095 | None = None
    external_guid: Annotated[Guid | None, _GUID] = None
    item_sales_tax_refs: Annotated[tuple[Ref, ...], X(tag="ItemSalesTaxRef"), Field(min_length=1)]


class ItemSalesTaxGroupMod(Payload):
    """Changes to a sales tax group item; ``item_sales_tax_refs`` replaces the members."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name31 | None = None
    bar_code: Annotated[BarCode | None, _BARCODE] = None
    is_active: bool | None = None
    item_desc: Str4095 | None = None
    item_sales_tax_refs: Annotated[tuple[Ref, ...], X(tag="ItemSalesTaxRef")] = ()


class ItemSalesTaxGroupQuery(IteratingListQuery):
    """Find sales tax group items."""


class SalesTaxCodeAdd(Payload):
    """A new sales tax code, which marks customers and items taxable or not (3 letters)."""

    name: Name3
    is_active: bool | None = None
    is_taxable: bool
    desc: Str31 | None = None
    item_purchase_tax_ref: Annotated[Ref | None, X(countries=NOT_US)] = None
    item_sales_tax_ref: Annotated[Ref | None, X(countries=NOT_US)] = None


class SalesTaxCodeMod(Payload):
    """Changes to a sales tax code (``is_taxable`` is fixed once the code is used)."""

    list_id: Annotated[Id, X(tag="ListID")]
    edit_sequence: EditSequence
    name: Name3 | None = None
    is_active: bool | None = None
    is_taxable: bool | None = None
    desc: Str31 | None = None
    item_purchase_tax_ref: Annotated[Ref | None, X(countries=NOT_US)] = None
    item_sales_tax_ref: Annotated[Ref | None, X(countries=NOT_US)] = None


class SalesTaxCodeQuery(ListQuery):
    """Find sales tax codes (no iterator, no custom fields)."""
