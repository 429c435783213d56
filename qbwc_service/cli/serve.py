"""``qbwc-service serve``: gunicorn in place of this process."""

from __future__ import annotations

import os
import shutil
import sys

import click

from qbwc_service.cli.state import CliState, pass_state


@click.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@pass_state
def serve(state: CliState, bind: str, workers: int) -> None:
    """Serve the SOAP endpoint (/qbwc), the JSON API and the admin pages with gunicorn."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
    if gunicorn is None:
        state.fail("gunicorn is not installed")
    args = [
        gunicorn,
        "-c",
        "python:qbwc_service.gunicorn_conf",
        "--bind",
        bind,
        "--workers",
        str(workers),
    ]
    os.execv(gunicorn, [*args, "qbwc_service:create_app()"])
