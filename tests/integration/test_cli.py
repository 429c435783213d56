"""The command line: companies, tokens, .qwc, enqueue and listing, each with --json output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from qbwc_service.cli import main
from qbwc_service.config import load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Job
from qbwc_service.qbwc.protocol import Protocol
from tests.emulator.conftest import needs_spec
from tests.helpers import customer_add


@pytest.fixture
def run(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QBWC_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("QBWC_PUBLIC_URL", "https://qb.example.com")
    monkeypatch.setenv("QBWC_MAX_ATTEMPTS", "3")
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(main, list(args), input=stdin, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_company_lifecycle_with_json_output(run, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    """create prints the token once, token rotates it (old one refused), qwc renders stable IDs."""
    code, out, _ = run("--json", "company", "create", "Joe's Garage", "--username", "joe")
    assert code == 0
    created = json.loads(out)
    assert {"name", "username", "token", "owner_id", "file_id"} <= created.keys()
    code, out, _ = run("--json", "company", "token", "Joe's Garage")
    rotated = json.loads(out)["token"]
    assert code == 0 and rotated != created["token"]
    protocol = Protocol(make_engine(sqlite_url), load_settings())
    assert protocol.authenticate("joe", created["token"])[1] == "nvu"
    assert protocol.authenticate("joe", rotated)[1] == "none"
    code, out, _ = run("company", "qwc", "Joe's Garage")
    qwc = etree.fromstring(out.encode())
    assert qwc.findtext("AppURL") == "https://qb.example.com/qbwc"
    assert qwc.findtext("OwnerID") == created["owner_id"] and qwc.findtext("FileID") == created["file_id"]
    assert qwc.findtext("UserName") == "joe" and qwc.findtext("QBType") == "QBFS"
    _, again, _ = run("company", "qwc", "Joe's Garage")
    assert again == out


def test_enqueue_and_jobs_listing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """enqueue reads a payload file or stdin; jobs lists them with their states as JSON."""
    run("company", "create", "acme", "--username", "acme")
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"request": customer_add("From file")}))
    code, out, _ = run("--json", "enqueue", "acme", "qbxml", "--payload", str(payload))
    assert code == 0 and json.loads(out)["state"] == "queued"
    code, out, _ = run(
        "--json", "enqueue", "acme", "qbxml", "--payload", "-", stdin=json.dumps({"request": customer_add("Stdin")})
    )
    assert code == 0
    code, out, _ = run("--json", "jobs", "--company", "acme", "--state", "queued")
    engine = make_engine(os.environ["QBWC_DATABASE_URL"])
    with engine.connect() as conn:  # QBWC_MAX_ATTEMPTS (set by the fixture) reaches the job
        assert conn.execute(select(Job.max_attempts)).scalars().all() == [3, 3]
    engine.dispose()
    listed = json.loads(out)
    assert [j["kind"] for j in listed] == ["qbxml", "qbxml"]
    assert {"id", "company", "kind", "state", "attempts", "status_code", "status_message"} <= listed[0].keys()
    code, out, err = run(
        "--json", "enqueue", "acme", "qbxml", "--payload", "-", stdin=json.dumps({"request": "<Nope/>"})
    )
    assert code == 1 and json.loads(out)["errors"] and "request:" in err


def test_errors_are_one_line_messages(run) -> None:  # type: ignore[no-untyped-def]
    """Unknown companies and duplicate names exit non-zero with a message, not a traceback."""
    code, _, err = run("company", "token", "ghost")
    assert code == 1 and "no company connection is named 'ghost'" in err and "Traceback" not in err
    run("company", "create", "acme", "--username", "acme")
    code, out, err = run("--json", "company", "create", "acme", "--username", "other")
    assert code == 1 and "already exists" in json.loads(out)["error"]


REQUEST = "\n  <CustomerAddRq><CustomerAdd><Name>Zoë</Name></CustomerAdd></CustomerAddRq>\n"


def _stored_requests(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = [p["request"] for p in conn.execute(select(Job.payload).order_by(Job.id)).scalars()]
    engine.dispose()
    return found


def test_a_ready_made_request_element_is_queued_from_a_file_or_stdin(run, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A qbxml job takes the …Rq element itself: --payload sniffs it (text starting with <), --xml says so."""
    run("company", "create", "acme", "--username", "acme")
    request = tmp_path / "req.xml"
    request.write_text('<?xml version="1.0" encoding="utf-8"?>' + REQUEST, encoding="utf-8")
    assert run("--json", "enqueue", "acme", "qbxml", "--payload", str(request))[0] == 0
    assert run("--json", "enqueue", "acme", "qbxml", "--payload", "-", stdin="\ufeff" + REQUEST)[0] == 0
    assert run("--json", "enqueue", "acme", "qbxml", "--xml", str(request))[0] == 0
    code, out, _ = run("--json", "enqueue", "acme", "qbxml", "--xml", "-", stdin=REQUEST)
    assert code == 0 and json.loads(out)["state"] == "queued"
    element = "<CustomerAddRq><CustomerAdd><Name>Zoë</Name></CustomerAdd></CustomerAddRq>"
    assert _stored_requests(sqlite_url) == [element] * 4
    code, out, _ = run("--json", "enqueue", "acme", "qbxml", "--xml", "-", stdin="<QBXML><QBXMLMsgsRq/></QBXML>")
    assert code == 1 and "is not a single qbXML request" in json.loads(out)["error"]


