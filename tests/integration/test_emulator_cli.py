"""`python -m dbt_braze.emulator` serves in the foreground and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

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
