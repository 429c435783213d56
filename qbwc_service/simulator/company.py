"""What the emulated QuickBooks says about itself: edition, country, versions, sales tax."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from qbwc_service.simulator.errors import SnapshotError


class Edition(StrEnum):
    """QuickBooks Desktop editions, which differ in product name and list limits."""

    PRO = "Pro"
    PREMIER = "Premier"
    ENTERPRISE = "Enterprise"


#: Every qbXML version a QuickBooks Desktop 2023 (US) reports as supported.
US_VERSIONS: tuple[str, ...] = (
    "1.0", "1.1", "2.0", "2.1", "3.0", "4.0", "4.1", "5.0", "6.0", "7.0", "8.0",
    "10.0", "11.0", "12.0", "13.0", "14.0", "15.0", "16.0",
)  # fmt: skip
#: Canadian and UK editions stopped at qbXML 13.0 in the builds we model.
NON_US_VERSIONS: tuple[str, ...] = tuple(v for v in US_VERSIONS if float(v) <= 13.0)

#: Names (customers, vendors, employees, other names combined) Pro and Premier hold, and
#: separately items.
SMALL_EDITION_NAME_LIMIT = 14_500


@dataclass(frozen=True, slots=True)
class CompanyFacts:
    """The facts of one emulated company file, as the HCP response reports them."""

    name: str = "Simulated Company"
    edition: Edition = Edition.PRO
    country: str = "US"
    #: ``MajorVersion`` of the QuickBooks program (33 is QuickBooks 2023).
    product_version: int = 33
    qbxml_versions: tuple[str, ...] = US_VERSIONS
    sales_tax: bool = True
    company_file: str = "C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files\\simulated.qbw"
    #: QuickBooks writes and reads times in the computer's local zone.
    utc_offset: str = "-05:00"
    #: Most names (and, separately, most items) the file holds; ``None``: the edition's default.
    name_limit: int | None = None
    address: dict[str, str] = field(
        default_factory=lambda: {"Addr1": "1 Main Street", "City": "Springfield", "State": "IL"}
    )

    @property
    def product_name(self) -> str:
        """``ProductName`` as QuickBooks reports it, e.g. ``QuickBooks Pro 2023``."""
        year = 1990 + self.product_version
        if self.edition is Edition.ENTERPRISE:
            return f"QuickBooks Enterprise Solutions {self.product_version}.0"
        label = "Premier Edition" if self.edition is Edition.PREMIER else "Pro"
        prefix = {"CA": "QuickBooks Canadian ", "UK": "QuickBooks UK "}.get(self.country)
        return f"{prefix or 'QuickBooks '}{label} {year}"

    @property
    def max_version(self) -> tuple[int, int]:
        """The highest qbXML version supported, as ``(major, minor)``."""
        best = max(tuple(int(p) for p in v.split(".")) for v in self.qbxml_versions)
        return best[0], best[1]

    @property
    def effective_name_limit(self) -> int | None:
        """How many names (and how many items) the file holds at most; ``None``: no practical limit."""
        if self.name_limit is not None:
            return self.name_limit
        return None if self.edition is Edition.ENTERPRISE else SMALL_EDITION_NAME_LIMIT

    @classmethod
    def for_country(cls, country: str, **kwargs: Any) -> CompanyFacts:
        """Facts for a US, CA or UK company, with that country's versions and tax model."""
        if country not in ("US", "CA", "UK"):
            raise ValueError(f"country must be US, CA or UK, not {country!r}")
        if country != "US":
            kwargs.setdefault("qbxml_versions", NON_US_VERSIONS)
        return cls(country=country, **kwargs)

    def to_json(self) -> dict[str, Any]:
        """The facts as a JSON-ready mapping."""
        data = asdict(self)
        data["edition"] = str(self.edition)
        data["qbxml_versions"] = list(self.qbxml_versions)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompanyFacts:
        """Read facts written by :meth:`to_json`."""
        try:
            values = dict(data)
            values["edition"] = Edition(values.get("edition", "Pro"))
            values["qbxml_versions"] = tuple(values.get("qbxml_versions", US_VERSIONS))
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise SnapshotError(f"the snapshot's company facts are not valid: {exc}") from exc
