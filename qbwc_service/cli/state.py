"""What every command shares: output mode, settings, the engine, and errors as one line."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from qbwc_service.config import Settings, load_settings
from qbwc_service.db.engine import make_engine
from qbwc_service.errors import QbwcError


@dataclass
class CliState:
    """What every command shares: output mode, settings, the engine (made on first use)."""

    as_json: bool = False
    settings: Settings = field(default_factory=load_settings)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The database engine."""
        if self._engine is None:
            self._engine = make_engine(self.settings.effective_database_url)
        return self._engine

    def close(self) -> None:
        """Release the engine's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def emit(self, data: Any, text: str) -> None:
        """Print ``data`` as one JSON document with ``--json``, else ``text``."""
        if self.as_json:
            click.echo(json.dumps(data, default=str, ensure_ascii=False))
        else:
            click.echo(text)

    def fail_fields(self, message: str, errors: list[str]) -> NoReturn:
        """Report a payload's field errors, one line each on stderr, and exit 1."""
        if self.as_json:
            click.echo(json.dumps({"error": message, "errors": errors}))
        for line in errors:
            click.echo(f"error: {line}", err=True)
        sys.exit(1)

    def fail(self, message: str, code: int = 1) -> NoReturn:
        """Report an error (as JSON too with ``--json``) and exit."""
        if self.as_json:
            click.echo(json.dumps({"error": message}))
        click.echo(f"error: {message}", err=True)
        sys.exit(code)


pass_state = click.make_pass_decorator(CliState)


class Group(click.Group):
    """A click group that turns service errors into one-line messages, not tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QbwcError as exc:
            state = ctx.find_object(CliState) or CliState()
            state.fail(str(exc))
        except DBAPIError as exc:
            state = ctx.find_object(CliState) or CliState()
            first = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            hint = (
                " (has `qbwc-service db upgrade` been run?)"
                if "no such table" in first or "does not exist" in first
                else ""
            )
            state.fail(f"database error: {first}{hint}")