def test_xml_is_refused_for_a_typed_kind_and_the_payload_is_required_once(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """XML for customer_add, both --payload and --xml, or neither, are usage errors that say what to do."""
    run("company", "create", "acme", "--username", "acme")
    request = tmp_path / "req.xml"
    request.write_text(REQUEST, encoding="utf-8")
    for option in ("--payload", "--xml"):
        code, _, err = run("enqueue", "acme", "customer_add", option, str(request))
        assert code == 2 and "holds XML, but only a qbxml job takes a ready-made request element" in err
        assert "customer_add payload is a JSON object" in err and option in err
    code, _, err = run("enqueue", "acme", "qbxml", "--payload", str(request), "--xml", str(request))
    assert code == 2 and "give the payload with --payload FILE|-, or a qbxml job's request with --xml" in err
    assert run("enqueue", "acme", "qbxml")[0] == 2
    code, _, err = run("enqueue", "acme", "customer_add", "--payload", "-", stdin="name: Ann")
    assert code == 2 and "stdin is not JSON" in err and "takes the request element itself" in err


def test_the_readme_example_file_is_queued_by_the_installed_command(sqlite_url: str) -> None:
    """`qbwc-service enqueue CO qbxml --payload docs/examples/customer_add_rq.xml` works in a real process."""
    env = {**os.environ, "QBWC_DATABASE_URL": sqlite_url, "QBWC_LOG_LEVEL": "WARNING"}
    cli = str(Path(sys.executable).parent / "qbwc-service")
    subprocess.run([cli, "company", "create", "acme", "--username", "acme"], env=env, check=True, capture_output=True)
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "customer_add_rq.xml"
    done = subprocess.run(
        [cli, "--json", "enqueue", "acme", "qbxml", "--payload", str(example)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    piped = subprocess.run(
        [cli, "--json", "enqueue", "acme", "qbxml", "--xml", "-"],
        env=env, capture_output=True, text=True, input=example.read_text(encoding="utf-8"),
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert (json.loads(done.stdout)["id"], json.loads(piped.stdout)["id"]) == (1, 2)
    assert _stored_requests(sqlite_url)[0].startswith("<CustomerAddRq><CustomerAdd><Name>Zoë Smith</Name>")


def test_the_cli_names_the_raw_kind_as_the_registry_does() -> None:
    """The CLI's name for the ready-made kind (kept there to leave the registry unloaded) is the registry's."""
    from qbwc_service.cli.payload import RAW_KIND
    from qbwc_service.queue.kinds import RAW_QBXML

    assert RAW_QBXML.name == RAW_KIND


@needs_spec
def test_job_show_lists_each_step_with_its_request_and_response(run, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    """job show prints the query and the Add of an ensure job, each with QuickBooks' answer."""
    from qbwc_service.accounts import companies
    from qbwc_service.queue import jobs
    from qbwc_service.simulator import QuickBooksEmulator
    from tests.emulator.driver import Session

    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        company = companies.create_company(conn, "acme", "acme-qbwc")
        job_id = jobs.enqueue(conn, "acme", "customer_ensure", {"name": "Zoë"}).job_id
    Session(Protocol(engine, load_settings({"log_level": "WARNING"}, environ={})), company, QuickBooksEmulator()).run()
    engine.dispose()
    code, out, _ = run("--json", "job", "show", str(job_id))
    assert code == 0
    events = json.loads(out)["events"]
    sent = [e["request_xml"] for e in events if e["request_xml"]]
    answers = [e["response_xml"] for e in events if e["response_xml"]]
    assert [s.split(" ")[0] for s in sent] == ["<CustomerQueryRq", "<CustomerAddRq"]
    assert answers[0].startswith("<CustomerQueryRs") and answers[1].startswith("<CustomerAddRs")
    code, out, err = run("job", "show", str(job_id))
    assert "sent: <CustomerAddRq" in out + err
