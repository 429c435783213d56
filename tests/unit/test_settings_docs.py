"""One declaration of the settings: `--help` and the README's table list every one, with its default."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from qbwc_service import _docgen
from qbwc_service.cli import main
from qbwc_service.config import ENV_HELP, PREFIX, Settings, env_vars, load_settings

ROOT = Path(__file__).resolve().parents[2]
NAMES = [PREFIX + f.name.upper() for f in fields(Settings)]


def _squeezed(text: str) -> str:
    return "".join(text.split())


def test_every_setting_has_help_and_an_environment_variable() -> None:
    """Each Settings field says what it sets, and ENV_HELP names each field's QBWC_ variable, in order."""
    assert all(f.metadata.get("help") for f in fields(Settings))
    assert list(ENV_HELP) == NAMES == [var.name for var in env_vars()]
    assert "QBWC_PROXY_HOPS" in ENV_HELP and "QBWC_SUPERSEDE_AFTER" in ENV_HELP and "QBWC_ITERATOR_PAGE" in ENV_HELP
    assert (
        len(NAMES) == 47
    )  # 32 with logs, metrics, hosts, pool, timeouts and retries, then 15 of alerts and the dashboard


@pytest.mark.parametrize("name", NAMES)
def test_help_lists_each_variable_with_what_it_sets_and_its_default(name: str) -> None:
    """`qbwc-service --help` prints every QBWC_ variable with its meaning and default."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert _squeezed(f"{name}: {ENV_HELP[name]}") in _squeezed(result.output)
    assert "(default:" in ENV_HELP[name]


def test_every_listed_variable_is_read() -> None:
    """Setting any listed variable changes the setting it names (nothing listed is ignored)."""
    samples = {bool: "1", int: "7", tuple: "a,b"}
    for f in fields(Settings):
        default = getattr(Settings(), f.name)
        chosen = {"log_level": "DEBUG", "smtp_security": "tls", "log_format": "json"}  # one of a few words
        raw = chosen.get(f.name) or samples.get(type(default), "x")
        assert getattr(load_settings(environ={PREFIX + f.name.upper(): raw}), f.name) != default, f.name


def test_readme_table_is_current() -> None:
    """The README's settings table is what the generator writes from config.py today."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == _docgen.with_settings_table(readme), "run: .venv/bin/python -m qbwc_service._docgen"


def test_readme_lists_every_variable_with_its_default() -> None:
    """Each variable has its own row in the README, with the default --help gives."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(_docgen.START) : readme.index(_docgen.END)]
    for var in env_vars():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{var.name}` |"))
        assert (var.default_text or var.default or "none") in row


def test_the_generator_checks_and_rewrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m qbwc_service._docgen --check` fails on a stale table, and without --check fixes it."""
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\n{_docgen.START}\n| old |\n{_docgen.END}\n\nrest\n", encoding="utf-8")
    monkeypatch.setattr(_docgen, "README", stale)
    assert _docgen.main(["--check"]) == 1
    assert _docgen.main([]) == 0 and _docgen.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8").endswith(f"{_docgen.END}\n\nrest\n")
    checked = subprocess.run([sys.executable, "-m", "qbwc_service._docgen", "--check"], cwd=ROOT, check=False)
    assert checked.returncode == 0
