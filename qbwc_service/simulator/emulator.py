"""An in-memory QuickBooks company that answers qbXML like QuickBooks' ProcessRequest."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from qbwc_service.simulator import hcp, ledger
from qbwc_service.simulator.company import CompanyFacts
from qbwc_service.simulator.errors import HRESULT_PARSE, PARSE_MESSAGE, HResultError
from qbwc_service.simulator.faults import FaultInjector
from qbwc_service.simulator.kinds import ITEM_KINDS, KINDS, TERMS_KINDS, Kind, label, ref_targets
from qbwc_service.simulator.schema import content_order, load_schema
from qbwc_service.simulator.store import Duplicate, Reject, Store, load_json
from qbwc_service.simulator.txns import Transactions
from qbwc_service.simulator.xmldata import Data, Value, fill, to_data
from qbxml_builders import hardened_parser
from qbxml_builders.schema import schema_version_for
from qbxml_builders.versions import normalize_version

STATUS_OK = "Status OK"
NO_MATCH = "A query request did not find a matching object in QuickBooks"
NOT_PROCESSED = "The request has not been processed."
UNSUPPORTED = 9999
_MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Handled:
    """One request the emulator answered: its name, requestID and status."""

    request: str
    request_id: str | None
    status_code: int
    severity: str


@dataclass(slots=True)
class _Iterator:
    """A query's results still to hand out, page by page."""

    remaining: list[str]
    page_size: int
    lines: bool
    include: tuple[str, ...]


