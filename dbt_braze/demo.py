"""`make demo`: the main job end to end on the embedded default, with a local Braze.

Builds the example project on DuckDB, syncs it to the emulator, changes some upstream data
(one customer upgrades, one orders again), runs dbt and syncs again: only the difference goes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dbt_braze.emulator import Emulator, EmulatorSettings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "example_project"
DATABASE = PROJECT / "target" / "demo.duckdb"
BIN = Path(sys.executable).parent


def _say(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def _run(command: list[str], env: dict[str, str]) -> None:
    print("$ " + " ".join(command), flush=True)
    done = subprocess.run(command, cwd=PROJECT, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"demo stopped: `{' '.join(command)}` exited {done.returncode}")


def _upstream_change() -> None:
    """What happens between two dbt runs in real life: source data moves on."""
    import duckdb

    with duckdb.connect(str(DATABASE)) as conn:
        conn.execute("update analytics.customers set plan = 'enterprise' where customer_id = 7")
        order_id = conn.execute("select max(order_id) + 1 from analytics.orders").fetchone()
        new_id = int(order_id[0]) if order_id else 1
        conn.execute(
            "insert into analytics.orders values (?, 7, timestamp '2025-01-15 12:30:00', "
            "'completed', 49.90)",
            [new_id],
        )
        item_id = conn.execute("select max(order_item_id) + 1 from analytics.order_items")
        row = item_id.fetchone()
        conn.execute(
            "insert into analytics.order_items values (?, ?, 'Trail Socks', 49.90, 1, 'USD')",
            [int(row[0]) if row else 1, new_id],
        )


def main() -> None:
    DATABASE.unlink(missing_ok=True)
    emulator = Emulator(EmulatorSettings(api_key="demo-key-0000", port=0)).start()
    env = {
        **os.environ,
        "DBT_BRAZE_DUCKDB_PATH": str(DATABASE),
        "BRAZE_API_KEY": emulator.api_key,
        "BRAZE_REST_ENDPOINT": emulator.url,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt, braze = [str(BIN / "dbt")], [str(BIN / "dbt-braze")]
    profiles = ["--profiles-dir", "."]
    try:
        _say(f"A local Braze emulator is listening on {emulator.url}")
        _say("Build the example project on DuckDB (seeds, models and Braze fitness tests)")
        _run([*dbt, "deps", *profiles, "--quiet"], env)
        _run([*dbt, "build", *profiles, "--quiet"], env)
        _say("Check the meta.braze mappings, then plan: nothing is sent or written")
        _run([*braze, "validate", *profiles], env)
        _run([*braze, "plan", *profiles, "-s", "braze_users"], env)
        _say("First sync: every user, event and purchase goes to Braze once")
        _run([*braze, "sync", *profiles], env)
        first = emulator.stats()
        _say("Upstream data changes: customer 7 upgrades and places a new order; dbt runs")
        _upstream_change()
        _run([*dbt, "run", *profiles, "--quiet"], env)
        _say("Second sync: only the difference is sent")
        _run([*braze, "sync", *profiles], env)
        second = emulator.stats()
        _say("A third sync with nothing changed sends no request at all")
        _run([*braze, "sync", *profiles, "--quiet"], env)
        third = emulator.stats()
        _say("What Braze (the emulator) now holds for customer 7")
        print(json.dumps(emulator.user("7"), indent=2, sort_keys=True))
        _run([*braze, "status", *profiles, "--limit", "6"], env)
    finally:
        emulator.stop()
    requests = second["requests"] - first["requests"]
    points = second["data_points"] - first["data_points"]
    print(
        f"\nDone. First sync: {first['users']} users, {first['events']} events and "
        f"{first['purchases']} purchases in {first['requests']} requests "
        f"({first['data_points']} data points).\n"
        f"Second sync after the change: {requests} requests, {points} data points "
        f"(the changed attributes, the new event and purchase), not a full resend.\n"
        f"Third sync, nothing changed: {third['requests'] - second['requests']} requests.\n"
        f"State and run log are in {DATABASE} (schema analytics_braze)."
    )


if __name__ == "__main__":
    main()
