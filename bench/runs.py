"""The measured sequences: one per warehouse at the main size, and backfills for memory."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.databases import Database
from bench.diffing import diff_alone, naive
from bench.emulator import EmulatorProcess, Sampler
from bench.generate import create_sql, mutate_sql, mutated_rows, non_null_sql
from bench.project import SOURCE_SCHEMA, BenchProject, CliRun

UNLIMITED = {"rate_limit": 1_000_000, "rate_window_seconds": 1}


@dataclass
class Options:
    rows: int
    seed: int
    change_share: float
    attributes_changed: int
    repeat: int = 2  # timed steps are run this many times; the best counts


def say(text: str) -> None:
    print(text, flush=True)


def _requests(before: dict[str, Any], after: dict[str, Any], key: str = "requests") -> int:
    return int(after[key]) - int(before[key])


def _sync(
    project: BenchProject, emulator: EmulatorProcess, settings: dict[str, Any], what: str
) -> tuple[CliRun, dict[str, int]]:
    before = emulator.stats()
    run = project.sync(emulator.url, emulator.api_key, settings)
    after = emulator.stats()
    delta = {k: _requests(before, after, k) for k in ("requests", "objects", "data_points")}
    delta["rate_limited"] = _requests(before, after, "rate_limited")
    say(
        f"  {what}: {run.seconds:.1f}s ({run.cpu_s:.1f}s CPU), peak RSS {run.peak_rss_mb:.0f} MB, "
        f"{delta['requests']} requests, {delta['objects']} objects, "
        f"{delta['data_points']} data points, exit {run.exit_code}"
    )
    if run.exit_code != 0:
        say("  sync output:\n" + run.output[-3000:])
    return run, delta


def prepare(db: Database, rows: int, folder: Path) -> tuple[BenchProject, float]:
    """Generate the table and the dbt project over it; the generation seconds."""
    db.execute(f"create schema if not exists {SOURCE_SCHEMA}")
    seconds = db.execute(create_sql(db.dialect, f"{SOURCE_SCHEMA}.users_src", rows))
    if db.dialect == "postgres":
        db.execute(f"analyze {SOURCE_SCHEMA}.users_src")
    project = BenchProject.write(folder, db)
    project.dbt_run()
    return project, seconds


def _model_seconds(db: Database) -> float:
    """The last sync's own duration of the model, from the run log."""
    rows = db.query("select duration_s from bench_braze.run_log order by started_at desc limit 1")
    return float(rows[0][0])


def warehouse_run(db: Database, options: Options, folder: Path) -> dict[str, Any]:
    """Backfill, no-change resync, 1% change: diff vs naive, sync, data points."""
    out: dict[str, Any] = {"dialect": db.dialect, "rows": options.rows}
    say(f"[{db.dialect}] generating {options.rows:,} users")
    project, out["generate_s"] = prepare(db, options.rows, folder)
    say(f"  generated in {out['generate_s']:.1f}s")

    emulator, settings = EmulatorProcess(), UNLIMITED
    try:
        with Sampler(emulator) as sampler:
            run, sent = _sync(project, emulator, settings, "first sync (backfill)")
        out["backfill"] = {**run.__dict__, **sent, "output": ""}
        t = out["sending"] = throughput_figures(sampler.samples, 0)
        say(
            f"  sending with no rate limit: {t['requests_per_s']:.1f} requests/s, "
            f"{t['objects_per_s']:.0f} objects/s, {t['rate_limited']} answers 429"
        )

        # Best of `repeat` for every timed step: the machine is shared and noisy.
        out["diff_nochange_s"] = min(diff_alone(project.path)[0] for _ in range(options.repeat))
        resyncs = []
        for _ in range(options.repeat):
            run, sent = _sync(project, emulator, settings, "no-change resync")
            resyncs.append((_model_seconds(db), run, sent))
        out["nochange_model_s"], run, sent = min(resyncs, key=lambda r: r[0])
        out["nochange"] = {**run.__dict__, **sent, "output": ""}
        out["nochange"]["requests"] = sum(r[2]["requests"] for r in resyncs)
        say(
            f"  diff query alone {out['diff_nochange_s']:.2f}s; resync model time "
            f"{out['nochange_model_s']:.2f}s "
            f"({out['nochange_model_s'] / out['diff_nochange_s']:.2f}x), "
            f"whole process {run.seconds:.2f}s"
        )

        where = mutated_rows(options.seed, options.change_share)
        db.execute(
            mutate_sql(
                f"{SOURCE_SCHEMA}.users_src",
                options.seed,
                options.change_share,
                options.attributes_changed,
            )
        )
        if db.dialect == "postgres":
            # A dbt model is rebuilt, not updated in place: no dead rows, fresh statistics.
            db.execute(f"vacuum analyze {SOURCE_SCHEMA}.users_src")
        changed_rows, changed_row_values = db.query(non_null_sql(project.source, where))[0]
        _, all_values = db.query(non_null_sql(project.source))[0]
        out["changed_rows"], out["changed_row_values"] = int(changed_rows), int(changed_row_values)
        out["all_values"] = int(all_values)
        out["diff_changed_s"], out["diff_changed_rows"] = min(
            diff_alone(project.path) for _ in range(options.repeat)
        )
        naive_s, naive_rows, naive_values = min(
            naive(db, project.model, "bench_braze.users__bench_users")
            for _ in range(options.repeat)
        )
        out["naive_s"], out["naive_changed_rows"] = naive_s, naive_rows
        out["naive_changed_values"] = naive_values
        say(
            f"  diff of the {options.change_share:.0%}-changed model: ours "
            f"{out['diff_changed_s']:.2f}s ({out['diff_changed_rows']} rows), naive "
            f"{naive_s:.2f}s ({naive_rows} rows): {naive_s / out['diff_changed_s']:.1f}x"
        )
        run, sent = _sync(project, emulator, settings, f"{options.change_share:.0%}-change sync")
        out["change"] = {**run.__dict__, **sent, "output": ""}
    finally:
        emulator.stop()
    return out