class QuickBooksEmulator:
    """One QuickBooks company file answering qbXML request documents.

    :meth:`process_request` takes a request document and returns the response document,
    or raises :class:`HResultError` where QuickBooks would fail the whole call.
    """

    def __init__(
        self,
        facts: CompanyFacts | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        validate: bool = True,
        faults: FaultInjector | None = None,
        seed_defaults: bool = True,
    ) -> None:
        self.facts = facts or CompanyFacts()
        self.store = Store(self.facts, clock)
        self.validate = validate
        self.faults = faults
        self.history: list[Handled] = []
        self._iterators: dict[str, _Iterator] = {}
        self._iterator_serial = 0
        self._lock = threading.RLock()
        self._txns = Transactions(self.store, self.facts, resolve=self.resolve, special_account=self.special_account)
        if seed_defaults:
            self._seed()

    # -- public API ------------------------------------------------------------------------

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any] | str | Path, **kwargs: Any) -> QuickBooksEmulator:
        """An emulator holding what a snapshot (mapping or JSON file) holds."""
        snap = snapshot if isinstance(snapshot, dict) else load_json(snapshot)
        facts = CompanyFacts.from_json(snap.get("facts", {}))
        emulator = cls(facts, seed_defaults=False, **kwargs)
        emulator.store.restore(snap)
        return emulator

    def snapshot(self) -> dict[str, Any]:
        """Everything in the company as one JSON-ready document."""
        with self._lock:
            return self.store.snapshot()

    def dump(self, path: str | Path) -> None:
        """Write :meth:`snapshot` to a JSON file."""
        import json

        Path(path).write_text(json.dumps(self.snapshot(), indent=2) + "\n", encoding="utf-8")

    def records(self, kind: str) -> list[Data]:
        """The stored records of ``kind`` (``Customer``, ``Invoice``, ...) in creation order."""
        return list(self.store.records[kind].values())

    def find(self, kind: str, name: str) -> Data | None:
        """The list entry of ``kind`` with that FullName, or ``None``."""
        ident = self.store.by_name(KINDS[kind].namespace, name)
        found = self.store.get(ident) if ident else None
        return found[1] if found and found[0].name == kind else None

    def bulk_add(self, kind: str, rows: Iterable[Data]) -> int:
        """Add many list entries at once, as a user typing them in would (no qbXML; for big fixtures).

        Each row is an Add's fields (``{"Name": ..., "CompanyName": ...}``), checked as an Add
        is (names, references, the edition's limit); the first refused one raises
        :class:`~.store.Reject`. Returns how many were added.
        """
        spec = KINDS[kind]
        if spec.txn:
            raise ValueError(f"bulk_add adds list entries, not {kind} transactions")
        added = 0
        with self._lock:
            for row in rows:
                self._add(spec, dict(row))
                added += 1
        return added

    def modify(self, kind: str, name: str, **changes: Value) -> Data:
        """Change a list entry found by FullName, as a user editing it would (new TimeModified)."""
        with self._lock:
            found = self.find(kind, name)
            if found is None:
                raise KeyError(f"no {kind} called {name!r}")
            data = {"ListID": found["ListID"], "EditSequence": found["EditSequence"], **changes}
            return self._mod(KINDS[kind], data)

    def delete(self, kind: str, name: str) -> None:
        """Delete a list entry found by FullName, as a user deleting it in QuickBooks would."""
        with self._lock:
            found = self.find(kind, name)
            if found is None:
                raise KeyError(f"no {kind} called {name!r}")
            ident = str(found["ListID"])
            del self.store.records[kind][ident]
            del self.store.kind_of[ident]
            self.store.names.get(KINDS[kind].namespace, {}).pop(name.lower(), None)

    def duplicates(self) -> list[Duplicate]:
        """Transactions that were entered more than once (see :meth:`Store.duplicates`)."""
        return self.store.duplicates()

    def ledger(self) -> dict[str, Decimal]:
        """The net debit balance per account FullName from every transaction (see :func:`.ledger.ledger`)."""
        with self._lock:
            return ledger.ledger(self.store)

    def set_sales_tax(self, on: bool) -> None:
        """Turn sales tax on or off, as a person does in QuickBooks' preferences.

        Turned on, the company gets what QuickBooks creates then (the Tax and Non codes and
        a tax item) when it has none yet.
        """
        with self._lock:
            self.facts = dataclasses.replace(self.facts, sales_tax=on)
            self.store.facts = self.facts
            self._txns = Transactions(
                self.store, self.facts, resolve=self.resolve, special_account=self.special_account
            )
            if on and not self.store.records["SalesTaxCode"]:
                self._seed_sales_tax()

    def applied(self) -> Counter[str]:
        """How many times each requestID's change was applied: Adds and Mods answered without an error.

        The service sends a job's steps under ``id`` and ``id.step``; :func:`.run.applied_twice`
        reads this by job.
        """
        with self._lock:
            return Counter(
                h.request_id or "" for h in self.history if not h.request.endswith("QueryRq") and h.severity != "Error"
            )

    def open_session(self) -> None:
        """Begin a QuickBooks session (BeginSession); iterators start afresh."""
        self._iterators.clear()

    def close_session(self) -> None:
        """End the session: its iterators are gone."""
        self._iterators.clear()

    def hcp_response(self) -> str:
        """The answer to HostQuery, CompanyQuery and PreferencesQuery (requestIDs 0, 1, 2)."""
        with self._lock:
            msgs = etree.Element("QBXMLMsgsRs")
            for rid, name in enumerate(("HostQuery", "CompanyQuery", "PreferencesQuery")):
                rs = self._status(etree.SubElement(msgs, name + "Rs"), str(rid), 0, STATUS_OK)
                rs.append(hcp.build(name, self.facts, self.store))
            return self._document(msgs)

    def process_request(self, document: str | bytes) -> str:
        """Answer a qbXML request document with a response document."""
        with self._lock:
            root, version = self._parse(document)
            msgs = root.find("QBXMLMsgsRq")
            if msgs is None:
                raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, "no QBXMLMsgsRq element")
            stop = msgs.get("onError", "stopOnError") != "continueOnError"
            out = etree.Element("QBXMLMsgsRs")
            failed = False
            for rq in msgs:
                if not isinstance(rq.tag, str):
                    continue
                tag, rid = rq.tag, rq.get("requestID")
                rs_tag = tag[:-2] + "Rs" if tag.endswith("Rq") else tag + "Rs"
                if failed:
                    rs = self._status(etree.Element(rs_tag), rid, 3231, NOT_PROCESSED)
                else:
                    rs = self._answer(rq, rs_tag, rid, version)
                    failed = stop and rs.get("statusSeverity") == "Error"
                out.append(rs)
                self.history.append(Handled(tag, rid, int(rs.get("statusCode", "0")), rs.get("statusSeverity", "")))
            return self._document(out)

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self, document: str | bytes) -> tuple[etree._Element, str]:
        raw = document.encode("utf-8") if isinstance(document, str) else document
        if len(raw) > _MAX_BYTES or not raw.strip():
            raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, "empty or oversized document")
        try:
            root = etree.fromstring(raw, parser=hardened_parser())
        except etree.XMLSyntaxError as exc:
            raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, str(exc.msg)) from exc
        if root.getroottree().docinfo.doctype:
            raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, "a DTD is not allowed")
        if root.tag != "QBXML":
            raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, f"the root is {root.tag!s}")
        pi = root.getprevious()
        while pi is not None and not (isinstance(pi, etree._ProcessingInstruction) and pi.target == "qbxml"):
            pi = pi.getprevious()
        if pi is None or not pi.get("version"):
            raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, "no <?qbxml version?> instruction")
        try:
            version = normalize_version(pi.get("version") or "")
        except ValueError as exc:
            raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, str(exc)) from exc
        if version not in self.facts.qbxml_versions:
            raise HResultError(
                HRESULT_PARSE,
                "The version of QBXML that was requested is not supported or is unknown.",
                version,
            )
        if self.validate:
            schema = load_schema(schema_version_for(version))
            if schema is not None and not schema.validate(root.getroottree()):
                error = schema.error_log.last_error
                detail = f"line {error.line}: {error.message}" if error else "invalid"
                raise HResultError(HRESULT_PARSE, PARSE_MESSAGE, detail)
        return root, version

    def _document(self, msgs: etree._Element) -> str:
        root = etree.Element("QBXML")
        root.append(msgs)
        return '<?xml version="1.0" ?>\n' + etree.tostring(root, encoding="unicode")

    @staticmethod
    def _status(
        rs: etree._Element, rid: str | None, code: int, message: str, severity: str | None = None
    ) -> etree._Element:
        if rid is not None:
            rs.set("requestID", rid)
        rs.set("statusCode", str(code))
        rs.set("statusSeverity", severity or ("Info" if code in (0, 1) else "Error"))
        rs.set("statusMessage", message)
        return rs

    # -- dispatch --------------------------------------------------------------------------

    def _answer(self, rq: etree._Element, rs_tag: str, rid: str | None, version: str) -> etree._Element:
        rs = etree.Element(rs_tag)
        forced = self.faults.forced_status() if self.faults else None
        if forced is not None:
            return self._status(rs, rid, forced, f"Simulated status {forced}.", "Error")
        try:
            code, message = self._dispatch(rq, rs)
        except Reject as rej:
            for child in list(rs):
                rs.remove(child)
            if rej.current is not None:
                rs.append(self._ret(*rej.current, lines=True))
            return self._status(rs, rid, rej.code, rej.message)
        if code == 0 and self.faults is not None and self.faults.warn():
            return self._status(
                rs,
                rid,
                530,
                "The request was processed, but QuickBooks ignored an element it does not support in this version.",
                "Warn",
            )
        return self._status(rs, rid, code, message, "Warn" if code >= 500 else None)

    def _dispatch(self, rq: etree._Element, rs: etree._Element) -> tuple[int, str]:
        tag = str(rq.tag)[:-2]
        if tag in ("HostQuery", "CompanyQuery", "PreferencesQuery"):
            rs.append(hcp.build(tag, self.facts, self.store))
            return 0, STATUS_OK
        for verb in ("Add", "Mod", "Query"):
            if not tag.endswith(verb):
                continue
            name = tag[: -len(verb)]
            if verb == "Query" and name in ("Item", "Terms"):
                return self._query(rq, rs, ITEM_KINDS if name == "Item" else TERMS_KINDS)
            kind = KINDS.get(name)
            if kind is None:
                break
            if verb == "Query":
                return self._query(rq, rs, (name,))
            body = rq.find(name + verb)
            if body is None:  # only without a schema
                raise Reject(3000, f"The {name}{verb} element is missing.")
            data = to_data(body, kind.repeated)
            record = self._add(kind, data) if verb == "Add" else self._mod(kind, data)
            rs.append(self._ret(kind, record, lines=True, include=_includes(rq)))
            return 0, STATUS_OK
        raise Reject(UNSUPPORTED, f"The QuickBooks emulator does not handle {rq.tag!s}.")

    # -- lists and shared checks -----------------------------------------------------------

    def resolve(self, kind: Kind, data: Data) -> Data:
        """Check every reference in ``data`` exists; store it as ListID + FullName (3140)."""
        out: Data = {}
        for name, value in data.items():
            targets = ref_targets(kind, name) if name.endswith("Ref") else None
            if isinstance(value, list):
                out[name] = [self._resolve_ref(kind, v, targets) if targets else self.resolve(kind, v) for v in value]
            elif isinstance(value, dict):
                out[name] = self._resolve_ref(kind, value, targets) if targets else self.resolve(kind, value)
            else:
                out[name] = value
        return out

    def _resolve_ref(self, kind: Kind, ref: Data, targets: tuple[str, ...]) -> Data:
        ident = ref.get("ListID")
        full = ref.get("FullName")
        found = None
        if isinstance(ident, str):
            found = self.store.get(ident)
        elif isinstance(full, str):
            namespace = KINDS[targets[0]].namespace
            hit = self.store.by_name(namespace, full)
            found = self.store.get(hit) if hit else None
        if found is None or found[0].name not in targets:
            shown = ident if isinstance(ident, str) else full
            raise Reject(
                3140,
                f'There is an invalid reference to QuickBooks {label(targets[0])} "{shown}" '
                f"in the {label(kind.name)}. QuickBooks error message: Invalid argument. "
                "The specified record does not exist in the list.",
            )
        target = found[1]
        return {"ListID": str(target["ListID"]), "FullName": self.store.name_of(target)}

    def _check_name(self, kind: Kind, data: Data, ident: str | None) -> tuple[str, str]:
        """Name and FullName of a list entry, checked for characters and uniqueness."""
        name = data.get("Name")
        if not isinstance(name, str) or not name:
            raise Reject(3000, f"The {label(kind.name)} needs a Name.")
        if ":" in name:
            raise Reject(
                3090,
                f'There is an invalid character ":" in the name "{name}" of the {label(kind.name)}.',
            )
        full = name
        parent = data.get("ParentRef")
        if isinstance(parent, dict):
            full = f"{parent['FullName']}:{name}"
        owner = self.store.by_name(kind.namespace, full)
        if owner is not None and owner != ident:
            raise Reject(3100, f'The name "{full}" of the list element is already in use.')
        return name, full

    def _add(self, kind: Kind, data: Data) -> Data:
        if kind.txn:
            return self._txns.add(kind, data)
        if kind.name in ("ItemSalesTax", "ItemSalesTaxGroup") and not self.facts.sales_tax:
            raise Reject(3250, "This feature is not enabled or not available in this company file.")
        if kind.name == "Employee" and "Name" not in data:
            parts = [data.get(p) for p in ("FirstName", "MiddleName", "LastName")]
            data["Name"] = " ".join(p for p in parts if isinstance(p, str) and p)
        limit = self.facts.effective_name_limit
        if limit is not None and kind.namespace in ("names", "items") and self.store.count(kind.namespace) >= limit:
            raise Reject(
                3180,
                f"There was an error when saving a {label(kind.name)} list element. "
                f"QuickBooks error message: This file has reached the limit of {limit} {kind.namespace}.",
            )
        data = self.resolve(kind, data)
        name, full = self._check_name(kind, data, None)
        record: Data = {
            "ListID": self.store.new_id(False),
            "TimeCreated": self.store.stamp(),
            "TimeModified": self.store.stamp(),
            "EditSequence": self.store.new_edit_sequence(),
            "Name": name,
        }
        if kind.hierarchical:
            record["FullName"] = full
            parent = data.get("ParentRef")
            record["Sublevel"] = "0"
            if isinstance(parent, dict):
                found = self.store.get(str(parent["ListID"]))
                level = found[1].get("Sublevel", "0") if found else "0"
                record["Sublevel"] = str(int(level if isinstance(level, str) else "0") + 1)
        record["IsActive"] = "true"
        for key, value in data.items():
            if key in ("Name",):
                continue
            record[_ret_name(key)] = value
        _defaults(kind, record, data)
        return self.store.insert(kind, _trim(kind, record))

    def _mod(self, kind: Kind, data: Data) -> Data:
        ident = data.get(kind.id_field)
        found = self.store.get(ident) if isinstance(ident, str) else None
        if found is None or found[0] is not kind:
            raise Reject(3120, f'Object "{ident}" specified in the request cannot be found.')
        current = found[1]
        sent = data.get("EditSequence")
        if sent != current.get("EditSequence"):
            raise Reject(3200, f'The provided edit sequence "{sent}" is out-of-date.', (kind, current))
        changes = {k: v for k, v in data.items() if k not in (kind.id_field, "EditSequence")}
        if kind.txn:
            return self._txns.mod(kind, current, changes)
        changes = self.resolve(kind, changes)
        old_full = self.store.name_of(current)
        if "Name" in changes or "ParentRef" in changes:
            probe = dict(current)
            probe.update({k: v for k, v in changes.items() if k in ("Name", "ParentRef")})
            _name, full = self._check_name(kind, probe, str(ident))
        for key, value in changes.items():
            target = _ret_name(key)
            existing = current.get(target)
            if isinstance(value, dict) and isinstance(existing, dict) and not key.endswith("Ref"):
                existing.update(value)
            else:
                current[target] = value
        if "Name" in changes or "ParentRef" in changes:
            self._rename(kind, str(ident), old_full, full)
        self.store.touch(current)
        trimmed = _trim(kind, current)
        current.clear()
        current.update(trimmed)
        return current

    def _rename(self, kind: Kind, ident: str, old: str, new: str) -> None:
        """Give an entry a new FullName, and its descendants with it."""
        if old == new:
            return
        self.store.rename(kind, ident, old, new)
        data = self.store.records[kind.name][ident]
        if kind.hierarchical:
            data["FullName"] = new
        prefix = old.lower() + ":"
        for other_kind, other in list(self.store.iter_kind(tuple(KINDS))):
            name = other.get("FullName")
            if other_kind.namespace == kind.namespace and isinstance(name, str) and name.lower().startswith(prefix):
                renamed = new + name[len(old) :]
                self.store.rename(other_kind, str(other["ListID"]), name, renamed)
                other["FullName"] = renamed

    def _seed(self) -> None:
        """What a new company has: standard terms and payment methods; with sales tax on, Tax/Non codes, a tax item."""
        for name, days in (("Due on receipt", "0"), ("Net 15", "15"), ("Net 30", "30")):
            self._add(KINDS["StandardTerms"], {"Name": name, "StdDueDays": days})
        for name, method in (("Cash", "Cash"), ("Check", "Check"), ("Visa", "Visa")):
            self._add(KINDS["PaymentMethod"], {"Name": name, "PaymentMethodType": method})
        if self.facts.sales_tax:
            self._seed_sales_tax()

    def _seed_sales_tax(self) -> None:
        """What QuickBooks creates when sales tax is turned on: the Tax and Non codes and a tax item."""
        for name, taxable, desc in (
            ("Tax", "true", "Taxable Sales"),
            ("Non", "false", "Non-Taxable Sales"),
        ):
            self._add(KINDS["SalesTaxCode"], {"Name": name, "IsTaxable": taxable, "Desc": desc})
        self._add(
            KINDS["ItemSalesTax"],
            {"Name": "Out of State", "ItemDesc": "Out-of-state sale, exempt", "TaxRate": "0.0"},
        )

    def special_account(self, name: str, account_type: str) -> Data:
        """An account QuickBooks creates by itself when first needed (A/R, Undeposited Funds)."""
        existing = self.find("Account", name)
        if existing is not None:
            return {"ListID": str(existing["ListID"]), "FullName": name}
        record = self._add(KINDS["Account"], {"Name": name, "AccountType": account_type})
        return {"ListID": str(record["ListID"]), "FullName": name}

    # -- queries ---------------------------------------------------------------------------

    def _query(self, rq: etree._Element, rs: etree._Element, kind_names: tuple[str, ...]) -> tuple[int, str]:
        mode = rq.get("iterator")
        lines, include = rq.findtext("IncludeLineItems") == "true", _includes(rq)
        if mode == "Continue":
            iterator_id = rq.get("iteratorID", "")
            it = self._iterators.get(iterator_id)
            if it is None:
                raise Reject(3391, f'The iteratorID "{iterator_id}" is not valid: it expired or is unknown.')
            return self._page(rs, it, iterator_id)
        ids, missing = self._match(rq, kind_names)
        meta = rq.get("metaData", "NoMetaData")
        if meta != "NoMetaData":
            rs.set("retCount", str(len(ids)))
            if meta == "MetaDataOnly":
                return (0, STATUS_OK) if ids else (1, NO_MATCH)
        max_text = rq.findtext(".//MaxReturned")
        limit = int(max_text) if max_text and max_text.isdigit() else None
        if mode == "Start":
            self._iterator_serial += 1
            iterator_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_OID, str(self._iterator_serial))) + "}"
            it = _Iterator(ids, limit or len(ids) or 1, lines, include)
            self._iterators[iterator_id] = it
            return self._page(rs, it, iterator_id)
        if limit is not None:
            ids = ids[:limit]
        for ident in ids:
            kind, data = self.store.get(ident) or (None, None)
            if kind is not None and data is not None:
                rs.append(self._ret(kind, data, lines=lines, include=include))
        if missing:
            return 500, (
                "The query request has not been fully completed. There was a required element "
                f'("{missing[0]}") that could not be found in QuickBooks.'
            )
        return (0, STATUS_OK) if ids else (1, NO_MATCH)

    def _page(self, rs: etree._Element, it: _Iterator, iterator_id: str) -> tuple[int, str]:
        page, it.remaining = it.remaining[: it.page_size], it.remaining[it.page_size :]
        for ident in page:
            found = self.store.get(ident)
            if found is not None:
                rs.append(self._ret(*found, lines=it.lines, include=it.include))
        rs.set("iteratorRemainingCount", str(len(it.remaining)))
        rs.set("iteratorID", iterator_id)
        if not it.remaining:
            del self._iterators[iterator_id]
        return (0, STATUS_OK) if page else (1, NO_MATCH)

    def _match(self, rq: etree._Element, kind_names: tuple[str, ...]) -> tuple[list[str], list[str]]:
        """Ids matching the query's filters, and the asked-for ids or names not found."""
        wanted_ids = [e.text or "" for e in rq if e.tag in ("ListID", "TxnID")]
        wanted_names = [e.text or "" for e in rq if e.tag == "FullName"]
        refs = [e.text or "" for e in rq if e.tag in ("RefNumber", "RefNumberCaseSensitive")]
        if wanted_ids or wanted_names:
            ids: list[str] = []
            missing: list[str] = []
            for ident in wanted_ids:
                found = self.store.get(ident)
                (ids if found and found[0].name in kind_names else missing).append(ident)
            for name in wanted_names:
                namespace = KINDS[kind_names[0]].namespace
                hit = self.store.by_name(namespace, name)
                found = self.store.get(hit) if hit else None
                if found and found[0].name in kind_names:
                    ids.append(hit or "")
                else:
                    missing.append(name)
            return ids, missing
        flt = _Filter.read(rq, self.store)
        hits: list[tuple[Kind, Data]] = []
        for kind, data in self.store.iter_kind(kind_names):
            if refs and data.get("RefNumber") not in refs:
                continue
            if flt.accepts(kind, data):
                hits.append((kind, data))
        if not KINDS[kind_names[0]].txn:
            # QuickBooks returns list entries in name order, as its lists show them.
            hits.sort(key=lambda hit: self.store.name_of(hit[1]).lower())
        return [str(data[kind.id_field]) for kind, data in hits], []

    # -- rendering -------------------------------------------------------------------------

    def _ret(self, kind: Kind, data: Data, *, lines: bool, include: tuple[str, ...] = ()) -> etree._Element:
        order = content_order("13.0")
        tag = kind.name + "Ret"
        shown = {
            k: self._fresh(v)
            for k, v in data.items()
            if (lines or k not in kind.lines) and (not include or k in include)
        }
        element = etree.Element(tag)
        fill(element, shown, order, f"el:{tag}")
        return element

    def _fresh(self, value: Value) -> Value:
        """A stored value with every reference's FullName brought up to date."""
        if isinstance(value, list):
            return [self._fresh_data(v) for v in value]
        if isinstance(value, dict):
            return self._fresh_data(value)
        return value

    def _fresh_data(self, data: Data) -> Data:
        ident = data.get("ListID")
        if isinstance(ident, str) and "FullName" in data and len(data) == 2:
            found = self.store.get(ident)
            if found is not None:
                return {"ListID": ident, "FullName": self.store.name_of(found[1])}
        return {k: self._fresh(v) for k, v in data.items()}


