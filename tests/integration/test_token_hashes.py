"""QBWC tokens hashed with argon2 by older versions still log in, and are stored as SHA-256 from then on."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import Engine, select, update

from qbwc_service.accounts.companies import NewCompany
from qbwc_service.db.models import Company
from qbwc_service.qbwc.protocol import Protocol


def test_an_argon2_token_logs_in_and_is_upgraded(engine: Engine, protocol: Protocol, company: NewCompany) -> None:
    with engine.begin() as conn:
        conn.execute(update(Company).values(token_hash=PasswordHasher().hash(company.token)))
    assert protocol.authenticate(company.username, "not the token") == ["", "nvu"]
    with engine.connect() as conn:
        assert conn.execute(select(Company.token_hash)).scalar_one().startswith("$argon2")
    assert protocol.authenticate(company.username, company.token)[1] == "none"
    with engine.connect() as conn:
        assert conn.execute(select(Company.token_hash)).scalar_one().startswith("sha256$")
    assert protocol.authenticate(company.username, company.token)[1] == "none"
    assert protocol.authenticate(company.username, company.token + "x") == ["", "nvu"]
