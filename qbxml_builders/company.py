"""What the first exchange of a run reads: HostQuery, CompanyQuery, PreferencesQuery.

QBWC sends their answers as ``strHCPResponse``; :mod:`qbxml_builders.hcp` reads them.
Preferences can only be read: qbXML has no request that changes them.
"""

from __future__ import annotations

from typing import Annotated

from ._fields import Guid, Payload, X
from .queries import QueryOptions


class IncludeListMetaData(Payload):
    """Ask HostQuery for the list capacity of this edition."""

    include_max_capacity: bool


class HostQuery(QueryOptions):
    """Read the product, edition, country and the qbXML versions QuickBooks speaks."""

    include_list_meta_data: Annotated[IncludeListMetaData | None, X(since="7.0")] = None


class CompanyQuery(QueryOptions):
    """Read the company's name, address, fiscal year start and subscription details."""

    owner_ids: Annotated[tuple[Guid, ...], X(tag="OwnerID", tail=4)] = ()


class PreferencesQuery(QueryOptions):
    """Read the company preferences, among them whether sales tax is turned on."""
