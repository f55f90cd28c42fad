"""`python -m bench` (`make bench`): run the benchmarks, print each figure, write the docs.

Sizes and parts come from flags or BENCH_* environment variables; see `--help`. Exits 0
whatever the figures are: these are measurements, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import report
from bench.databases import PostgresCluster, duckdb_database
from bench.runs import Options, memory_run, say, throughput_run, warehouse_run

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = ("postgres", "duckdb", "memory", "throughput", "cpu")


def _args(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--rows", type=int, default=int(env("BENCH_ROWS", "1000000")))
    p.add_argument(
        "--memory-sizes",
        default=env("BENCH_MEMORY_SIZES", "100000,2000000"),
        help="extra model sizes for the peak-memory chart (the main size is measured anyway); "
        "5000000 adds about 12 minutes on 2 cores",
    )
    p.add_argument("--parts", default=env("BENCH_PARTS", ",".join(PARTS)), help=",".join(PARTS))
    p.add_argument("--seed", type=int, default=int(env("BENCH_SEED", "1")))
    p.add_argument("--change-share", type=float, default=float(env("BENCH_CHANGE", "0.01")))
    p.add_argument("--attributes-changed", type=int, default=2)
    p.add_argument(
        "--rate",
        default=env("BENCH_RATE", "auto"),
        help="rate limit (requests/s) of the throughput run; auto: 75%% of the rate the "
        "Postgres backfill reached unlimited on this machine, at most 250",
    )
    p.add_argument("--throughput-seconds", type=float, default=60.0)
    p.add_argument("--cpu-objects", type=int, default=int(env("BENCH_CPU_OBJECTS", "60000")))
    p.add_argument("--repeat", type=int, default=int(env("BENCH_REPEAT", "2")), help="best of")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return p.parse_args(argv)


def _rate(asked: str, figures: dict[str, Any]) -> int:
    """The throughput run's limit: as asked, or below what this machine reached unlimited."""
    if asked != "auto":
        return int(asked)
    reached = figures.get("postgres", {}).get("sending", {}).get("requests_per_s")
    if not reached:
        return 100
    # Sync, emulator and database share the machine's cores: a limit above what they reach
    # together would measure the machine, not whether the client keeps a limit full.
    return max(10, min(250, int(reached * 0.75)))


def _client_cpu(objects: int) -> dict[str, Any]:
    """bench/client_cpu.py in a process of its own, as a sync's client runs: this process's
    threads and its heap (dbt's modules, every figure so far) would count in its CPU time."""
    code = (
        "import json, sys; from bench.client_cpu import run; "
        "print(json.dumps(run(int(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(objects)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    args = _args(argv)
    # A terminated bench still stops its Postgres cluster (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    options = Options(
        args.rows, args.seed, args.change_share, args.attributes_changed, args.repeat
    )
    figures: dict[str, Any] = {"date": report.today(), "options": options.__dict__, "notes": []}
    load_before = os.getloadavg()[0]
    versions: dict[str, str] = {}
    work = Path(tempfile.mkdtemp(prefix="dbt_braze_bench_"))
    started = time.perf_counter()
    cluster = None
    try:
        if "cpu" in parts:
            # First, on a quiet machine: once a cluster holds millions of fresh rows, its
            # background work competes with the client for the cores.
            say(f"[client CPU] {args.cpu_objects:,} objects, with and without local checks")
            figures["client_cpu"] = _client_cpu(args.cpu_objects)
            for r in figures["client_cpu"]["runs"]:
                say(
                    f"  local checks {'on' if r['local_checks'] else 'off'}: "
                    f"{r['cpu_us_per_object']} us CPU/object, "
                    f"{r['objects_per_s_per_core']:,} objects/s per core"
                )
        if parts & {"postgres", "memory", "throughput"}:
            cluster = PostgresCluster()
        if "postgres" in parts and cluster:
            db = cluster.database("bench_main")
            versions["PostgreSQL"] = db.version()
            figures["postgres"] = warehouse_run(db, options, work / "pg")
        if "duckdb" in parts:
            db = duckdb_database(work, "main")
            figures["duckdb"] = warehouse_run(db, options, work / "duck")
            versions["DuckDB"] = db.version()
        memory = []
        if "postgres" in figures:
            backfill = figures["postgres"]["backfill"]
            memory.append({"rows": args.rows, **backfill})
        if "memory" in parts and cluster:
            for size in (int(s) for s in args.memory_sizes.split(",") if s.strip()):
                if size != args.rows or "postgres" not in figures:
                    db = cluster.database(f"bench_mem_{size}")
                    versions.setdefault("PostgreSQL", db.version())
                    memory.append(memory_run(db, size, work / f"mem_{size}"))
        if memory:
            figures["memory"] = memory
        if "throughput" in parts and cluster:
            rate = _rate(args.rate, figures)
            db = cluster.database("bench_rate")
            figures["throughput"] = throughput_run(
                db, rate, args.throughput_seconds, work / "rate"
            )
    except Exception:  # a benchmark reports what it measured and never fails the command
        traceback.print_exc()
        figures["notes"].append("the run stopped early: " + traceback.format_exc(limit=1))
    finally:
        if cluster:
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)
    figures["seconds"] = time.perf_counter() - started
    figures["machine"] = report.machine(versions)
    # Other work on the machine slows every figure; the reader should know how busy it was.
    figures["machine"]["load average, start / end"] = (
        f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"
    )
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(figures, indent=2, default=str))
    say(f"figures: {RESULTS / f'{stamp}.json'} ({figures['seconds']:.0f}s in all)")
    if not args.no_docs and {"postgres", "duckdb"} <= parts:
        command = "make bench  # = .venv/bin/python -m bench " + " ".join(argv)
        say(f"wrote {report.write(figures, command.strip())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
