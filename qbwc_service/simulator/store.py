"""The emulated company's records: ids, names, edit sequences, clock and snapshots."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from qbwc_service.simulator.company import CompanyFacts
from qbwc_service.simulator.errors import SnapshotError
from qbwc_service.simulator.kinds import KINDS, Kind, label
from qbwc_service.simulator.xmldata import Data

SNAPSHOT_FORMAT = 1
CENT = Decimal("0.01")


class Reject(Exception):
    """A request QuickBooks answers with an error status (nothing was changed)."""

    def __init__(self, code: int, message: str, current: tuple[Kind, Data] | None = None) -> None:
        self.code, self.message, self.current = code, message, current
        super().__init__(f"{code}: {message}")


def money(value: Decimal) -> str:
    """An amount as QuickBooks writes it: two decimals."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def number(text: str | None, field: str, default: Decimal | None = None) -> Decimal:
    """A decimal read from a request field, or a 3000-style rejection."""
    if text is None or text == "":
        if default is None:
            raise Reject(3000, f'The field "{field}" is required.')
        return default
    try:
        return Decimal(text)
    except InvalidOperation:
        raise Reject(3000, f'The string "{text}" in the field "{field}" is not a number.') from None


def parse_offset(text: str) -> timezone:
    """A ``timezone`` from ``-05:00``."""
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Transactions that look like one business event entered more than once."""

    kind: str
    key: str
    ids: tuple[str, ...]


class Store:
    """Records by kind, with indexes for ids and names; no qbXML in here."""

    def __init__(self, facts: CompanyFacts, clock: Callable[[], datetime] | None = None) -> None:
        self.facts = facts
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tz = parse_offset(facts.utc_offset)
        self.records: dict[str, dict[str, Data]] = {k: {} for k in KINDS}
        self.kind_of: dict[str, str] = {}
        self.names: dict[str, dict[str, str]] = {}
        self.next_list = 0x80000001
        self.next_txn = 1
        self.next_line = 1
        self.txn_number = 0
        self.edit = 0
        self.next_ref: dict[str, int] = {}
        #: Transactions whose RefNumber QuickBooks chose (not part of a duplicate's key).
        self.auto_refs: set[str] = set()

    # -- time and identifiers ------------------------------------------------------------

    def now(self) -> datetime:
        """The current time in the company's zone."""
        return self.clock().astimezone(self.tz)

    def stamp(self) -> str:
        """The current time as QuickBooks writes ``TimeModified``."""
        return self.now().replace(microsecond=0).isoformat()

    def today(self) -> str:
        """Today's date in the company's zone."""
        return self.now().date().isoformat()

    def parse_time(self, text: str) -> datetime:
        """A qbXML date or date-time; without an offset it is QuickBooks' local time."""
        try:
            if len(text) == 10:
                parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
            else:
                parsed = datetime.fromisoformat(text)
        except ValueError:
            raise Reject(3000, f'The date "{text}" is not valid.') from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=self.tz)

    def _epoch(self) -> int:
        return int(self.clock().timestamp())

    def new_id(self, txn: bool) -> str:
        """A fresh ListID (``80000001-1700000000``) or TxnID (``1-1700000000``)."""
        if txn:
            n, self.next_txn = self.next_txn, self.next_txn + 1
        else:
            n, self.next_list = self.next_list, self.next_list + 1
        return f"{n:X}-{self._epoch()}"

    def new_line_id(self) -> str:
        """A fresh TxnLineID."""
        n, self.next_line = self.next_line, self.next_line + 1
        return f"{n:X}-{self._epoch()}"

    def new_edit_sequence(self) -> str:
        """An EditSequence: the time in seconds, but never the same twice."""
        self.edit = max(self.edit + 1, self._epoch())
        return str(self.edit)

    def next_ref_number(self, kind: str) -> str:
        """The next automatic RefNumber for ``kind``."""
        n = self.next_ref.get(kind, 1)
        self.next_ref[kind] = n + 1
        return str(n)

    def saw_ref_number(self, kind: str, ref: str) -> None:
        """Numbering continues after a numeric RefNumber a user typed, as in QuickBooks."""
        if ref.isdigit() and int(ref) >= self.next_ref.get(kind, 1):
            self.next_ref[kind] = int(ref) + 1

    # -- records -------------------------------------------------------------------------

    def get(self, ident: str) -> tuple[Kind, Data] | None:
        """The record with a ListID or TxnID, with its kind."""
        kind = self.kind_of.get(ident)
        if kind is None:
            return None
        return KINDS[kind], self.records[kind][ident]

    def by_name(self, namespace: str, full_name: str) -> str | None:
        """The id of the list entry called ``full_name`` (case-insensitive)."""
        return self.names.get(namespace, {}).get(full_name.lower())

    def name_of(self, data: Data) -> str:
        """A list entry's FullName (or Name, for kinds without one)."""
        value = data.get("FullName") or data.get("Name") or ""
        return value if isinstance(value, str) else ""

    def insert(self, kind: Kind, data: Data) -> Data:
        """Store a new record that already carries its id and header."""
        ident = str(data[kind.id_field])
        self.records[kind.name][ident] = data
        self.kind_of[ident] = kind.name
        if kind.namespace:
            self.names.setdefault(kind.namespace, {})[self.name_of(data).lower()] = ident
        return data

    def rename(self, kind: Kind, ident: str, old: str, new: str) -> None:
        """Move a name in its namespace index."""
        index = self.names.setdefault(kind.namespace, {})
        index.pop(old.lower(), None)
        index[new.lower()] = ident

    def touch(self, data: Data) -> None:
        """Mark a record changed: new TimeModified and EditSequence."""
        data["TimeModified"] = self.stamp()
        data["EditSequence"] = self.new_edit_sequence()

    def count(self, namespace: str) -> int:
        """How many entries a namespace holds (``names`` or ``items``: what an edition's limit counts)."""
        return len(self.names.get(namespace, {}))

    def iter_kind(self, kinds: tuple[str, ...]) -> Iterator[tuple[Kind, Data]]:
        """Every record of ``kinds``, in creation order."""
        for name in kinds:
            kind = KINDS[name]
            for data in self.records[name].values():
                yield kind, data

    # -- snapshots -----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything in the company as one JSON-ready document."""
        return {
            "format": SNAPSHOT_FORMAT,
            "facts": self.facts.to_json(),
            "counters": {
                "next_list": self.next_list,
                "next_txn": self.next_txn,
                "next_line": self.next_line,
                "txn_number": self.txn_number,
                "edit": self.edit,
                "next_ref": dict(self.next_ref),
                "auto_refs": sorted(self.auto_refs),
            },
            "records": {k: copy.deepcopy(list(v.values())) for k, v in self.records.items() if v},
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Replace everything with what :meth:`snapshot` wrote."""
        if snap.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"snapshot format {snap.get('format')!r} is not {SNAPSHOT_FORMAT}")
        try:
            counters = snap.get("counters", {})
            self.next_list = int(counters.get("next_list", 0x80000001))
            self.next_txn = int(counters.get("next_txn", 1))
            self.next_line = int(counters.get("next_line", 1))
            self.txn_number = int(counters.get("txn_number", 0))
            self.edit = int(counters.get("edit", 0))
            self.next_ref = {str(k): int(v) for k, v in counters.get("next_ref", {}).items()}
            self.auto_refs = set(counters.get("auto_refs", []))
            self.records = {k: {} for k in KINDS}
            self.kind_of, self.names = {}, {}
            for name, rows in snap.get("records", {}).items():
                kind = KINDS.get(name)
                if kind is None:
                    raise SnapshotError(f"the snapshot holds {name} records, an unknown kind")
                for row in rows:
                    self.insert(kind, copy.deepcopy(row))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"the snapshot is not valid: {exc}") from exc

    def duplicates(self) -> list[Duplicate]:
        """Transactions entered twice: same kind, customer, date, amount, memo and RefNumber.

        A RefNumber QuickBooks assigned itself is left out of the comparison, so a request
        applied twice is caught whether or not the caller chose the number.
        """
        groups: dict[tuple[str, str], list[str]] = {}
        for kind_name in ("Invoice", "SalesReceipt", "ReceivePayment", "JournalEntry"):
            for ident, data in self.records[kind_name].items():
                key = json.dumps(
                    [
                        ref_id(data.get("CustomerRef")),
                        data.get("TxnDate"),
                        data.get("TotalAmount") or data.get("Subtotal"),
                        data.get("Memo"),
                        None if ident in self.auto_refs else data.get("RefNumber"),
                        data.get("JournalDebitLine") if kind_name == "JournalEntry" else None,
                    ],
                    sort_keys=True,
                )
                groups.setdefault((kind_name, key), []).append(ident)
        return [Duplicate(kind, key, tuple(ids)) for (kind, key), ids in groups.items() if len(ids) > 1]

    def describe(self, kind: Kind) -> str:
        """The kind's name in messages."""
        return label(kind.name)


def ref_id(value: object) -> str | None:
    """The ListID/TxnID inside a stored reference."""
    if isinstance(value, dict):
        ident = value.get("ListID") or value.get("TxnID")
        return ident if isinstance(ident, str) else None
    return None


def load_json(path: str | Path) -> dict[str, Any]:
    """Read a snapshot file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"cannot read snapshot {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SnapshotError(f"snapshot {path} is not a JSON object")
    return data
