"""How many /users/track requests per second the emulator sustains on this machine.

Each request carries 75 attribute objects of 10 attributes; several client threads keep
keep-alive connections busy for a bounded few seconds. Run: `python bench/emulator_throughput.py`.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.request import urlopen

KEY = "bench-key-123456"


def _body(batch: int) -> bytes:
    attributes = [
        {
            "external_id": f"user-{batch}-{i}",
            "first_name": "Ada",
            "email": f"ada{i}@example.com",
            "ltv": 12.5 + i,
            "orders": i,
            "vip": i % 2 == 0,
            "plan": "pro",
            "signup_at": "2024-05-01T12:00:00Z",
            "tags": ["a", "b"],
            "country": "FR",
            "score": {"inc": 1},
        }
        for i in range(75)
    ]
    return json.dumps({"attributes": attributes}).encode()


def run(seconds: float = 4.0, threads: int = 4) -> dict[str, Any]:
    """Drive an emulator process for `seconds` from `threads` clients; the figures measured.

    The emulator runs in its own process, as in real use, so the clients do not share its GIL.
    """
    bodies = [_body(b) for b in range(20)]
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    counts = [0] * threads
    failures = [0] * threads
    command = [sys.executable, "-m", "dbt_braze.emulator", "--port", "0", "--rate-limit", "0"]
    proc = subprocess.Popen([*command, "--api-key", KEY], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(re.search(r"127\.0\.0\.1:(\d+)", proc.stdout.readline()).group(1))  # type: ignore[union-attr]
        stop_at = time.monotonic() + seconds

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = 0
            while time.monotonic() < stop_at:
                conn.request("POST", "/users/track", body=bodies[i % len(bodies)], headers=headers)
                response = conn.getresponse()
                response.read()
                counts[n] += 1
                failures[n] += response.status != 201
                i += 1
            conn.close()

        started = time.monotonic()
        workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.monotonic() - started
        stats = json.loads(urlopen(f"http://127.0.0.1:{port}/_emulator/stats").read())
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)

    requests_total = sum(counts)
    return {
        "benchmark": "emulator_throughput",
        "requests_per_second": round(requests_total / elapsed, 1),
        "objects_per_second": round(requests_total * 75 / elapsed, 1),
        "requests": requests_total,
        "non_201": sum(failures),
        "users_stored": stats["users"],
        "client_threads": threads,
        "seconds": round(elapsed, 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2))
    print(
        f"emulator sustains {result['requests_per_second']} requests/s "
        f"({result['objects_per_second']} objects/s) of 75 attribute objects"
    )
