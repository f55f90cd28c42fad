"""A small generated dbt project over the generated table, and the real CLIs run on it.

`dbt-braze sync` runs as a subprocess, exactly as a user runs it, so its wall time and peak
RSS (from wait4's rusage of that one child) are the product's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.databases import Database
from bench.generate import ID

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
MODEL = "bench_users"
SCHEMA = "bench"
SOURCE_SCHEMA = "bench_src"
SOURCE_TABLE = "users_src"


@dataclass
class CliRun:
    """One finished `dbt-braze` process."""

    seconds: float
    peak_rss_mb: float
    cpu_s: float  # user + system CPU seconds of the sync process
    exit_code: int
    output: str


@dataclass
class BenchProject:
    """The generated project: one users model, a view over the generated table."""

    path: Path
    db: Database

    @classmethod
    def write(cls, path: Path, db: Database) -> BenchProject:
        (path / "models").mkdir(parents=True, exist_ok=True)
        project = {
            "name": "dbt_braze_bench",
            "version": "1.0.0",
            "config-version": 2,
            "profile": "dbt_braze_bench",
            "model-paths": ["models"],
        }
        profiles = {
            "dbt_braze_bench": {"target": "bench", "outputs": {"bench": db.profile(SCHEMA)}}
        }
        schema = {
            "version": 2,
            "sources": [
                {"name": "bench", "schema": SOURCE_SCHEMA, "tables": [{"name": SOURCE_TABLE}]}
            ],
            "models": [
                {
                    "name": MODEL,
                    "config": {
                        "materialized": "view",
                        "meta": {
                            "braze": {"type": "users", "external_id": ID, "on_delete": "ignore"}
                        },
                    },
                }
            ],
        }
        (path / "dbt_project.yml").write_text(yaml.safe_dump(project))
        (path / "profiles.yml").write_text(yaml.safe_dump(profiles))
        (path / "models" / "schema.yml").write_text(yaml.safe_dump(schema, sort_keys=False))
        (path / "models" / f"{MODEL}.sql").write_text(
            f"select * from {{{{ source('bench', '{SOURCE_TABLE}') }}}}\n"
        )
        return cls(path, db)

    @property
    def source(self) -> str:
        return f"{SOURCE_SCHEMA}.{SOURCE_TABLE}"

    @property
    def model(self) -> str:
        return f"{SCHEMA}.{MODEL}"

    def env(self, emulator_url: str = "", api_key: str = "") -> dict[str, str]:
        return {
            **os.environ,
            "BRAZE_API_KEY": api_key,
            "BRAZE_REST_ENDPOINT": emulator_url,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
        }

    def dbt_run(self) -> None:
        """`dbt run`: creates the model's view and the run_results.json a sync reads."""
        flags = ["--project-dir", str(self.path), "--profiles-dir", str(self.path)]
        done = subprocess.run(
            [str(BIN / "dbt"), "run", *flags], env=self.env(), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"dbt run failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")

    def sync(self, url: str, api_key: str, settings: dict[str, Any], *args: str) -> CliRun:
        """Run `dbt-braze sync` as a subprocess; its wall time, peak RSS and exit code."""
        flags = ["--project-dir", str(self.path), "--profiles-dir", str(self.path)]
        flags += ["--vars", json.dumps({"dbt_braze": settings})]
        log, rss = self.path / "sync.log", self.path / "sync.rss"
        launcher = [sys.executable, "-m", "bench.launch", str(rss)]
        with log.open("w") as out:
            started = time.perf_counter()
            done = subprocess.run(
                [*launcher, str(BIN / "dbt-braze"), "sync", *flags, *args],
                env=self.env(url, api_key),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
            seconds = time.perf_counter() - started
        peak_kib, cpu = rss.read_text().split()
        return CliRun(seconds, int(peak_kib) / 1024, float(cpu), done.returncode, log.read_text())
