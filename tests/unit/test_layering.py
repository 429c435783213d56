"""The layers' import rules, read from the source: what each part may reach, directly or through others."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("qbwc_service", "qbxml_builders")


@functools.cache
def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


@functools.cache
def _imports(module: str) -> frozenset[str]:
    """Every name ``module`` imports anywhere in its body (function-level included), as dotted names."""
    path = _modules()[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names.update(f"{base}.{a.name}" for a in node.names)
            names.add(base)
    return frozenset(names)


def _own(name: str) -> str | None:
    while name and name not in _modules():
        name = name.rpartition(".")[0]
    return name or None


def reach(module: str) -> set[str]:
    """Every module ``module`` imports, and everything those import in turn (third-party by full name)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in _imports(current):
            own = _own(name)
            target = own or name
            if target in seen:
                continue
            seen.add(target)
            if own:
                todo.append(own)
    return seen


def _offending(module: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in reach(module) if any(m == f or m.startswith(f + ".") for f in forbidden))


WEB_SOAP_CLI = ("flask", "flask_wtf", "werkzeug", "spyne", "qbwc_service.web", "qbwc_service.qbwc.soap",
                "qbwc_service.cli", "qbwc_service.app")  # fmt: skip


@pytest.mark.parametrize("module", ["qbwc_service.queue.jobs", "qbwc_service.queue.kinds", "qbwc_service.queue.retry"])
def test_the_queue_reaches_no_web_soap_or_cli(module: str) -> None:
    """The queue imports nothing of Flask, the web modules, SOAP or the CLI, not even through another module."""
    assert _offending(module, WEB_SOAP_CLI) == []


@pytest.mark.parametrize("module", ["qbwc_service.queue.jobs", "qbwc_service.qbwc.protocol"])
def test_the_queue_and_protocol_import_no_workflow(module: str) -> None:
    """Workflows reach the queue through the kind registry only: nothing below imports them."""
    assert _offending(module, ("qbwc_service.workflows",)) == []


def test_the_admin_pages_reach_no_soap() -> None:
    """The admin blueprints and the JSON API import nothing of Spyne or the SOAP service."""
    for module in ("qbwc_service.web.admin", "qbwc_service.web.api"):
        assert _offending(module, ("spyne", "qbwc_service.qbwc.soap", "qbwc_service.qbwc.protocol")) == [], module


def test_accounts_reach_no_flask() -> None:
    """Companies, staff users, API keys and credentials work without Flask or Spyne."""
    for module in [m for m in _modules() if m.startswith("qbwc_service.accounts.")]:
        assert _offending(module, ("flask", "werkzeug", "spyne", "qbwc_service.web")) == [], module


def test_alerts_reach_no_web_soap_or_cli() -> None:
    """The alert sweep runs in a worker thread and from cron: it imports nothing of Flask, the web, SOAP or the CLI."""
    for module in [m for m in _modules() if m.startswith("qbwc_service.alerts")]:
        assert _offending(module, WEB_SOAP_CLI) == [], module


def test_builders_reach_nothing_of_the_service() -> None:
    """qbxml_builders imports nothing of the service, SQLAlchemy, Flask or Spyne."""
    for module in [m for m in _modules() if m.startswith("qbxml_builders")]:
        assert _offending(module, ("qbwc_service", "sqlalchemy", "flask", "spyne")) == [], module


def test_the_reach_of_a_module_is_transitive() -> None:
    """The checker follows imports through other modules: the factory reaches Spyne through the SOAP module."""
    assert "spyne" in {m.split(".")[0] for m in reach("qbwc_service.app")}
    assert "qbwc_service.qbwc.soap" in reach("qbwc_service.app")
