"""``qbwc-service user create`` and the migration that adds the failed-login table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from qbwc_service.accounts.credentials import verify_secret
from qbwc_service.cli import main
from qbwc_service.cli import state as cli_state
from qbwc_service.db import migrate
from qbwc_service.db.engine import make_engine
from qbwc_service.db.models import Role, StaffUser

PASSWORD = "a long enough password"


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A CLI runner on the test database; the engines the commands make are disposed afterwards."""
    monkeypatch.setenv("QBWC_DATABASE_URL", db_url)
    made: list[Engine] = []

    def tracked(url: str, **kwargs: Any) -> Engine:
        made.append(make_engine(url, **kwargs))
        return made[-1]

    monkeypatch.setattr(cli_state, "make_engine", tracked)
    yield CliRunner()
    for engine in made:
        engine.dispose()


def _user(db_url: str, email: str) -> StaffUser | None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as db:
            return db.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none()
    finally:
        engine.dispose()


def test_create_with_password_stdin_prints_json_without_the_password(runner: CliRunner, db_url: str) -> None:
    """--json prints the new user's id, e-mail and role only; the password is stored argon2-hashed."""
    result = runner.invoke(
        main, ["--json", "user", "create", "Ada@Example.com", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": 1, "email": "ada@example.com", "role": "admin"}
    assert PASSWORD not in result.output
    user = _user(db_url, "ada@example.com")
    assert user is not None and user.role is Role.ADMIN and user.password_hash.startswith("$argon2id$")
    assert verify_secret(user.password_hash, PASSWORD)


def test_create_prompts_for_the_password_twice(runner: CliRunner, db_url: str) -> None:
    """Without --password-stdin the password is asked for and confirmed."""
    result = runner.invoke(main, ["user", "create", "sam@example.com", "--role", "support"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output and "created support user sam@example.com" in result.output
    user = _user(db_url, "sam@example.com")
    assert user is not None and user.role is Role.SUPPORT


def test_create_refuses_short_passwords_duplicates_and_bad_roles(runner: CliRunner) -> None:
    """A short password, an existing e-mail and an unknown role each fail with a sentence."""
    args = ["--json", "user", "create", "ada@example.com", "--role", "admin", "--password-stdin"]
    short = runner.invoke(main, args, input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in json.loads(short.stdout)["error"]
    assert runner.invoke(main, args, input=PASSWORD + "\n").exit_code == 0
    again = runner.invoke(main, args, input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in json.loads(again.stdout)["error"]
    bad = runner.invoke(main, ["user", "create", "x@example.com", "--role", "owner", "--password-stdin"], input="x\n")
    assert bad.exit_code == 2


def test_list_disable_enable_and_reset_password(runner: CliRunner, db_url: str) -> None:
    """An admin manages staff from the shell: list them, lock one out, let them back, set a new password."""
    from qbwc_service.accounts.staff import check_password

    create = ["user", "create", "sam@example.com", "--role", "support", "--password-stdin"]
    assert runner.invoke(main, create, input=PASSWORD + "\n").exit_code == 0
    listed = runner.invoke(main, ["--json", "user", "list"])
    assert listed.exit_code == 0, listed.output
    assert [(u["email"], u["role"], u["active"], u["last_login_at"]) for u in json.loads(listed.stdout)] == [
        ("sam@example.com", "support", True, None)
    ]
    engine = make_engine(db_url)
    try:

        def can_log_in(password: str) -> bool:
            with engine.begin() as conn:
                return check_password(conn, "sam@example.com", password) is not None

        assert can_log_in(PASSWORD)
        assert runner.invoke(main, ["user", "disable", "Sam@Example.com"]).exit_code == 0
        assert not can_log_in(PASSWORD)
        assert "disabled" in runner.invoke(main, ["user", "list"]).output
        assert runner.invoke(main, ["user", "enable", "sam@example.com"]).exit_code == 0
        assert can_log_in(PASSWORD)
        new = "another long password"
        reset = runner.invoke(main, ["user", "password", "sam@example.com"], input=f"{new}\n{new}\n")
        assert reset.exit_code == 0, reset.output
        assert can_log_in(new) and not can_log_in(PASSWORD)
    finally:
        engine.dispose()
    short = runner.invoke(main, ["--json", "user", "password", "sam@example.com", "--password-stdin"], input="x\n")
    assert short.exit_code == 1 and "at least 10 characters" in json.loads(short.stdout)["error"]
    missing = runner.invoke(main, ["--json", "user", "disable", "nobody@example.com"])
    assert missing.exit_code == 1 and json.loads(missing.stdout) == {"error": "no staff user 'nobody@example.com'"}


def test_migrations_match_the_models(db_url: str) -> None:
    """After every migration, alembic finds no difference between the models and the schema."""
    engine = make_engine(db_url)
    try:
        migrate.check(engine)
    finally:
        engine.dispose()
