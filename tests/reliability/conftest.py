"""Reliability suite hooks: long variants run only under `make test-long` (DBT_BRAZE_LONG=1)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Only the long *variants* are skipped by default; every short test always runs in CI.
    if os.environ.get("DBT_BRAZE_LONG"):
        return
    skip = pytest.mark.skip(reason="long variant: run with `make test-long` (DBT_BRAZE_LONG=1)")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
