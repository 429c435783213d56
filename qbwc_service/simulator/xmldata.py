"""qbXML elements as plain JSON-ready data, and back as elements in schema order."""

from __future__ import annotations

from typing import Union

from lxml import etree

from qbwc_service.simulator.schema import ContentOrder

#: A record or aggregate: simple children as text, aggregates as mappings, repeats as lists.
Data = dict[str, "Value"]
Value = Union[str, Data, list[Data]]  # noqa: UP007 (a string annotation cannot use |)

#: Elements kept as lists even when they appear once, so lines always look alike.
REPEATED: frozenset[str] = frozenset(
    {
        "InvoiceLineRet",
        "SalesReceiptLineRet",
        "AppliedToTxnRet",
        "JournalDebitLine",
        "JournalCreditLine",
        "LinkedTxn",
        "DataExtRet",
        "ShipToAddress",
        "InvoiceLineAdd",
        "InvoiceLineMod",
        "SalesReceiptLineAdd",
        "SalesReceiptLineMod",
        "AppliedToTxnAdd",
    }
)


def to_data(element: etree._Element, repeated: frozenset[str] = REPEATED) -> Data:
    """Turn an element's children into :data:`Data` (attributes are not kept)."""
    out: Data = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag
        value: Value = to_data(child, repeated) if len(child) else (child.text or "")
        if tag in repeated or (isinstance(value, dict) and tag in out):
            existing = out.get(tag)
            if isinstance(existing, list):
                if isinstance(value, dict):
                    existing.append(value)
                continue
            if isinstance(existing, dict) and isinstance(value, dict):
                out[tag] = [existing, value]
            elif isinstance(value, dict):
                out[tag] = [value]
            else:
                out[tag] = value
        else:
            out.setdefault(tag, value)
    return out


def to_element(tag: str, data: Data, order: ContentOrder | None, key: str | None) -> etree._Element:
    """Build element ``tag`` from ``data``, children in the order schema ``key`` prescribes.

    With a known order, children the schema does not allow there are left out.
    """
    element = etree.Element(tag)
    fill(element, data, order, key)
    return element


def fill(element: etree._Element, data: Data, order: ContentOrder | None, key: str | None) -> None:
    """Append ``data`` to ``element`` as children (see :func:`to_element`)."""
    known = order.children(key) if order is not None and key is not None else []
    names: list[tuple[str, str | None]] = (
        [(n, k) for n, k in known if n in data] if known else [(n, None) for n in data]
    )
    for name, child_key in names:
        value = data[name]
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                element.append(to_element(name, item, order, child_key))
            else:
                etree.SubElement(element, name).text = item
