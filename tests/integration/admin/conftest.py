"""Fixtures of the admin tests: staff users and signed-in test clients (CSRF off unless asked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.integration.admin.factories import ADMIN, SUPPORT, login, make_user


@pytest.fixture
def staff(engine: Engine) -> None:
    """An admin (ada@example.com) and a support user (sam@example.com)."""
    make_user(engine, ADMIN, "admin")
    make_user(engine, SUPPORT, "support")


@pytest.fixture
def client(app: Flask, staff: None) -> Iterator[FlaskClient]:
    """An anonymous test client with CSRF checks off (they have tests of their own)."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    """A client signed in as the admin."""
    assert login(client, ADMIN).status_code == 302
    return client


@pytest.fixture
def support(client: FlaskClient) -> FlaskClient:
    """A client signed in as the support user."""
    assert login(client, SUPPORT).status_code == 302
    return client
