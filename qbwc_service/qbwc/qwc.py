"""The ``.qwc`` file an admin opens in the Web Connector to add a company connection."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from qbwc_service.config import MAX_POLL_MINUTES, Settings
from qbwc_service.db.models import Company

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "qwc_templates"
TEMPLATE = "default.qwc.xml"
CONTENT_TYPE = "application/xml; charset=utf-8"


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("xml",), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_qwc(company: Company, settings: Settings) -> str:
    """The ``.qwc`` XML for ``company``; OwnerID and FileID are the same on every call."""
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            app_name=f"{settings.app_name} ({company.name})",
            app_url=settings.endpoint_url,
            app_description=settings.app_description,
            app_support=settings.support_page,
            username=company.username,
            owner_id=company.owner_id,
            file_id=company.file_id,
            # A connection made before the limit may hold more: its file asks for the limit.
            run_every_minutes=min(company.poll_minutes, MAX_POLL_MINUTES),
            read_only=company.read_only,
        )
    )


def qwc_filename(company: Company) -> str:
    """A safe file name for the download, from the company name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", company.name).strip("-.") or "company"
    return f"{stem}.qwc"


def public_url_warning(settings: Settings) -> str | None:
    """Why QBWC would refuse the configured public URL, or None when it is fine."""
    url = settings.public_url.lower()
    if url.startswith("https://"):
        return None
    if re.match(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(/|$)", url):
        return None
    return (
        f"QBWC_PUBLIC_URL is {settings.public_url}: the Web Connector refuses a remote address "
        "that is not https (error QBWC1051). Serve the service over https."
    )
