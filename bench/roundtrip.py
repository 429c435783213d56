"""QBWC round trips over HTTP: our service (gunicorn, 1 worker, SQLite) against a bare Spyne endpoint.

One round trip is sendRequestXML + receiveResponseXML, the unit of cost of a QBWC session.
The service leases one job per message (QBWC_BATCH_SIZE=1), records the request, parses
the response and commits every state change; the bare endpoint returns constants. Both
run under the same gunicorn settings and are driven by the same keep-alive HTTP client.

    .venv/bin/python bench/roundtrip.py [--rounds 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    '<soap:Body><{op} xmlns="http://developer.intuit.com/">{args}</{op}></soap:Body></soap:Envelope>'
)
#: Round trips per interleaved block: ours, then bare, then ours again.
BLOCK = 50
REQUEST_ID = re.compile(r'requestID="([^"&]+)"|requestID=&quot;([^&]+)&quot;')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(http: requests.Session, url: str, op: str, **args: str) -> str:
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in args.items())
    reply = http.post(
        url,
        data=ENVELOPE.format(op=op, args=body).encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"http://developer.intuit.com/{op}"'},
        timeout=30,
    )
    reply.raise_for_status()
    return reply.text


def serve(app: str, env: dict[str, str], chdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:qbwc_service.gunicorn_conf", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), "--access-logfile", "/dev/null", app],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(base + "/", timeout=5)
            return proc, base
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app} did not start")


def response_for(request: str) -> str:
    match = REQUEST_ID.search(request)
    rid = (match.group(1) or match.group(2)) if match else "1"
    return (
        f'<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><CustomerAddRs requestID="{rid}" statusCode="0" '
        'statusSeverity="Info" statusMessage="Status OK"><CustomerRet><ListID>80000001-1234567890</ListID>'
        "<EditSequence>1234567890</EditSequence><Name>Customer</Name><FullName>Customer</FullName>"
        "</CustomerRet></CustomerAddRs></QBXMLMsgsRs></QBXML>"
    )


def run_rounds(url: str, ticket: str, rounds: int) -> list[float]:
    http = requests.Session()
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        request = call(http, url, "sendRequestXML", ticket=ticket, strHCPResponse="", strCompanyFileName="",
                       qbXMLCountry="US", qbXMLMajorVers="13", qbXMLMinorVers="0")  # fmt: skip
        call(http, url, "receiveResponseXML", ticket=ticket, response=response_for(request), hresult="", message="")
        timings.append(time.perf_counter() - start)
    return timings


def prepare_service(db_url: str, jobs_count: int) -> tuple[str, str]:
    from qbwc_service.accounts import companies
    from qbwc_service.db import migrate
    from qbwc_service.db.engine import make_engine
    from qbwc_service.queue import jobs

    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        new = companies.create_company(conn, "bench", "bench")
        for i in range(jobs_count):
            request = f"<CustomerAddRq><CustomerAdd><Name>Customer {i}</Name></CustomerAdd></CustomerAddRq>"
            jobs.enqueue(conn, "bench", "qbxml", {"request": request})
    engine.dispose()
    return new.username, new.token


def summary(name: str, timings: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1000 for t in timings)
    mean = statistics.fmean(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    p50 = statistics.median(ms)
    print(f"{name:<28} {len(ms):>6} round trips  mean {mean:6.2f} ms  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    return mean, p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    total = args.rounds + args.warmup
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.sqlite3"
        username, token = prepare_service(db_url, total)
        servers: list[subprocess.Popen[bytes]] = []
        try:
            ours, ours_base = serve("qbwc_service:create_app()", {"QBWC_DATABASE_URL": db_url, "QBWC_BATCH_SIZE": "1",
                                                                  "QBWC_LOG_LEVEL": "WARNING"}, ROOT)  # fmt: skip
            servers.append(ours)
            bare, bare_base = serve("bare_endpoint:create_app()", {}, ROOT / "bench")
            servers.append(bare)
            http = requests.Session()
            auth = call(http, ours_base + "/qbwc", "authenticate", strUserName=username, strPassword=token)
            ticket = re.findall(r"<tns:string>([^<]*)</tns:string>", auth)[0]
            run_rounds(ours_base + "/qbwc", ticket, args.warmup)
            run_rounds(bare_base + "/", "t", args.warmup)
            # Interleave the two in blocks so machine noise falls on both alike.
            ours_t: list[float] = []
            bare_t: list[float] = []
            block_ratios: list[float] = []
            for start in range(0, args.rounds, BLOCK):
                n = min(BLOCK, args.rounds - start)
                ours_block = run_rounds(ours_base + "/qbwc", ticket, n)
                bare_block = run_rounds(bare_base + "/", "t", n)
                ours_t += ours_block
                bare_t += bare_block
                block_ratios.append(statistics.fmean(ours_block) / statistics.fmean(bare_block))
            from sqlalchemy import text

            from qbwc_service.db.engine import make_engine

            engine = make_engine(db_url)
            with engine.connect() as conn:
                done = conn.execute(text("SELECT count(*) FROM job WHERE state = 'done'")).scalar_one()
            engine.dispose()
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(10)
    print("QBWC round trip (sendRequestXML + receiveResponseXML) over HTTP, keep-alive, gunicorn 1 worker")
    bare_mean, bare_p50 = summary("bare Spyne endpoint", bare_t)
    ours_mean, ours_p50 = summary("qbwc-service (SQLite, WAL)", ours_t)
    print(f"jobs done and committed: {done} of {total}")
    print(
        f"ratio ours/bare: {ours_mean / bare_mean:.2f}x by mean, {ours_p50 / bare_p50:.2f}x by median (target <= 1.5x)"
    )
    quartiles = statistics.quantiles(block_ratios, n=4) if len(block_ratios) > 1 else block_ratios * 3
    print(
        f"ratio per interleaved block of {BLOCK}: median {statistics.median(block_ratios):.2f}x "
        f"(quartiles {quartiles[0]:.2f}x-{quartiles[2]:.2f}x over {len(block_ratios)} blocks)"
    )
    print(f"overhead per round trip: {ours_mean - bare_mean:.2f} ms")


if __name__ == "__main__":
    main()
