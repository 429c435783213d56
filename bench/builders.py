"""Benchmark the qbXML builders and response parsers.

Run: ``.venv/bin/python bench/builders.py``. Builds 10,000 five-line invoices, then parses a
generated ~10 MB CustomerQueryRs iterator response twice: streamed (iter_responses) and
whole (parse_response), printing throughput and peak memory (tracemalloc for Python
objects; the ru_maxrss rise, which also sees libxml2's C allocations).
"""

from __future__ import annotations

import gc
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from lxml import etree

from qbxml_builders import KINDS, OnError, build_document, iter_responses, parse_response
from qbxml_builders.sales import InvoiceAdd

INVOICES = 10_000
TARGET_BYTES = 10 * 1024 * 1024
TAIL = b"</CustomerQueryRs>\n</QBXMLMsgsRs>\n</QBXML>\n"


def invoice(n: int) -> InvoiceAdd:
    """A five-line invoice with a little non-ASCII text."""
    return InvoiceAdd.model_validate(
        {
            "customer_ref": {"full_name": f"Customer {n % 500} Café"},
            "txn_date": "2024-05-02",
            "ref_number": f"W{n:08d}",
            "memo": f"Web order {n}",
            "item_sales_tax_ref": {"full_name": "POS Tax 0%"},
            "lines": [
                {
                    "item_ref": {"full_name": f"Item {n % 97 + i}"},
                    "desc": f"Line {i} — size M",
                    "quantity": str(i + 1),
                    "rate": "19.99",
                }
                for i in range(4)
            ]
            + [{"desc": "Thank you!"}],
        }
    )


def bench_build() -> None:
    """Build (and serialise, 50 invoices a document) 10,000 invoices."""
    kind = KINDS["invoice_add"]
    payloads = [invoice(n) for n in range(INVOICES)]
    start = time.perf_counter()
    total = 0
    for first in range(0, INVOICES, 50):
        batch = payloads[first : first + 50]
        requests = [(str(i), kind.build(p)) for i, p in enumerate(batch)]
        total += len(build_document(requests, on_error=OnError.CONTINUE))
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    for n in range(1000):
        invoice(n)
    validate = (time.perf_counter() - start) / 1000
    print(
        f"build:   {INVOICES} invoices x 5 lines in {elapsed:.2f} s = "
        f"{INVOICES / elapsed:,.0f} invoices/s ({total / 1e6:.1f} MB of qbXML); "
        f"payload validation {validate * 1e6:.0f} µs each"
    )


def customer_ret(n: int) -> etree._Element:
    """One CustomerRet as QuickBooks returns it."""
    ret = etree.Element("CustomerRet")
    for tag, text in (
        ("ListID", f"{0x80000000 + n:X}-1714575600"),
        ("TimeCreated", "2024-05-01T10:00:00-05:00"),
        ("TimeModified", "2024-05-02T11:30:00-05:00"),
        ("EditSequence", str(1714575600 + n)),
        ("Name", f"Customer {n} Müller & Söhne"),
        ("FullName", f"Customer {n} Müller & Söhne"),
        ("IsActive", "true"),
        ("Sublevel", "0"),
        ("CompanyName", f"Müller & Söhne {n} GmbH"),
        ("FirstName", "Zoë"),
        ("LastName", "O'Brien"),
    ):
        etree.SubElement(ret, tag).text = text
    for which in ("BillAddress", "ShipAddress"):
        address = etree.SubElement(ret, which)
        for tag, text in (
            ("Addr1", f"{n} Rue de l'Église"),
            ("City", "Montréal"),
            ("State", "QC"),
            ("PostalCode", "H2X 1Y4"),
            ("Country", "Canada"),
        ):
            etree.SubElement(address, tag).text = text
    for tag, text in (
        ("Phone", "+1 514 555 0100"),
        ("Email", f"ap{n}@example.com"),
        ("Balance", f"{n % 1000}.50"),
        ("TotalBalance", f"{n % 1000}.50"),
        ("JobStatus", "None"),
        ("Notes", "Imported from the web shop; prefers email invoices."),
    ):
        etree.SubElement(ret, tag).text = text
    terms = etree.SubElement(ret, "TermsRef")
    etree.SubElement(terms, "ListID").text = "20000-1"
    etree.SubElement(terms, "FullName").text = "Net 30"
    return ret


