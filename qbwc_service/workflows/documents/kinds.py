"""The document kinds in the job-kind registry: validated like any kind, queued as the jobs they stand for.

``shop_invoice`` and ``pos_day`` publish their JSON Schema with the other kinds and are
validated at enqueue (one error per field). They build no request themselves: the queue
hands them to :func:`.post.post` (:attr:`~qbwc_service.queue.steps.JobKind.expand`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree
from pydantic import BaseModel
from sqlalchemy import Connection

from qbwc_service.errors import PayloadError
from qbwc_service.queue.kinds import JobKind, register
from qbwc_service.queue.steps import Expanded
from qbwc_service.workflows.documents import pos, shop
from qbwc_service.workflows.documents.common import validate_model


def _kind(name: str, description: str, model: type[BaseModel], reference: Any) -> JobKind:
    def validate(payload: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = validate_model(name, model, payload).model_dump(mode="json", exclude_none=True)
        return found

    def build(payload: Mapping[str, Any], version: str, country: str) -> etree._Element:
        raise PayloadError(name, ["a document is posted as the jobs it stands for; it is never sent itself"])

    def expand(conn: Connection, company_id: int, clean: dict[str, Any], actor: str, priority: int,
               max_attempts: int) -> Expanded:  # fmt: skip
        from qbwc_service.workflows.documents.post import post  # the queue's modules, loaded when one posts

        return post(conn, company_id, name, clean, actor=actor, priority=priority, max_attempts=max_attempts)

    def schema() -> dict[str, Any]:
        found = model.model_json_schema()
        found["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        return found

    return JobKind(name, description, validate, build, reference, schema=schema, expand=expand)


SHOP_INVOICE = _kind(
    shop.KIND,
    "A repair order: posted as the customer's ensure, the invoice (lines by kind, through the mapping) and its "
    "payments, in the company's posting modes.",
    shop.ShopInvoice,
    lambda payload: str(payload.get("repair_order") or "")[:200] or None,
)
POS_DAY = _kind(
    pos.KIND,
    "A point of sale's business day: orders, refunds, tips, gift cards and tenders, posted per order, per "
    "location and tender, or as a journal entry.",
    pos.PosDay,
    lambda payload: f"{payload.get('date')} {payload.get('location', 'Main')}"[:200],
)


def register_kinds() -> None:
    """Put ``shop_invoice`` and ``pos_day`` in the registry."""
    register(SHOP_INVOICE)
    register(POS_DAY)