@dataclass(frozen=True, slots=True)
class _Filter:
    active: str
    from_modified: datetime | None
    to_modified: datetime | None
    from_date: str | None
    to_date: str | None
    entity: str | None
    name_match: tuple[str, str] | None
    #: NameRangeFilter: FromName and ToName (inclusive, compared without case), or None.
    name_range: tuple[str | None, str | None] | None = None

    @classmethod
    def read(cls, rq: etree._Element, store: Store) -> _Filter:
        def when(path: str) -> datetime | None:
            text = rq.findtext(path)
            return store.parse_time(text) if text else None

        entity = rq.find("EntityFilter")
        entity_name = None
        if entity is not None:
            entity_name = entity.findtext("ListID") or entity.findtext("FullName")
        name_filter = rq.find("NameFilter")
        name_match = None
        if name_filter is not None:
            name_match = (
                name_filter.findtext("MatchCriterion") or "StartsWith",
                (name_filter.findtext("Name") or "").lower(),
            )
        name_range = None
        range_filter = rq.find("NameRangeFilter")
        if range_filter is not None:
            low, high = range_filter.findtext("FromName"), range_filter.findtext("ToName")
            name_range = (low.lower() if low else None, high.lower() if high else None)
        return cls(
            name_range=name_range,
            active=rq.findtext("ActiveStatus") or "ActiveOnly",
            from_modified=when(".//FromModifiedDate"),
            to_modified=when(".//ToModifiedDate"),
            from_date=rq.findtext(".//FromTxnDate"),
            to_date=rq.findtext(".//ToTxnDate"),
            entity=entity_name,
            name_match=name_match,
        )

    def accepts(self, kind: Kind, data: Data) -> bool:
        """Whether a record passes every filter."""
        active = data.get("IsActive") == "true"
        if not kind.txn and self.active != "All" and active != (self.active == "ActiveOnly"):
            return False
        if self.from_modified or self.to_modified:
            modified = datetime.fromisoformat(str(data.get("TimeModified")))
            if self.from_modified and modified < self.from_modified:
                return False
            if self.to_modified and modified > self.to_modified:
                return False
        txn_date = data.get("TxnDate")
        if isinstance(txn_date, str):
            if self.from_date and txn_date < self.from_date:
                return False
            if self.to_date and txn_date > self.to_date:
                return False
        if self.entity is not None:
            ref = data.get("CustomerRef") or data.get("VendorRef")
            if not isinstance(ref, dict) or self.entity not in (
                ref.get("ListID"),
                ref.get("FullName"),
            ):
                return False
        if self.name_match is not None:
            how, needle = self.name_match
            name = str(data.get("FullName") or data.get("Name") or "").lower()
            test = {"StartsWith": name.startswith, "EndsWith": name.endswith}.get(how, name.__contains__)
            if not test(needle):
                return False
        if self.name_range is not None:
            low, high = self.name_range
            name = str(data.get("FullName") or data.get("Name") or "").lower()
            if (low is not None and name < low) or (high is not None and name > high):
                return False
        return True


