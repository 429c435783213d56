"""The ``qbwc-service`` command line: thin calls into the queue and company modules.

Each command lives in a small module of this package and is imported only when it runs
(scripts call the CLI in loops; see ``bench/cli_start.py``). ``COMMANDS`` names them.
"""

from __future__ import annotations

import click

from qbwc_service.cli.lazy import LazyGroup
from qbwc_service.cli.state import CliState
from qbwc_service.config import ENV_HELP

__all__ = ["COMMANDS", "main"]

#: Every command: where it lives, and its short help for ``--help`` (a test checks they agree).
COMMANDS: dict[str, tuple[str, str]] = {
    "alerts": ("qbwc_service.cli.alerts:alerts", "Incidents of companies that stop polling or keep failing."),
    "apikey": ("qbwc_service.cli.apikeys:apikey", "Keys for the JSON API."),
    "company": ("qbwc_service.cli.companies:company", "Company connections: one QuickBooks company file each."),
    "db": ("qbwc_service.cli.db:db", "Database schema commands."),
    "doctor": (
        "qbwc_service.cli.doctor:doctor",
        "Check the configuration: public URL, secret key, database, clock, hosts, poll interval, log folder.",
    ),
    "enqueue": ("qbwc_service.cli.jobs:enqueue", "Queue a job of KIND for COMPANY."),
    "job": ("qbwc_service.cli.jobs:job", "Act on one job."),
    "import": ("qbwc_service.cli.imports:import_list", "Import a list of a company from QuickBooks (never deletes)."),
    "jobs": ("qbwc_service.cli.jobs:list_jobs", "List jobs, newest first."),
    "profile": (
        "qbwc_service.cli.setup:profile",
        "A company's integration profile: line kinds, account roles and sales tax.",
    ),
    "qbxml": ("qbwc_service.cli.qbxml:qbxml", "Preview the qbXML the service sends and read QuickBooks' answers."),
    "records": ("qbwc_service.cli.imports:records", "List the imported records of a company's list."),
    "requeue-stalled": (
        "qbwc_service.cli.jobs:requeue_stalled",
        "Abandon Web Connector sessions silent for QBWC_SESSION_TIMEOUT and requeue their jobs.",
    ),
    "serve": (
        "qbwc_service.cli.serve:serve",
        "Serve the SOAP endpoint (/qbwc), the JSON API and the admin pages with gunicorn.",
    ),
    "setup": ("qbwc_service.cli.setup:setup", "Company setup: make sure QuickBooks has what the profile names."),
    "sync-now": (
        "qbwc_service.cli.schedule:sync_now",
        "Send a company's waiting work at the Web Connector's next poll, whatever its schedule.",
    ),
    "simulate": (
        "qbwc_service.cli.simulate:simulate",
        "Create companies, queue a realistic mix of work and run simulated Web Connectors.",
    ),
    "user": ("qbwc_service.cli.users:user", "Staff users of the admin and support pages."),
}

EPILOG = "Environment variables:\n\n" + "\n\n".join(f"  {k}: {v}" for k, v in ENV_HELP.items())


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    epilog=EPILOG,
    context_settings={"max_content_width": 100},
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout and nothing else.")
@click.pass_context
def main(ctx: click.Context, as_json: bool) -> None:
    """Keep QuickBooks Desktop in sync through the QuickBooks Web Connector."""
    ctx.obj = CliState(as_json=as_json)
    ctx.call_on_close(ctx.obj.close)
