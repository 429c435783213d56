"""The imports on the admin pages: the company page's lists panel, starting an import, searching records."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.config import load_settings
from qbwc_service.db.models import Job
from qbwc_service.qbwc.protocol import Protocol
from qbwc_service.simulator import CompanyFacts, Edition, QuickBooksEmulator
from tests.emulator.conftest import needs_spec
from tests.emulator.driver import Session

pytestmark = needs_spec


def test_an_import_started_on_the_company_page_shows_its_records_and_the_list_sizes(
    admin: FlaskClient, engine: Engine, company: NewCompany
) -> None:
    """The Import button queues it; after a run the page shows the records, the sizes near the Pro limit, search."""
    page = admin.get(f"/companies/{company.id}").get_data(as_text=True)
    assert "QuickBooks lists" in page and "never imported" in page
    response = admin.post(f"/companies/{company.id}/imports", data={"list": "customers"})
    assert response.status_code == 302
    with engine.connect() as conn:
        kinds = sorted(conn.execute(select(Job.kind)).scalars())
    assert kinds == ["import_customers", "list_counts"]
    queued = admin.get(f"/companies/{company.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in queued and "customers: queued" not in queued  # the page follows it
    qb = QuickBooksEmulator(CompanyFacts(edition=Edition.PRO))
    qb.bulk_add("Customer", ({"Name": f"Customer {n:05d}"} for n in range(11_700)))
    qb.bulk_add("Customer", [{"Name": "Zoë's Garage", "IsActive": "false"}])
    protocol = Protocol(engine, load_settings({"log_level": "WARNING", "iterator_page": 5000}, environ={}))
    Session(protocol, company, qb, hcp=True).run()
    page = admin.get(f"/companies/{company.id}").get_data(as_text=True)
    assert "11,701" in page and "names: 11,701 of 14,500 (81%)" in page and "near the list limit" in page
    assert "Full import" in page and 'http-equiv="refresh"' not in page
    found = admin.get(f"/companies/{company.id}/records/customers?q=zo%C3%AB").get_data(as_text=True)
    assert "Zoë&#39;s Garage" in found and "Customer 00001" not in found
    inactive = admin.get(f"/companies/{company.id}/records/customers?active=no").get_data(as_text=True)
    assert "Zoë&#39;s Garage" in inactive and "Customer 00002" not in inactive
    first = admin.get(f"/companies/{company.id}/records/customers").get_data(as_text=True)
    assert "Customer 00049" in first and "Customer 00050" not in first and "Next page" in first
    assert admin.get(f"/companies/{company.id}/records/spaceships").status_code == 404
