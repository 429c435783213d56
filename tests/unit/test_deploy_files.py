"""The Dockerfile, its entrypoint and compose.yaml, checked without Docker: linted, parsed, held to the deploy rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from qbwc_service.config import PREFIX, env_vars

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
COMPOSE = ROOT / "compose.yaml"
SETTINGS = {var.name for var in env_vars()}


def tool(name: str) -> str:
    """A linter installed with the dev dependencies (beside this Python), or skip saying why."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]' brings it); the parse tests still run")
    return found


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_hadolint_passes() -> None:
    """hadolint finds nothing in the Dockerfile, info level included."""
    run = subprocess.run([tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_shellcheck_passes_on_the_entrypoint() -> None:
    """shellcheck finds nothing in the entrypoint script (POSIX sh)."""
    run = subprocess.run([tool("shellcheck"), "--shell=sh", str(ENTRYPOINT)], capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_image_is_python_311_slim_non_root_with_a_health_check() -> None:
    """One stage on python:3.11-slim; it runs as a numeric non-root user; the health check asks /healthz."""
    steps = instructions()
    assert [rest for keyword, rest in steps if keyword == "FROM"] == ["python:3.11-slim"]
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (keyword, _) in enumerate(steps) if keyword == "USER")
    assert all(keyword != "RUN" for keyword, _ in steps[last_user:]), "nothing runs as root after USER"
    health = [rest for keyword, rest in steps if keyword == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0] and "--interval" in health[0]
    assert ("EXPOSE", "8000") in steps
    assert any(keyword == "ENTRYPOINT" and "qbwc-entrypoint" in rest for keyword, rest in steps)


def test_every_copied_path_exists_and_the_package_data_is_in_the_image() -> None:
    """Each COPY source is in the repository; the migrations and .qwc templates the code reads are copied."""
    copied = [rest.split()[:-1] for keyword, rest in instructions() if keyword == "COPY"]
    sources = {src for group in copied for src in group}
    assert all((ROOT / src).exists() for src in sources), sources
    assert {"migrations", "qwc_templates", "qbwc_service", "qbxml_builders", "deploy/entrypoint.sh"} <= sources
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and "secrets" in ignored and not set(ignored) & sources


def test_the_entrypoint_migrates_before_it_serves_on_all_interfaces() -> None:
    """The container upgrades the schema, then execs gunicorn on 0.0.0.0:8000 (the health check's port)."""
    script = ENTRYPOINT.read_text(encoding="utf-8")
    assert script.startswith("#!/bin/sh\n") and "set -eu" in script
    upgrade, serve = script.index("qbwc-service db upgrade"), script.index("exec qbwc-service serve")
    assert upgrade < serve and '"0.0.0.0:8000"' in script[serve:]
    assert ENTRYPOINT.stat().st_mode & 0o111


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_compose_runs_the_service_on_postgresql_once_it_is_healthy() -> None:
    """compose.yaml: PostgreSQL with a health check and a volume; the service built here waits for it."""
    doc = compose()
    db, service = doc["services"]["db"], doc["services"]["qbwc"]
    assert db["image"].startswith("postgres:") and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert all(v.split(":")[0] in doc["volumes"] for v in db["volumes"])
    assert service["build"] == "." and service["depends_on"]["db"]["condition"] == "service_healthy"
    url = service["environment"]["QBWC_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@db:5432/" in url
    assert ":" not in url.removeprefix("postgresql+psycopg://").split("@")[0], "no password in the URL"
    assert service["ports"] == ["127.0.0.1:8000:8000"], "only the local TLS proxy reaches it"


def test_compose_names_only_real_settings_and_declared_secrets() -> None:
    """Every QBWC_ variable compose sets is a setting (or its _FILE), and every secret it uses is declared."""
    doc = compose()
    for name, service in doc["services"].items():
        for var in service.get("environment", {}):
            if var.startswith(PREFIX):
                assert var.removesuffix("_FILE") in SETTINGS, f"{name}: {var} is not a setting"
        for secret in service.get("secrets", []):
            assert secret in doc["secrets"], f"{name}: secret {secret} is not declared"
    env = doc["services"]["qbwc"]["environment"]
    read_by_entrypoint = ENTRYPOINT.read_text(encoding="utf-8")
    for var in env:
        if var.endswith("_FILE"):
            assert var.removesuffix("_FILE") in read_by_entrypoint, f"the entrypoint does not read {var}"
            assert env[var].startswith("/run/secrets/")
