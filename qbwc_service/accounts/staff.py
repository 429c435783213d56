"""Staff users: create them, check their password, and count failed logins."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from qbwc_service.accounts.credentials import hash_secret, verify_secret
from qbwc_service.db.models import LoginFailure, Role, StaffUser, utcnow
from qbwc_service.errors import Conflict, NotFound, QbwcError

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


class InvalidUser(QbwcError):
    """A staff user's e-mail address, role or password is not acceptable."""


class UserNotFound(NotFound):
    """No staff user has this e-mail address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"no staff user {email!r}")


@dataclass(frozen=True, slots=True)
class NewUser:
    """A created staff user (the password is not kept)."""

    id: int
    email: str
    role: Role


def create_user(conn: Connection, email: str, password: str, role: Role | str) -> NewUser:
    """Create a staff user with an argon2-hashed password."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidUser(f"{email!r} is not an e-mail address")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidUser(f"the role is admin or support, not {role!r}") from None
    _valid_password(password)
    try:
        with conn.begin_nested():
            user_id = conn.execute(
                insert(StaffUser)
                .values(email=email, password_hash=hash_secret(password), role=role, active=True, created_at=utcnow())
                .returning(StaffUser.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"a staff user {email!r} already exists") from None
    return NewUser(user_id, email, role)


def _valid_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidUser(f"the password must be at least {MIN_PASSWORD} characters")
    return password


def list_users(conn: Connection) -> list[dict[str, object]]:
    """Every staff user, oldest first: id, e-mail, role, whether active, last login."""
    rows = conn.execute(
        select(StaffUser.id, StaffUser.email, StaffUser.role, StaffUser.active, StaffUser.last_login_at)
        .order_by(StaffUser.id)
    )  # fmt: skip
    return [
        {"id": r.id, "email": r.email, "role": str(r.role), "active": r.active, "last_login_at": r.last_login_at}
        for r in rows
    ]


def set_active(conn: Connection, email: str, active: bool) -> None:
    """Enable or disable a user; a disabled user's open pages log out on their next request."""
    _update(conn, email, active=active)


def set_password(conn: Connection, email: str, password: str) -> None:
    """Give a user a new password (argon2-hashed); the old one stops working at once."""
    _update(conn, email, password_hash=hash_secret(_valid_password(password)))


def _update(conn: Connection, email: str, **values: object) -> None:
    email = email.strip().lower()
    if conn.execute(update(StaffUser).where(StaffUser.email == email).values(**values)).rowcount != 1:
        raise UserNotFound(email)


def check_password(conn: Connection, email: str, password: str) -> int | None:
    """The id of the active user ``email`` when ``password`` is theirs; every path costs one hash check."""
    row = conn.execute(
        select(StaffUser.id, StaffUser.password_hash, StaffUser.active).where(StaffUser.email == email.lower())
    ).first()
    usable = row is not None and row.active
    ok = verify_secret(row.password_hash if usable and row else None, password)
    if not ok or row is None:
        return None
    conn.execute(update(StaffUser).where(StaffUser.id == row.id).values(last_login_at=utcnow()))
    return int(row.id)


@dataclass(frozen=True, slots=True)
class Throttle:
    """The failed-login limit: ``max_failures`` per e-mail and address within ``window``."""

    max_failures: int
    window: timedelta

    def retry_after(self, conn: Connection, email: str, ip: str, now: datetime | None = None) -> int:
        """Seconds until a login for ``email`` from ``ip`` is accepted again; 0 when it is now."""
        now = now or utcnow()
        since = now - self.window
        recent = conn.execute(
            select(func.count()).where(LoginFailure.email == email, LoginFailure.ip == ip, LoginFailure.at > since)
        ).scalar_one()
        if recent < self.max_failures:
            return 0
        # The limit lifts when the max_failures-th newest failure leaves the window.
        pivot = conn.execute(
            select(LoginFailure.at)
            .where(LoginFailure.email == email, LoginFailure.ip == ip, LoginFailure.at > since)
            .order_by(LoginFailure.at.desc())
            .offset(self.max_failures - 1)
            .limit(1)
        ).scalar_one()
        return max(1, math.ceil((pivot + self.window - now).total_seconds()))

    def record_failure(self, conn: Connection, email: str, ip: str, now: datetime | None = None) -> None:
        """Remember a failed login, and forget this pair's failures that left the window."""
        now = now or utcnow()
        conn.execute(
            delete(LoginFailure).where(
                LoginFailure.email == email, LoginFailure.ip == ip, LoginFailure.at <= now - self.window
            )
        )
        conn.execute(insert(LoginFailure).values(email=email, ip=ip, at=now))

    def clear(self, conn: Connection, email: str, ip: str) -> None:
        """Forget the failures of ``email`` from ``ip`` after a successful login."""
        conn.execute(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.ip == ip))
