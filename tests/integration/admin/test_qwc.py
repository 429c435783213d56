"""The .qwc download: every element, the content type, the file name, stable IDs."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import Engine, update

from qbwc_service.accounts import companies
from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Company
from qbxml_builders import hardened_parser
from tests.conftest import make_test_app
from tests.integration.admin.factories import ADMIN, login, make_user

GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")


def test_qwc_download_carries_every_element(admin: FlaskClient, company: NewCompany) -> None:
    """The file is UTF-8 XML with each element QBWC reads, and no password."""
    response = admin.get(f"/companies/{company.id}/qwc")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="acme.qwc"'
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = etree.fromstring(response.data, parser=hardened_parser())
    assert root.tag == "QBWCXML"
    assert [child.tag for child in root] == [
        "AppName", "AppID", "AppURL", "AppDescription", "AppSupport", "UserName", "OwnerID", "FileID",
        "QBType", "Scheduler", "IsReadOnly", "Style",
    ]  # fmt: skip
    text = {child.tag: child.text for child in root}
    assert text["AppName"] == "qbwc-service (acme)"
    assert text["AppID"] is None
    assert text["AppURL"] == "http://localhost:8000/qbwc"
    assert text["AppDescription"] == "Keeps QuickBooks in sync with our application"
    assert text["AppSupport"] == "http://localhost:8000/support"
    assert text["UserName"] == "acme-qbwc"
    assert text["OwnerID"] == company.owner_id and GUID.match(company.owner_id)
    assert text["FileID"] == company.file_id and GUID.match(company.file_id)
    assert text["QBType"] == "QBFS"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "5"
    assert text["IsReadOnly"] == "false"
    assert text["Style"] == "Document"
    assert company.token.encode() not in response.data


def test_qwc_ids_are_stable_and_follow_the_company(admin: FlaskClient, engine: Engine) -> None:
    """Two downloads are identical; the file name, interval and read-only flag follow the connection."""
    with engine.begin() as conn:
        new = companies.create_company(conn, "Zoe Books Ltd.", "zoe", poll_minutes=12, read_only=True)
    first, second = admin.get(f"/companies/{new.id}/qwc"), admin.get(f"/companies/{new.id}/qwc")
    assert first.data == second.data
    assert first.headers["Content-Disposition"] == 'attachment; filename="Zoe-Books-Ltd.qwc"'
    root = etree.fromstring(first.data)
    assert root.findtext("Scheduler/RunEveryNMinutes") == "12" and root.findtext("IsReadOnly") == "true"
    assert (root.findtext("OwnerID"), root.findtext("FileID")) == (new.owner_id, new.file_id)


def test_qwc_escapes_configured_text(sqlite_url: str) -> None:
    """Configured names with XML special characters arrive intact, not as broken XML."""
    app = make_test_app(sqlite_url, app_description='Sync & "more" <fast>', public_url="https://sync.example.com")
    app.config["WTF_CSRF_ENABLED"] = False
    engine = app.extensions["qbwc"].engine
    make_user(engine, ADMIN, "admin")
    with engine.begin() as conn:
        new = companies.create_company(conn, "acme", "acme-qbwc")
    client = app.test_client()
    login(client, ADMIN)
    root = etree.fromstring(client.get(f"/companies/{new.id}/qwc").data)
    assert root.findtext("AppDescription") == 'Sync & "more" <fast>'
    assert root.findtext("AppURL") == "https://sync.example.com/qbwc"
    assert root.findtext("AppSupport") == "https://sync.example.com/support"
    engine.dispose()


def test_qwc_asks_for_at_most_15_minutes(admin: FlaskClient, engine: Engine) -> None:
    """A connection stored with an hour (made before the limit) gets a .qwc of 15 minutes; a new one is refused."""
    with engine.begin() as conn:
        new = companies.create_company(conn, "Old Books", "old", poll_minutes=15)
        conn.execute(update(Company).where(Company.id == new.id).values(poll_minutes=60))
        with pytest.raises(companies.InvalidCompany, match="The poll interval is 1 to 15 minutes, not 16"):
            companies.create_company(conn, "Slow Books", "slow", poll_minutes=16)
    root = etree.fromstring(admin.get(f"/companies/{new.id}/qwc").data)
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15"
