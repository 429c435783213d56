"""Query payloads shared by list and transaction queries: filters, iterators, options."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ._fields import Guid, Id, IteratorId, Payload, RetElement, StrAny, X
from ._rules import AtMostOne, Excludes, Iff, Is, OneOf, Rule


class ActiveStatus(StrEnum):
    """Which list entries a query returns, by their active flag."""

    ACTIVE_ONLY = "ActiveOnly"
    INACTIVE_ONLY = "InactiveOnly"
    ALL = "All"


class MatchCriterion(StrEnum):
    """How a name or RefNumber filter matches."""

    STARTS_WITH = "StartsWith"
    CONTAINS = "Contains"
    ENDS_WITH = "EndsWith"


class NameFilter(Payload):
    """Entries whose name starts with, contains or ends with ``name``."""

    match_criterion: MatchCriterion
    name: StrAny


class NameRangeFilter(Payload):
    """Entries whose name falls between ``from_name`` and ``to_name``."""

    from_name: StrAny | None = None
    to_name: StrAny | None = None


#: Largest MaxReturned this library sends; QuickBooks answers slowly above a few hundred.
MAX_RETURNED_LIMIT = 100_000

MaxReturned = Annotated[int, Field(ge=1, le=MAX_RETURNED_LIMIT)]

_TAIL_LINES = 1
_TAIL_LINKED = 2
_TAIL_RET = 3
_TAIL_OWNER = 4


class QueryOptions(Payload):
    """What every query has at its end: which elements and which custom fields to return."""

    include_ret_elements: Annotated[
        tuple[RetElement, ...], X(tag="IncludeRetElement", since="4.0", tail=_TAIL_RET)
    ] = ()


class _Iterating(Payload):
    """Iterator attributes for queries that page through results."""

    iterator: Annotated[Literal["Start", "Continue", "Stop"] | None, X(attr="iterator")] = None
    iterator_id: Annotated[IteratorId | None, X(attr="iteratorID")] = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """iterator_id with iterator Continue or Stop, and only then."""
        pair = Iff(
            Is("iterator", ("Continue", "Stop")),
            "iterator_id",
            missing="iterator_id: needed with iterator={iterator}",
            extra="iterator_id: only goes with iterator=Continue or Stop",
        )
        return (*super().field_rules(), pair)


class ListQuery(QueryOptions):
    """Find list entries by ListID, by FullName, or by filters (one of the three)."""

    list_ids: Annotated[tuple[Id, ...], X(tag="ListID")] = ()
    full_names: Annotated[tuple[StrAny, ...], X(tag="FullName")] = ()
    max_returned: MaxReturned | None = None
    active_status: ActiveStatus | None = None
    from_modified_date: datetime | date | None = None
    to_modified_date: datetime | date | None = None
    name_filter: NameFilter | None = None
    name_range_filter: NameRangeFilter | None = None

    #: Fields of a subclass that filter like the ones here (and so exclude IDs and names).
    extra_filters: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """IDs, names or filters: one of the three; one name filter at most."""
        filters = (
            "max_returned",
            "active_status",
            "from_modified_date",
            "to_modified_date",
            "name_filter",
            "name_range_filter",
            *cls.extra_filters,
        )
        return (
            *super().field_rules(),
            AtMostOne(("list_ids", "full_names")),
            Excludes(filters, ("list_ids", "full_names")),
            AtMostOne(("name_filter", "name_range_filter")),
        )


class ClassQuery(ListQuery):
    """Find classes (no iterator)."""


class TermsQuery(ListQuery):
    """Find terms of both kinds, standard and date-driven (no iterator)."""


class PaymentMethodQuery(ListQuery):
    """Find payment methods (no iterator)."""


class OwnedListQuery(ListQuery):
    """A list query that may also return the custom fields of ``owner_ids``."""

    owner_ids: Annotated[tuple[Guid, ...], X(tag="OwnerID", tail=_TAIL_OWNER)] = ()


class IteratingListQuery(OwnedListQuery, _Iterating):
    """A list query that may page through results with an iterator (qbXML 5.0+)."""

    iterator: Annotated[Literal["Start", "Continue", "Stop"] | None, X(attr="iterator", since="5.0")] = None
    iterator_id: Annotated[IteratorId | None, X(attr="iteratorID", since="5.0")] = None


class RefFilter(Payload):
    """An entity or account filter: by ListIDs, FullNames, or one entry with its children."""

    list_ids: Annotated[tuple[Id, ...], X(tag="ListID")] = ()
    full_names: Annotated[tuple[StrAny, ...], X(tag="FullName")] = ()
    list_id_with_children: Id | None = None
    full_name_with_children: StrAny | None = None

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """One way of naming the entries."""
        names = ("list_ids", "full_names", "list_id_with_children", "full_name_with_children")
        return (*super().field_rules(), OneOf(names))


class ModifiedDateRange(Payload):
    """Transactions modified in this range (read as QuickBooks' local time)."""

    from_modified_date: datetime | date | None = None
    to_modified_date: datetime | date | None = None


class TxnDateRange(Payload):
    """Transactions dated in this range."""

    from_txn_date: date | None = None
    to_txn_date: date | None = None


class RefNumberFilter(Payload):
    """Transactions whose RefNumber starts with, contains or ends with ``ref_number``."""

    match_criterion: MatchCriterion
    ref_number: StrAny


class RefNumberRangeFilter(Payload):
    """Transactions whose RefNumber falls between two values."""

    from_ref_number: StrAny | None = None
    to_ref_number: StrAny | None = None


class TxnQuery(QueryOptions, _Iterating):
    """Find transactions by TxnID, by RefNumber, or by filters (one of the three)."""

    iterator: Annotated[Literal["Start", "Continue", "Stop"] | None, X(attr="iterator", since="5.0")] = None
    iterator_id: Annotated[IteratorId | None, X(attr="iteratorID", since="5.0")] = None
    txn_ids: Annotated[tuple[Id, ...], X(tag="TxnID")] = ()
    ref_numbers: Annotated[tuple[StrAny, ...], X(tag="RefNumber")] = ()
    ref_numbers_case_sensitive: Annotated[tuple[StrAny, ...], X(tag="RefNumberCaseSensitive", since="3.0")] = ()
    max_returned: MaxReturned | None = None
    modified_date_range: Annotated[ModifiedDateRange | None, X(tag="ModifiedDateRangeFilter")] = None
    txn_date_range: Annotated[TxnDateRange | None, X(tag="TxnDateRangeFilter")] = None
    entity_filter: RefFilter | None = None
    account_filter: RefFilter | None = None
    ref_number_filter: RefNumberFilter | None = None
    ref_number_range_filter: RefNumberRangeFilter | None = None
    include_line_items: Annotated[bool | None, X(tail=_TAIL_LINES)] = None
    owner_ids: Annotated[tuple[Guid, ...], X(tag="OwnerID", tail=_TAIL_OWNER)] = ()

    #: Fields of a subclass that filter like the ones here (and so exclude IDs and numbers).
    extra_filters: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def field_rules(cls) -> tuple[Rule, ...]:
        """IDs, RefNumbers or filters: one of the three; one date and one RefNumber filter at most."""
        picked = ("txn_ids", "ref_numbers", "ref_numbers_case_sensitive")
        filters = (
            "max_returned",
            "modified_date_range",
            "txn_date_range",
            "entity_filter",
            "account_filter",
            "ref_number_filter",
            "ref_number_range_filter",
            *cls.extra_filters,
        )
        return (
            *super().field_rules(),
            AtMostOne(picked),
            Excludes(filters, picked),
            AtMostOne(("modified_date_range", "txn_date_range")),
            AtMostOne(("ref_number_filter", "ref_number_range_filter")),
        )


def tail_linked() -> X:
    """The rule of ``IncludeLinkedTxns``: after IncludeLineItems, before IncludeRetElement."""
    return X(tail=_TAIL_LINKED)
