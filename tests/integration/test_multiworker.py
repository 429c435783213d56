"""Several server processes on PostgreSQL share one QBWC session; concurrent leases never overlap."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, select

from qbwc_service.accounts import companies
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Job, JobState, QbwcSession, utcnow
from qbwc_service.qbwc import sessions
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.queue import jobs
from qbwc_service.simulator.service import ServedService
from tests.helpers import customer_add, qbwc, response_doc, rs

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_two_gunicorn_servers_share_one_session(pg_url: str, tmp_path: Path) -> None:
    """Calls of one session alternate between two gunicorn processes and every job is done exactly once."""
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        ids = [jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add(f"C{i}")}).job_id for i in range(6)]
    servers: list[ServedService] = []
    try:
        for n in range(2):
            server = ServedService(pg_url, workers=2, env={"QBWC_BATCH_SIZE": "1"}, access_log=tmp_path / f"a{n}.log")
            servers.append(server.__enter__())
        clients = [qbwc(server.url) for server in servers]
        ticket = clients[0].authenticate(company.username, company.token)[0]
        sent: list[str] = []
        for n in range(len(ids)):
            svc_send, svc_recv = clients[n % 2], clients[(n + 1) % 2]
            doc = etree.fromstring(svc_send.sendRequestXML(ticket, "", "", "US", 13, 0).encode())
            (request,) = doc.find("QBXMLMsgsRq")
            sent.append(request.get("requestID"))
            percent = svc_recv.receiveResponseXML(ticket, response_doc(rs(request.get("requestID"))), "", "")
            assert percent == (100 if n == len(ids) - 1 else (n + 1) * 100 // len(ids))
        assert "6 done" in clients[1].closeConnection(ticket)
    finally:
        for server in servers:
            server.stop()
    assert sent == [str(i) for i in ids]
    with engine.connect() as conn:
        states = conn.execute(select(Job.state, Job.attempts).order_by(Job.id)).all()
        session = conn.execute(select(QbwcSession)).one()
    assert states == [(JobState.DONE, 1)] * 6
    assert (session.done, session.round_trips) == (6, 6)
    for n in range(2):
        lines = (tmp_path / f"a{n}.log").read_text().splitlines()
        assert sum("POST /qbwc" in line for line in lines) >= 6
    engine.dispose()


def _serve_send_calls(url: str, ticket: str, barrier: Any, out: Any) -> None:
    """One worker process: call sendRequestXML for ``ticket`` until it hands out nothing more."""
    engine = make_engine(url)
    protocol = Protocol(engine, load_settings({"database_url": url, "batch_size": 7}))
    barrier.wait()
    sent: list[str] = []
    while document := protocol.send_request_xml(ticket, None, None, "US", 13, 0):
        root = etree.fromstring(document.split("?>", 2)[-1].encode())
        sent += [str(rq.get("requestID")) for rq in root.iter() if str(rq.tag).endswith("Rq") and rq.get("requestID")]
    engine.dispose()
    out.put(sent)


def test_concurrent_leases_never_hand_out_a_job_twice(pg_url: str) -> None:
    """Four processes answering sendRequestXML for one session at once hand out disjoint jobs (SKIP LOCKED)."""
    engine: Engine = make_engine(pg_url)
    with engine.begin() as conn:
        companies.create_company(conn, "acme", "acme-qbwc")
        for i in range(200):
            jobs.enqueue(conn, "acme", "qbxml", {"request": customer_add(f"C{i}")})
        ticket = sessions.start(conn, jobs.company_id_by_name(conn, "acme"), planned=200, now=utcnow())
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_serve_send_calls, args=(pg_url, ticket, barrier, out)) for _ in range(4)]
    for proc in procs:
        proc.start()
    got = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    everything = [request_id for ids in got for request_id in ids]
    assert len(everything) == len(set(everything)) == 200
    assert sum(1 for ids in got if ids) >= 2
    with engine.connect() as conn:
        assert conn.execute(select(Job.attempts).distinct()).scalars().all() == [1]
        assert conn.execute(select(Job.ticket).distinct()).scalars().all() == [ticket]
    engine.dispose()
