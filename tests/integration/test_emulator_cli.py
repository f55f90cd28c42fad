"""`python -m dbt_braze.emulator` serves in the foreground and stops cleanly on Ctrl-C; the
installed `dbt-braze emulator` applies its --rate-limit and --fail-rate flags."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests


def test_cli_serves_until_interrupted() -> None:
    env = {**os.environ, "BRAZE_API_KEY": ""}
    cmd = [sys.executable, "-m", "dbt_braze.emulator", "--port", "0", "--api-key", "cli-key-1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        url = match.group(1)
        body = {"attributes": [{"external_id": "u", "a": 1}]}
        ok = requests.post(
            f"{url}/users/track",
            json=body,
            headers={"Authorization": "Bearer cli-key-1"},
            timeout=10,
        )
        assert ok.status_code == 201
        assert requests.get(f"{url}/_emulator/users/u", timeout=10).json()["a"] == 1
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "cli-key-1" not in first + out  # a key the user gave is never echoed
    assert "Done. requests=1 objects=1" in out
    assert proc.returncode == 0


def test_cli_generates_and_prints_a_key_when_none_is_given() -> None:
    env = {**os.environ, "BRAZE_API_KEY": ""}
    cmd = [sys.executable, "-m", "dbt_braze.emulator", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = re.search(r"(http://\S+) ", proc.stdout.readline()).group(1)  # type: ignore[union-attr]
        key = re.search(r"generated API key: (\S+)", proc.stdout.readline()).group(1)  # type: ignore[union-attr]
        ok = requests.post(
            f"{url}/users/track",
            json={"attributes": [{"external_id": "u"}]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert ok.status_code == 201
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)


def _console_script() -> str:
    """The installed `dbt-braze` script: next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "dbt-braze"
    found = str(beside) if beside.exists() else shutil.which("dbt-braze")
    assert found, "the dbt-braze console script is not installed (pip install -e .)"
    return found


@contextlib.contextmanager
def _emulator_process(*flags: str) -> Iterator[tuple[str, list[str]]]:
    """`dbt-braze emulator --port 0 --api-key cli-key-2 *flags`; yields its URL and, once the
    block ends, has stopped it with Ctrl-C and appended its remaining output to the list."""
    env = {**os.environ, "BRAZE_API_KEY": ""}
    cmd = [_console_script(), "emulator", "--port", "0", "--api-key", "cli-key-2", *flags]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    output: list[str] = []
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+) ", first)
        assert match, f"no URL in the first line: {first!r}"
        output.append(first)
        yield match.group(1), output
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=10)
        output.append(rest)
        assert proc.returncode == 0, "".join(output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def _track(url: str, external_id: str) -> requests.Response:
    return requests.post(
        f"{url}/users/track",
        json={"attributes": [{"external_id": external_id, "plan": "pro"}]},
        headers={"Authorization": "Bearer cli-key-2"},
        timeout=10,
    )


@pytest.mark.parametrize("mode", ["new", "legacy"])
def test_cli_rate_limit_answers_429_with_braze_headers(mode: str) -> None:
    limit, window = 3, 600
    flags = ["--rate-limit", str(limit), "--rate-window", str(window), "--rate-limit-mode", mode]
    with _emulator_process(*flags) as (url, output):
        # Windows are aligned to the clock: do not start the burst in a window's last seconds.
        if window - time.time() % window < 5:
            time.sleep(window - time.time() % window + 0.1)
        allowed = [_track(url, f"u{i}") for i in range(limit)]
        over = _track(url, "over")
        stats = requests.get(f"{url}/_emulator/stats", timeout=10).json()
        stored_over = requests.get(f"{url}/_emulator/users/over", timeout=10)

    assert [r.status_code for r in allowed] == [201] * limit
    assert [r.headers["X-RateLimit-Limit"] for r in allowed] == [str(limit)] * limit
    assert [r.headers["X-RateLimit-Remaining"] for r in allowed] == ["2", "1", "0"]
    assert over.status_code == 429, over.text
    assert over.json() == {"message": "Rate Limited"}
    if mode == "new":
        # Braze's newer limits: a 429 carries only the seconds to wait.
        assert 1 <= int(over.headers["X-RateLimit-Retry-After"]) <= window, over.headers
        assert "X-RateLimit-Remaining" not in over.headers, over.headers
        assert 0 < int(allowed[0].headers["X-RateLimit-Reset"]) <= window
    else:
        # Legacy: the three headers on the 429 too, the reset as the epoch second it comes.
        assert over.headers["X-RateLimit-Limit"] == str(limit), over.headers
        assert over.headers["X-RateLimit-Remaining"] == "0", over.headers
        assert time.time() < int(over.headers["X-RateLimit-Reset"]) <= time.time() + window + 1
    assert stored_over.status_code == 404  # the rejected request was not applied
    assert stats["rate_limited"] == 1 and stats["users"] == limit, stats
    assert f"Done. requests={limit + 1} objects={limit}" in "".join(output)


def test_cli_fail_rate_one_answers_every_track_with_a_5xx() -> None:
    with _emulator_process("--fail-rate", "1.0", "--seed", "7") as (url, output):
        answers = [_track(url, f"u{i}") for i in range(4)]
        stats = requests.get(f"{url}/_emulator/stats", timeout=10).json()
        stored = requests.get(f"{url}/_emulator/users/u0", timeout=10)

    assert all(500 <= r.status_code <= 599 for r in answers), [r.status_code for r in answers]
    assert {r.status_code for r in answers} == {500, 502, 503}  # the statuses cycle
    assert stored.status_code == 404  # a failed request is not applied
    assert stats["faults_injected"] == 4 and stats["users"] == 0, stats
    assert "Done. requests=4 objects=0" in "".join(output)
