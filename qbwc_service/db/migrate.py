"""Apply and check Alembic migrations from code (``qbwc-service db upgrade``)."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs on ``engine``'s database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats % as interpolation: escape it (URL-encoded options carry %3D).
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check(engine: Engine) -> None:
    """Raise when the models and the migrated schema differ (a migration is missing)."""
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect the DESC column of ix_job_next; PostgreSQL compares it.
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.check(cfg)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration against ``engine``'s (migrated) database."""
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def revisions(engine: Engine) -> tuple[frozenset[str], frozenset[str]]:
    """The revisions the database is at, and the heads of ``migrations/``: equal when it is migrated."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = frozenset(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as conn:
        current = frozenset(MigrationContext.configure(conn).get_current_heads())
    return current, heads
