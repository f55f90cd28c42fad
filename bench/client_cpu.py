"""Client CPU seconds per sent object, against the emulator running in another process.

The emulator runs in a subprocess so that `time.process_time()` here counts the client only
(all its threads: packing, JSON, HTTP, outcome bookkeeping). Prints objects/s per core and
whether one core could fill Braze's published limit: 1,000 requests/s x 75 objects.

    .venv/bin/python bench/client_cpu.py [objects]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from typing import Any

from dbt_braze.client import BrazeClient, ClientSettings, Item

BRAZE_OBJECTS_PER_S = 1000 * 75  # 3,000 requests per 3 s, 75 objects each
KEY = "bench-key-0000"
REPEAT = 3
_EMULATOR = """
import sys
from dbt_braze.emulator import Emulator, EmulatorSettings
emulator = Emulator(EmulatorSettings(api_key=sys.argv[1], rate_limit=0)).start()
print(emulator.url, flush=True)
sys.stdin.read()
"""


def _users(n: int) -> list[Item]:
    # Ten attributes a user, as in the spec's benchmark model.
    return [
        Item(
            "attributes",
            {
                "external_id": f"user-{i:08d}",
                "first_name": "Ada",
                "last_name": f"Lovelace{i % 97}",
                "email": f"user{i}@example.com",
                "country": "GB",
                "ltv": i * 1.25,
                "orders": i % 40,
                "vip": i % 9 == 0,
                "tier": ("bronze", "silver", "gold")[i % 3],
                "signup": "2024-05-01T10:00:00Z",
                "favourites": ["tea", "maths"],
            },
            i,
        )
        for i in range(n)
    ]


def _measure(url: str, items: list[Item], local_checks: bool) -> dict[str, Any]:
    settings = ClientSettings(url, KEY, rate_limit=1_000_000, rate_window_s=1.0, concurrency=8)
    with BrazeClient(settings, local_checks=local_checks) as client:
        cpu, wall = time.process_time(), time.perf_counter()
        delivered = sum(o.delivered for chunk in client.track(items) for o in chunk)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        stats = client.stats
    per_object_us = cpu / len(items) * 1e6
    per_core = len(items) / cpu
    return {
        "local_checks": local_checks,
        "objects": len(items),
        "delivered": delivered,
        "requests": stats.requests,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "cpu_us_per_object": round(per_object_us, 2),
        "objects_per_s_per_core": round(per_core),
        "fills_braze_limit_on_one_core": per_core >= BRAZE_OBJECTS_PER_S,
    }


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["cpu_us_per_object"])
    return {**ordered[len(ordered) // 2], "cpu_us_runs": [r["cpu_us_per_object"] for r in runs]}


def run(objects: int = 150_000) -> dict[str, Any]:
    """Send `objects` user objects with and without local checks, REPEAT times each; return
    the median run of each."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    emulator = subprocess.Popen(
        [sys.executable, "-c", _EMULATOR, KEY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip()
        items = _users(objects)
        _measure(url, items[:3000], True)  # warm up connections and code paths
        # The median of several runs, alternating: one run on this shared machine can read
        # a third above or below the next.
        runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for _ in range(REPEAT):
            for local_checks in (True, False):
                runs[local_checks].append(_measure(url, items, local_checks))
        results = [_median(runs[True]), _median(runs[False])]
    finally:
        emulator.terminate()
        emulator.wait(10)
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "braze_limit_objects_per_s": BRAZE_OBJECTS_PER_S,
        "runs": results,
    }


if __name__ == "__main__":
    figures = run(int(sys.argv[1]) if len(sys.argv) > 1 else 150_000)
    print(json.dumps(figures, indent=2))
    for r in figures["runs"]:
        verdict = "yes" if r["fills_braze_limit_on_one_core"] else "no"
        print(
            f"local checks {'on ' if r['local_checks'] else 'off'}: "
            f"{r['cpu_us_per_object']} us CPU/object, {r['objects_per_s_per_core']:,} objects/s "
            f"per core; one core fills 1,000 req/s x 75: {verdict}"
        )
