"""What the builders promise the rest of the repository: one hardened parser, no service imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: Where Python that parses XML lives; the builders' own ``_xml.py`` is the one allowed parser factory.
SOURCES = [ROOT / "qbwc_service", ROOT / "qbxml_builders", ROOT / "tests", ROOT / "bench"]
FACTORY = ROOT / "qbxml_builders" / "_xml.py"
OWN_PARSER = re.compile(r"XMLParser\(|resolve_entities\s*=")
PRIVATE_IMPORT = re.compile(r"^\s*(from\s+qbxml_builders\._xml\s+import|import\s+qbxml_builders\._xml)", re.MULTILINE)


def _python_files() -> list[Path]:
    return [p for base in SOURCES for p in sorted(base.rglob("*.py")) if p != Path(__file__).resolve()]


def test_only_the_builders_configure_an_xml_parser() -> None:
    """No module but qbxml_builders/_xml.py sets lxml parser options; the rest use hardened_parser()."""
    offenders = [str(p.relative_to(ROOT)) for p in _python_files() if p != FACTORY and OWN_PARSER.search(p.read_text())]
    assert offenders == []


def test_nobody_imports_the_private_xml_module() -> None:
    """Code outside qbxml_builders imports the hardened parser by its public name, not from qbxml_builders._xml."""
    outside = [p for p in _python_files() if ROOT / "qbxml_builders" not in p.parents]
    offenders = [str(p.relative_to(ROOT)) for p in outside if PRIVATE_IMPORT.search(p.read_text())]
    assert offenders == []


def test_builders_import_no_service_and_no_framework() -> None:
    """Importing qbxml_builders loads nothing of qbwc_service, SQLAlchemy, Flask or Spyne."""
    probe = (
        "import sys, qbxml_builders, qbxml_builders.kinds, qbxml_builders.schema\n"
        "import qbxml_builders.examples, qbxml_builders._docgen\n"
        "roots = {'qbwc_service', 'sqlalchemy', 'flask', 'spyne', 'werkzeug'}\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in roots))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_a_kind_imports_its_own_payload_models_only() -> None:
    """Naming and counting the kinds imports no payload model; looking one up imports its module alone."""
    names = "accounts company customers items journal payments queries sales salestax vendors"
    models = [f"qbxml_builders.{name}" for name in names.split()]
    probe = (
        "import sys\n"
        "from qbxml_builders.kinds import KINDS\n"
        "assert 'invoice_add' in KINDS and 'nothing_add' not in KINDS and len(KINDS) == len(list(KINDS))\n"
        f"models = {models!r}\n"
        "print(sorted(m for m in models if m in sys.modules))\n"
        "KINDS['invoice_add']\n"
        "print(sorted(m for m in models if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.splitlines() == ["[]", "['qbxml_builders.queries', 'qbxml_builders.sales']"]
