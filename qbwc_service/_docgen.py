"""Write the settings table of ``README.md`` from :class:`qbwc_service.config.Settings`.

Run ``python -m qbwc_service._docgen`` (or ``make docs``) after changing a setting; with
``--check`` it only fails when the README is out of date, as a test does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qbwc_service.config import env_vars

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- settings:start -->"
END = "<!-- settings:end -->"
NOTE = "<!-- generated from qbwc_service/config.py by `python -m qbwc_service._docgen`: edit the settings there -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_table() -> str:
    """Every ``QBWC_*`` variable as a Markdown table: name, meaning, default."""
    rows = ["| variable | meaning | default |", "| --- | --- | --- |"]
    for var in env_vars():
        default = var.default_text or (f"`{var.default}`" if var.default else "none")
        rows.append(f"| `{var.name}` | {_cell(var.help)} | {_cell(default)} |")
    return "\n".join(rows)


def with_settings_table(text: str) -> str:
    """``text`` with the generated table between the settings markers."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the README lacks the markers {START} and {END}")
    return f"{head}{START}\n{NOTE}\n\n{settings_table()}\n\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the README's table, or with ``--check`` say whether it is current."""
    current = README.read_text(encoding="utf-8")
    wanted = with_settings_table(current)
    if "--check" in argv:
        if current != wanted:
            print(f"{README} is out of date: run python -m qbwc_service._docgen", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
