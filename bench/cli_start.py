"""Start-up cost of the CLI: `jobs`, `enqueue` and `job show` against a bare interpreter.

Scripts call ``qbwc-service`` in loops, so what a command costs is mostly what it imports.
This migrates a temporary SQLite database, creates a company and a few jobs, then runs each
command several times, interleaved with ``python -c pass`` so that a busy machine slows
every column alike, and prints the median wall time (and the child's CPU time) of each,
with its ratio to the bare interpreter. The commands write and read ``.pyc`` files, as an
installed package has them: ``PYTHONDONTWRITEBYTECODE`` is dropped for them (with it, and no
``__pycache__`` yet, every module of the checkout is compiled from source at every run).

    .venv/bin/python bench/cli_start.py [--runs 15]

To measure another checkout with this venv, put it first on the path:
``PYTHONPATH=/tmp/cli-before .venv/bin/python bench/cli_start.py``; to compare it with this
one in the same runs (each command under both, alternately, so that the machine's drift
falls on both alike), name it: ``.venv/bin/python bench/cli_start.py --against /tmp/cli-before``
(``git worktree add /tmp/cli-before main`` makes one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CLI = str(BIN / "qbwc-service")
PAYLOAD = {"name": "Bench Customer", "bill_address": {"addr1": "1 Main St", "city": "Springfield"}}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``argv`` once; its wall time and CPU time in seconds."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def cli(env: dict[str, str], *args: str) -> str:
    """Run one CLI command for the set-up; its stdout."""
    return subprocess.run([CLI, *args], env=env, check=True, capture_output=True, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (the median is shown)")
    parser.add_argument("--against", metavar="DIR", help="another checkout, measured in the same runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "QBWC_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "QBWC_LOG_LEVEL": "WARNING",
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        payload = Path(tmp) / "customer.json"
        payload.write_text(json.dumps(PAYLOAD), encoding="utf-8")
        cli(env, "db", "upgrade")
        cli(env, "company", "create", "bench", "--username", "bench")
        first = json.loads(cli(env, "--json", "enqueue", "bench", "customer_add", "--payload", str(payload)))["id"]
        for _ in range(4):
            cli(env, "enqueue", "bench", "customer_add", "--payload", str(payload))
        enqueue = [CLI, "--json", "enqueue", "bench", "customer_add", "--payload", str(payload)]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "qbwc-service --json jobs": [CLI, "--json", "jobs"],
            "qbwc-service --json enqueue": enqueue,
            f"qbwc-service --json job show {first}": [CLI, "--json", "job", "show", str(first)],
        }
        trees = {"": env}
        if args.against:
            trees[f" [{Path(args.against).name}]"] = {**env, "PYTHONPATH": str(Path(args.against).resolve())}
        runs = {name + tree: (argv, tree_env) for name, argv in commands.items() for tree, tree_env in trees.items()}
        walls: dict[str, list[float]] = {name: [] for name in runs}
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        for argv, run_env in runs.values():  # warm the file cache and .pyc files
            timed(argv, run_env)
        for _ in range(args.runs):
            for name, (argv, run_env) in runs.items():
                wall, cpu = timed(argv, run_env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    bare_wall = statistics.median(walls["python -c pass"])
    bare_cpu = statistics.median(cpus["python -c pass"])
    print(f"{args.runs} runs each, medians; load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':<45} {'wall s':>7} {'x bare':>7} {'cpu s':>7} {'x bare':>7}")
    for name in runs:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"{name:<45} {wall:>7.3f} {wall / bare_wall:>7.1f} {cpu:>7.3f} {cpu / bare_cpu:>7.1f}")


if __name__ == "__main__":
    main()
