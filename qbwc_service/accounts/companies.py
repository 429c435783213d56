"""Company connections: create them, rotate their token, enable or disable them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qbwc_service.accounts.credentials import hash_token, new_guid, new_token
from qbwc_service.config import MAX_POLL_MINUTES
from qbwc_service.db.models import Company, utcnow
from qbwc_service.errors import CompanyNotFound, Conflict, QbwcError

#: Company names: 1-64 printable characters, no slashes (they appear in URLs and file names).
NAME_RE = re.compile(r"^[^\x00-\x1f/\\]{1,64}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class InvalidCompany(QbwcError):
    """A company connection's settings are not valid."""


def poll_minutes_error(minutes: int) -> str | None:
    """Why ``minutes`` is not a poll interval a person may set, or None when it is one."""
    if 1 <= minutes <= MAX_POLL_MINUTES:
        return None
    return (
        f"The poll interval is 1 to {MAX_POLL_MINUTES} minutes, not {minutes}: a daily sync starts within "
        "one poll of its time, and the Web Connector is asked back sooner only while work waits."
    )


@dataclass(frozen=True, slots=True)
class NewCompany:
    """A created connection; ``token`` is the only time the token is ever available."""

    id: int
    name: str
    username: str
    token: str
    owner_id: str
    file_id: str


def create_company(
    conn: Connection,
    name: str,
    username: str,
    *,
    company_file: str | None = None,
    poll_minutes: int = 5,
    read_only: bool = False,
) -> NewCompany:
    """Create a company connection with a fresh token and stable OwnerID/FileID."""
    name, username = name.strip(), username.strip()
    if not NAME_RE.match(name):
        raise InvalidCompany("a company name is 1-64 characters without slashes")
    if not USERNAME_RE.match(username):
        raise InvalidCompany("a QBWC user name is 1-64 letters, digits, dots, dashes, underscores or @")
    why = poll_minutes_error(poll_minutes)
    if why:
        raise InvalidCompany(why)
    token, owner_id, file_id = new_token(), new_guid(), new_guid()
    try:
        with conn.begin_nested():
            company_id = conn.execute(
                insert(Company)
                .values(
                    name=name, username=username, token_hash=hash_token(token), enabled=True,
                    owner_id=owner_id, file_id=file_id, company_file=(company_file or None),
                    poll_minutes=poll_minutes, read_only=read_only, created_at=utcnow(),
                )
                .returning(Company.id)
            ).scalar_one()  # fmt: skip
    except IntegrityError:
        raise Conflict(f"a company named {name!r} or with QBWC user {username!r} already exists") from None
    return NewCompany(company_id, name, username, token, owner_id, file_id)


def rotate_token(conn: Connection, name: str) -> str:
    """Give the company a new token; the old one stops working at once."""
    token = new_token()
    res = conn.execute(update(Company).where(Company.name == name).values(token_hash=hash_token(token)))
    if res.rowcount != 1:
        raise CompanyNotFound(name)
    return token


def set_enabled(conn: Connection, name: str, enabled: bool) -> None:
    """Enable or disable a connection (a disabled one answers ``nvu``)."""
    res = conn.execute(update(Company).where(Company.name == name).values(enabled=enabled))
    if res.rowcount != 1:
        raise CompanyNotFound(name)


def get_company(conn: Connection, name: str) -> Company:
    """The company called ``name`` as a detached object."""
    with Session(bind=conn) as db:
        row = db.execute(select(Company).where(Company.name == name)).scalar_one_or_none()
    if row is None:
        raise CompanyNotFound(name)
    return row
