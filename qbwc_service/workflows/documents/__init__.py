"""Business documents: shop invoices and POS days, posted as the company's profile says.

- :mod:`.common`: field types, the posting :class:`~.common.Context`, plans;
- :mod:`.shop`: ``shop_invoice`` (a repair order) and its plan;
- :mod:`.pos`: ``pos_day`` (a store's day) in detailed, summary or journal mode;
- :mod:`.post`: a plan queued as jobs, once per key, within the edition's list limits;
- :mod:`.kinds`: the two kinds in the job-kind registry (registered with :func:`register_kinds`).
"""

from __future__ import annotations

from qbwc_service.workflows.documents.kinds import register_kinds

__all__ = ["register_kinds"]