def throughput_figures(samples: list[tuple[float, dict[str, Any]]], limit: int) -> dict[str, Any]:
    """Requests/s from the first to the last request, and objects/s per sample interval."""
    series = []
    for (t0, a), (t1, b) in itertools.pairwise(samples):
        series.append((t1, (b["objects"] - a["objects"]) / max(t1 - t0, 1e-9)))
    started = next(t for t, s in samples if s["requests"] > 0)
    final = samples[-1][1]
    ended = next(t for t, s in samples if s["requests"] == final["requests"])
    first = next(s for t, s in samples if t == started)
    # The first sample with requests already counts some; the window starts just before it.
    seconds = max(ended - started, 1e-9)
    rate = (final["requests"] - first["requests"]) / seconds
    objects = (final["objects"] - first["objects"]) / seconds
    return {
        "limit_per_s": limit,
        "requests_per_s": rate,
        "objects_per_s": objects,
        "share": rate / limit if limit else None,
        "rate_limited": int(final["rate_limited"]),
        "seconds": seconds,
        "series": [(round(t - started, 2), round(v)) for t, v in series if t >= started],
    }


def throughput_run(db: Database, rate: int, seconds: float, folder: Path) -> dict[str, Any]:
    """A backfill sized to last about `seconds` at `rate` requests/s, both sides limited."""
    rows = int(rate * 75 * seconds)
    say(f"[throughput] {db.dialect}, {rows:,} users at a rate limit of {rate} requests/s")
    project, _ = prepare(db, rows, folder)
    per_window = rate * 3  # Braze's shape: requests per 3-second window
    emulator = EmulatorProcess(rate_limit=per_window, rate_window_s=3)
    settings = {"rate_limit": per_window, "rate_window_seconds": 3}
    try:
        with Sampler(emulator) as sampler:
            run, sent = _sync(project, emulator, settings, "rate-limited backfill")
    finally:
        emulator.stop()
    t = throughput_figures(sampler.samples, rate)
    say(
        f"  {t['requests_per_s']:.1f} requests/s sustained of {rate} allowed "
        f"({t['share']:.1%}), {t['objects_per_s']:.0f} objects/s, {t['rate_limited']} answers 429"
    )
    return {**t, "rows": rows, "sync": {**run.__dict__, **sent, "output": ""}}


def memory_run(db: Database, rows: int, folder: Path) -> dict[str, Any]:
    """A first sync of `rows` users: its peak RSS (the emulator forgets profiles as it goes)."""
    say(f"[memory] {db.dialect}, generating {rows:,} users")
    project, generate_s = prepare(db, rows, folder)
    emulator = EmulatorProcess()
    done = threading.Event()

    def forget() -> None:
        # The emulator would otherwise hold millions of profiles; the sync never reads them.
        while not done.wait(15):
            emulator.reset()

    threading.Thread(target=forget, daemon=True).start()
    try:
        started = time.perf_counter()
        run = project.sync(emulator.url, emulator.api_key, UNLIMITED)
        seconds = time.perf_counter() - started
    finally:
        done.set()
        emulator.stop()
    say(f"  first sync of {rows:,}: {seconds:.1f}s, peak RSS {run.peak_rss_mb:.0f} MB")
    if run.exit_code != 0:
        say("  sync output:\n" + run.output[-3000:])
    return {
        "rows": rows,
        "generate_s": generate_s,
        "seconds": seconds,
        **run.__dict__,
        "output": "",
    }
