"""Typed readers of the admin forms and query strings; each returns values or error sentences.

CSRF is checked for every POST by Flask-WTF's ``CSRFProtect`` before a view runs; the
templates put ``csrf_token()`` into each form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from qbwc_service.accounts.companies import poll_minutes_error
from qbwc_service.db.models import JobState

#: Jobs on one page of the jobs list.
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class LoginInput:
    """What the login form sent."""

    email: str
    password: str
    next_url: str


def read_login(form: Mapping[str, str]) -> LoginInput:
    """The login form's fields, the e-mail normalised to lower case."""
    return LoginInput(
        email=form.get("email", "").strip().lower()[:254],
        password=form.get("password", ""),
        next_url=safe_next(form.get("next", "")),
    )


def safe_next(target: str) -> str:
    """``target`` when it is a path on this site, else an empty string (no open redirects)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


@dataclass(frozen=True, slots=True)
class CompanyInput:
    """A new company connection as the admin typed it."""

    name: str = ""
    username: str = ""
    company_file: str = ""
    poll_minutes: int = 5
    read_only: bool = False


def read_company(form: Mapping[str, str], default_poll: int) -> tuple[CompanyInput, dict[str, str]]:
    """The create-connection form: its values (for redisplay) and an error per field."""
    errors: dict[str, str] = {}
    name = form.get("name", "").strip()
    username = form.get("username", "").strip()
    if not name:
        errors["name"] = "Give the connection a name, e.g. the customer's company name."
    if not username:
        errors["username"] = "Choose the user name the Web Connector will log in with."
    raw_poll = form.get("poll_minutes", "").strip() or str(default_poll)
    try:
        poll = int(raw_poll)
    except ValueError:
        poll = default_poll
        errors["poll_minutes"] = "The poll interval is a whole number of minutes."
    else:
        why = poll_minutes_error(poll)
        if why:
            errors["poll_minutes"] = why
    company_file = form.get("company_file", "").strip()
    if len(company_file) > 500:
        errors["company_file"] = "The company file path is at most 500 characters."
    value = CompanyInput(name, username, company_file, poll, form.get("read_only") in ("on", "1", "true"))
    return value, errors


def read_priority(form: Mapping[str, str]) -> int | None:
    """The priority typed into the move-up form, or None when it is not a whole number."""
    try:
        value = int(form.get("priority", "").strip())
    except ValueError:
        return None
    return value if -1_000_000 <= value <= 1_000_000 else None


@dataclass(frozen=True, slots=True)
class JobFilters:
    """The jobs list's filters and page position, read from the query string."""

    company_id: int | None = None
    state: JobState | None = None
    kind: str | None = None
    text: str = ""
    since: date | None = None
    until: date | None = None
    #: Keyset position: show jobs older than this id (``before``) or newer (``after``).
    before: int | None = None
    after: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def since_at(self) -> datetime | None:
        """The start of the ``since`` day, UTC."""
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=UTC) if self.since else None

    @property
    def until_at(self) -> datetime | None:
        """The end of the ``until`` day (the start of the next one), UTC."""
        if self.until is None:
            return None
        return datetime(self.until.year, self.until.month, self.until.day, tzinfo=UTC) + timedelta(days=1)

    def query(self, **changes: object) -> dict[str, str]:
        """The filters as query-string arguments (page position dropped), with ``changes``."""
        args: dict[str, object] = {
            "company": self.company_id,
            "state": self.state.value if self.state else None,
            "kind": self.kind,
            "q": self.text or None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        args.update(changes)
        return {k: str(v) for k, v in args.items() if v is not None}

    @property
    def active(self) -> bool:
        """Whether any filter (not the page position) is set."""
        return bool(self.query())


def read_job_filters(args: Mapping[str, str]) -> JobFilters:
    """The jobs list filters; a malformed value is dropped and explained in ``errors``."""
    errors: list[str] = []

    def number(name: str, label: str) -> int | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        if raw.isdigit():
            return int(raw)
        errors.append(f"{label} must be a number; it was ignored.")
        return None

    def day(name: str, label: str) -> date | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors.append(f"{label} must be a date like 2026-01-31; it was ignored.")
            return None

    state: JobState | None = None
    raw_state = args.get("state", "").strip()
    if raw_state:
        try:
            state = JobState(raw_state)
        except ValueError:
            errors.append(f"There is no job state {raw_state!r}; it was ignored.")
    return JobFilters(
        company_id=number("company", "The company"),
        state=state,
        kind=args.get("kind", "").strip()[:64] or None,
        text=args.get("q", "").strip()[:200],
        since=day("since", "The start date"),
        until=day("until", "The end date"),
        before=number("before", "The page position"),
        after=number("after", "The page position"),
        errors=errors,
    )
