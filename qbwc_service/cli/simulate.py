"""``qbwc-service simulate``: drive the service through simulated Web Connectors."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import click


@click.command()
@click.option(
    "--url",
    default="http://127.0.0.1:8000/qbwc",
    show_default=True,
    help="The service's QBWC endpoint.",
)
@click.option("--companies", default=5, show_default=True, type=click.IntRange(1, 500))
@click.option(
    "--sessions",
    default=20,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Web Connector runs per company at most (fewer once all its work is done).",
)
@click.option(
    "--faults",
    default="",
    help="Fault plan, e.g. lost-reply=0.05,hresult=0.01,slow=0.1,status=3180@7.",
)
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of data and faults.")
@click.option(
    "--prefix",
    default="sim",
    show_default=True,
    help="Companies are named <prefix>-<seed>-<n>; change it to simulate again on the same database.",
)
@click.option("--customers", default=3, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--invoices", default=2, show_default=True, type=click.IntRange(1, 10_000), help="Per customer.")
@click.option("--every", default=0.0, show_default=True, type=float, help="Seconds between runs.")
@click.option(
    "--raw",
    is_flag=True,
    help="Enqueue the same work as ready-made qbxml jobs (built for qbXML 13.0) instead of typed jobs.",
)
@click.option(
    "--snapshot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every emulated company to this JSON file.",
)
@click.pass_context
def simulate(
    ctx: click.Context,
    url: str,
    companies: int,
    sessions: int,
    faults: str,
    seed: int,
    prefix: str,
    customers: int,
    invoices: int,
    every: float,
    raw: bool,
    snapshot: Path | None,
) -> None:
    """Create companies, queue a realistic mix of work and run simulated Web Connectors.

    The work is typed jobs (customer_add, invoice_add, payment_add, ...) enqueued as a
    producer would. Exits with status 1 when anything was duplicated in QuickBooks, lost,
    failed or booked with the wrong amount.
    """
    from qbwc_service.cli.state import CliState
    from qbwc_service.errors import Conflict
    from qbwc_service.simulator.faults import FaultPlan
    from qbwc_service.simulator.run import Simulation

    state = ctx.find_object(CliState) or CliState()
    plan = FaultPlan.parse(faults)
    sim = Simulation(
        state.engine,
        url,
        companies=companies,
        faults=plan,
        seed=seed,
        customers=customers,
        invoices=invoices,
        raw=raw,
        prefix=prefix,
    )
    try:
        sim.setup()
    except Conflict as exc:
        state.fail(f"{exc}: pick another --prefix or --seed to simulate again on this database")
    lock = threading.Lock()
    with click.progressbar(length=companies * sessions, label="Web Connector runs", file=sys.stderr) as bar:

        def tick() -> None:
            with lock:
                bar.update(1)

        summary = sim.run(sessions, every=every, on_session=tick)
    if snapshot is not None:
        snapshot.write_text(json.dumps(sim.snapshot(), indent=2) + "\n", encoding="utf-8")
    if state.as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        click.echo(summary.text())
    if not summary.ok:
        ctx.exit(1)