def _includes(rq: etree._Element) -> tuple[str, ...]:
    return tuple(e.text or "" for e in rq.iter("IncludeRetElement"))


_RENAMES = {"OpenBalance": "Balance", "BarCode": "BarCodeValue"}


def _ret_name(tag: str) -> str:
    """The Ret element holding what ``tag`` of an Add or Mod sets."""
    if tag in _RENAMES:
        return _RENAMES[tag]
    for suffix in ("Add", "Mod"):
        if tag.endswith(suffix) and tag != suffix:
            base = tag[: -len(suffix)]
            return base + "Ret" if "Line" in base or base.startswith("AppliedToTxn") else base
    return tag


def _defaults(kind: Kind, record: Data, sent: Data) -> None:
    if kind.name in ("Customer", "Vendor", "Account"):
        balance = record.get("Balance", "0.00")
        record["Balance"] = balance
        if kind.name != "Vendor":
            record["TotalBalance"] = balance
    if kind.name == "ItemInventory":
        record.setdefault("QuantityOnHand", "0")


def _trim(kind: Kind, record: Data) -> Data:
    """Keep only what the kind's Ret element may hold, when the schema is known."""
    order = content_order("13.0")
    allowed = {n for n, _ in order.children(f"el:{kind.name}Ret")} if order else set()
    if not allowed:
        return record
    return {k: v for k, v in record.items() if k in allowed}