def write_response(path: Path) -> int:
    """Write a CustomerQueryRs iterator response of about TARGET_BYTES; return the count."""
    one = etree.tostring(customer_ret(0), encoding="utf-8")
    count = TARGET_BYTES // len(one)
    with path.open("wb") as out:
        out.write(b'<?xml version="1.0" ?>\n<QBXML>\n<QBXMLMsgsRs>\n')
        out.write(
            b'<CustomerQueryRs requestID="1" statusCode="0" statusSeverity="Info" '
            b'statusMessage="Status OK" iteratorRemainingCount="0" '
            b'iteratorID="{eb05f701-e727-472f-8ade-6753c4f67a46}">\n'
        )
        for n in range(count):
            out.write(etree.tostring(customer_ret(n), encoding="utf-8"))
            out.write(b"\n")
        out.write(TAIL)
    return count


def maxrss_mb() -> float:
    """This process's peak resident size so far, in MB."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def current_rss_mb() -> float:
    """This process's resident size now, in MB (Linux /proc; else the peak so far)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return maxrss_mb()
    line = next(ln for ln in status.splitlines() if ln.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024 / 1e6


def parse_once(mode: str, path: Path) -> int:
    """Parse ``path`` streamed or whole; return the number of customers read."""
    if mode == "stream":
        return sum(len(r.objects) for r in iter_responses(path))
    return sum(len(r.objects) for r in parse_response(path.read_bytes()))


def child(mode: str, path: Path) -> None:
    """In a fresh process: time one parse, its ru_maxrss rise, then its tracemalloc peak."""
    parse_once(mode, path.with_suffix(".small.xml"))  # warm imports and caches
    gc.collect()
    rss_before = current_rss_mb()
    start = time.perf_counter()
    count = parse_once(mode, path)
    elapsed = time.perf_counter() - start
    rss_rise = maxrss_mb() - rss_before
    rss_peak = maxrss_mb()
    gc.collect()
    tracemalloc.start()
    parse_once(mode, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{count} {elapsed} {peak / 1e6} {rss_rise} {rss_peak}")


def measure(label: str, mode: str, path: Path) -> tuple[float, float, float]:
    """Run one parse mode in a fresh interpreter and print its figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    count = int(out[0])
    elapsed, peak, rss_rise, rss_peak = (float(v) for v in out[1:])
    size = path.stat().st_size / 1e6
    print(
        f"{label}: {size:.1f} MB in {elapsed:.2f} s = {size / elapsed:.1f} MB/s, "
        f"{count:,} customers; peak tracemalloc {peak:.1f} MB, peak RSS {rss_rise:.1f} MB "
        f"above the resident size before parsing (process ru_maxrss {rss_peak:.1f} MB)"
    )
    return elapsed, peak, rss_rise


def main() -> None:
    """Run the build benchmark, then the streaming and whole-document parse benchmarks."""
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.xml"
        write_response(path)
        small = path.with_suffix(".small.xml")
        small.write_bytes(path.read_bytes()[:4096].rsplit(b"<CustomerRet>", 1)[0] + TAIL)
        s_time, s_peak, s_rss = measure("stream (iter_responses)", "stream", path)
        w_time, w_peak, w_rss = measure("whole  (parse_response)", "whole", path)
        print(
            f"baseline ratio whole/stream: time {w_time / s_time:.2f}x, "
            f"tracemalloc peak {w_peak / s_peak:.2f}x, "
            f"RSS rise {w_rss / max(s_rss, 0.1):.2f}x"
        )
        verdict = "OK" if max(s_peak, s_rss) < 100 else "OVER"
        print(f"streaming peak under the 100 MB target: {verdict}")
    # Last: Linux carries a parent's ru_maxrss into a forked child, so the parse children
    # must run while this process is still small.
    bench_build()


if __name__ == "__main__":
    main()
