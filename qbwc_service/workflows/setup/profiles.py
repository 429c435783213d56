"""A company's profile versions: every change kept with who made it; the newest is in force."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select

from qbwc_service.db.models import Company, IntegrationProfile, utcnow
from qbwc_service.errors import CompanyNotFound
from qbwc_service.workflows.setup.profile import Profile, ProfileError, default_profile, refusals, to_json, validate

P = IntegrationProfile.metadata.tables["integration_profile"]
C = Company.metadata.tables["company"]


def company_row(conn: Connection, company: str | int) -> Any:
    """The company's id, name, country and HCP facts, by name or id."""
    where = C.c.name == company if isinstance(company, str) else C.c.id == company
    row = conn.execute(select(C.c.id, C.c.name, C.c.qbxml_country, C.c.host_info).where(where)).first()
    if row is None:
        raise CompanyNotFound(str(company))
    return row


def current(conn: Connection, company_id: int) -> tuple[int | None, Profile]:
    """The profile in force and its version; ``(None, default)`` when none was saved yet."""
    row = conn.execute(
        select(P.c.version, P.c.body).where(P.c.company_id == company_id).order_by(P.c.version.desc()).limit(1)
    ).first()
    if row is not None:
        return int(row.version), validate(row.body)
    country = conn.execute(select(C.c.qbxml_country).where(C.c.id == company_id)).scalar()
    return None, default_profile("shop", country if country in ("US", "CA", "UK") else "US")


def save(conn: Connection, company_id: int, data: Any, *, actor: str) -> tuple[int, bool]:
    """Validate ``data`` and keep it as the company's next version; ``(version, changed)``.

    Refused (:class:`ProfileError`) when it is not valid or asks for what the company's
    country does not support. The same profile as the one in force makes no new version.
    """
    profile = validate(data)
    country = conn.execute(select(C.c.qbxml_country).where(C.c.id == company_id)).scalar()
    problems = refusals(profile, country)
    if problems:
        raise ProfileError(problems)
    version, existing = current(conn, company_id)
    if version is not None and to_json(existing) == to_json(profile):
        return version, False
    latest = conn.execute(select(func.max(P.c.version)).where(P.c.company_id == company_id)).scalar() or 0
    conn.execute(
        insert(P).values(company_id=company_id, version=latest + 1, body=to_json(profile), created_by=actor,
                         created_at=utcnow())
    )  # fmt: skip
    return latest + 1, True


def history(conn: Connection, company_id: int) -> list[dict[str, Any]]:
    """Every saved version, newest first: version, who, when."""
    rows = conn.execute(
        select(P.c.version, P.c.created_by, P.c.created_at).where(P.c.company_id == company_id)
        .order_by(P.c.version.desc())
    )  # fmt: skip
    return [{"version": r.version, "created_by": r.created_by, "created_at": r.created_at} for r in rows]
