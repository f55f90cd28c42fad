"""The Braze emulator in a process of its own, so it shares no GIL with what it measures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.request import Request, urlopen

KEY = "bench-key-000000"


class EmulatorProcess:
    """`python -m dbt_braze.emulator` on a free port, with its stats read over HTTP."""

    def __init__(self, rate_limit: int = 0, rate_window_s: float = 1.0) -> None:
        command = [sys.executable, "-m", "dbt_braze.emulator", "--port", "0", "--api-key", KEY]
        command += ["--rate-limit", str(rate_limit), "--rate-window", str(rate_window_s)]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}"
        self.api_key = KEY
        # Drain its console so it never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stats(self) -> dict[str, Any]:
        with urlopen(f"{self.url}/_emulator/stats", timeout=30) as answer:
            stats: dict[str, Any] = json.loads(answer.read())
        return stats

    def reset(self) -> None:
        """Forget profiles and counters (keeps the emulator's own memory bounded)."""
        request = Request(f"{self.url}/_emulator/reset", data=b"{}", method="POST")
        with urlopen(request, timeout=60) as answer:
            answer.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Sampler:
    """Polls the emulator's counters every `every` seconds while a sync runs."""

    def __init__(self, emulator: EmulatorProcess, every: float = 1.0) -> None:
        self.emulator, self.every = emulator, every
        self.samples: list[tuple[float, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Sampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while True:
            self.samples.append((time.perf_counter() - self._started, self.emulator.stats()))
            if self._stop.wait(self.every):
                self.samples.append((time.perf_counter() - self._started, self.emulator.stats()))
                return
