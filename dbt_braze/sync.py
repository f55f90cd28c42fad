"""`dbt-braze sync` and `plan`: every selected model diffed, sent (or not), logged like dbt."""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dbt_braze.activity import sync_activity
from dbt_braze.client import BrazeClient, ClientSettings
from dbt_braze.config import SyncConfig
from dbt_braze.context import Context, Options, load_context
from dbt_braze.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    BrazeAuthError,
    ConfigError,
    DbtBrazeError,
    LockError,
)
from dbt_braze.job import Job
from dbt_braze.log import event, logger, progress_line
from dbt_braze.rebuilds import unchanged_since_last_sync
from dbt_braze.runlog import ModelResult, sample_text, start_run, update_run
from dbt_braze.state import StateStore
from dbt_braze.users import sync_users

_FAILED_BUILD = {"error", "skipped", "fail", "runtime error"}
_stop = threading.Event()


def client_settings(context: Context, threads: int) -> ClientSettings:
    """Braze settings: the key and endpoint from the environment, limits from vars."""
    key = os.environ.get("BRAZE_API_KEY", "").strip()
    endpoint = os.environ.get("BRAZE_REST_ENDPOINT", "").strip()
    missing = [n for n, v in (("BRAZE_API_KEY", key), ("BRAZE_REST_ENDPOINT", endpoint)) if not v]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} not set",
            hint="Export BRAZE_API_KEY (a REST key with users.track and users.delete) and "
            "BRAZE_REST_ENDPOINT (e.g. https://rest.iad-01.braze.com).",
        )
    s = context.project.settings
    return ClientSettings(
        endpoint=endpoint,
        api_key=key,
        objects_per_request=int(s["objects_per_request"]),
        combined_object_limit=bool(s["combined_object_limit"]),
        # Known limitation: with --threads the rate limit is split evenly between models.
        rate_limit=max(1, int(s["rate_limit"]) // threads),
        rate_window_s=float(s["rate_window_seconds"]),
        max_retries=int(s["max_retries"]),
        timeout_s=float(s["timeout_seconds"]),
        concurrency=int(s["concurrency"]),
        allow_insecure_http=bool(s["allow_insecure_http"]),
    )


def _skip_reason(context: Context, config: SyncConfig) -> str | None:
    run = context.run_results
    status = run.statuses.get(config.model.unique_id) if run else None
    if status in _FAILED_BUILD:
        return f"its last dbt {run.command if run else 'run'} ended with status {status}"
    return None


def _sync_model(
    context: Context,
    config: SyncConfig,
    settings: ClientSettings | None,
    run_id: str,
    options: Options,
) -> ModelResult:
    result = ModelResult(config.model.unique_id, config.name, config.type)
    extra = options.extra
    wh = context.connect()
    client = BrazeClient(settings) if settings else None
    store = StateStore(wh, context.state_schema())
    lock_key = f"dbt_braze:{store.schema}:{config.model.unique_id}"
    locked = started = False
    try:
        if client is not None:
            if not wh.try_lock(lock_key):
                raise LockError(
                    f"another dbt-braze sync of {config.name} is running; it was left alone",
                    hint="Wait for it to finish; two writers would race on the same state.",
                )
            locked = True
            store.ensure_schema()
            if not extra.get("all_models") and not extra.get("full_refresh"):
                latest = context.run_results.invocation_id if context.run_results else None
                reason = unchanged_since_last_sync(store, config, latest)
                if reason:
                    result.status, result.message = "skipped", reason
                    return result
            full_refresh = bool(extra.get("full_refresh"))
            start_run(store, result, run_id, context.manifest.invocation_id, full_refresh)
            started = True
        job = Job(
            config=config,
            wh=wh,
            store=store,
            client=client,
            result=result,
            run_id=run_id,
            settings=context.project.settings,
            full_refresh=bool(extra.get("full_refresh")),
            allow_mass_delete=bool(extra.get("allow_mass_delete")),
        )
        before = client.stats if client else None
        try:
            (sync_users if config.type == "users" else sync_activity)(job)
        finally:
            if client is not None:
                job.add_client_stats(before)
        if client is None:
            result.status = "planned"
        elif result.objects_rejected or result.rows_invalid:
            result.status, result.exit_code = "warn", EXIT_FAILURE
    except DbtBrazeError as exc:
        result.status, result.message, result.exit_code = "error", str(exc), exc.exit_code
        if isinstance(exc, BrazeAuthError):
            _stop.set()
    finally:
        result.finished = time.time()
        if client is not None:
            client.close()
        if started:
            try:
                wh.rollback()
                update_run(store, result, run_id)
            except DbtBrazeError as exc:
                logger.warning(f"{config.name}: run log not written: {exc.message}")
        if locked:
            wh.unlock(lock_key)
        wh.close()
    return result


def _report(index: int, total: int, result: ModelResult, dry_run: bool) -> None:
    what = f"{result.model_type} model {result.name}"
    if result.status == "skipped":
        line = progress_line(index, total, f"SKIP {what}: {result.message}", "SKIP")
        event(30, line, "ModelSkipped", model=result.model_id, reason=result.message)
        return
    if result.status == "error":
        line = progress_line(
            index, total, f"ERROR syncing {what}", f"ERROR in {result.duration:.2f}s"
        )
        event(40, line, "ModelError", model=result.model_id)
        logger.error(f"  {result.message}")
        return
    verb = "PLANNED" if dry_run else ("WARN synced" if result.status == "warn" else "OK synced")
    status = "PLAN" if dry_run else ("WARN" if result.status == "warn" else "SUCCESS")
    line = progress_line(index, total, f"{verb} {what}", f"{status} in {result.duration:.2f}s")
    data: dict[str, Any] = {
        "model": result.model_id,
        "new": result.rows_new,
        "changed": result.rows_changed,
        "removed": result.rows_removed,
        "unchanged": result.rows_unchanged,
        "invalid": result.rows_invalid,
        "objects_sent": result.objects_sent,
        "delivered": result.objects_delivered,
        "rejected": result.objects_rejected,
        "requests": result.requests,
        "data_points": result.data_points,
        "inflight_resent": result.inflight_resent,
    }
    event(20, line, "ModelSynced", **data)
    logger.info(
        f"  {result.summary()} data_points={result.data_points} requests={result.requests}"
    )
    if result.inflight_resent:
        logger.warning(
            f"  {result.inflight_resent} events or purchases were sent again (in flight when a "
            "previous sync stopped, or their answer was lost): Braze may have counted up to "
            "that many twice"
        )
    if dry_run:
        for sample in result.samples:
            logger.info(f"  sample: {sample_text(sample)}")


def run_sync(options: Options, *, dry_run: bool) -> int:
    """Sync (or plan) every selected model; return dbt's exit code."""
    context = load_context(options)
    threads = int(options.extra.get("threads") or 1)
    settings = None if dry_run else client_settings(context, threads)
    run_id = str(uuid.uuid4())
    verb = "Planning" if dry_run else "Syncing"
    total = len(context.configs)
    logger.info(f"{verb} {total} Braze models on target {context.target.name}")
    results: list[ModelResult] = []
    todo: list[tuple[int, SyncConfig]] = []
    for index, config in enumerate(context.configs, 1):
        reason = _skip_reason(context, config)
        if reason:
            result = ModelResult(
                config.model.unique_id, config.name, config.type, "skipped", reason
            )
            _report(index, total, result, dry_run)
            results.append(result)
        else:
            todo.append((index, config))
    started = time.time()
    fail_fast = bool(options.extra.get("fail_fast"))

    def one(index: int, config: SyncConfig) -> ModelResult:
        if _stop.is_set():
            return ModelResult(
                config.model.unique_id, config.name, config.type, "skipped", "the run was stopped"
            )
        logger.info(progress_line(index, total, f"START {config.type} model {config.name}", "RUN"))
        result = _sync_model(context, config, settings, run_id, options)
        _report(index, total, result, dry_run)
        if fail_fast and result.status == "error":
            _stop.set()
        return result

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        results += list(pool.map(lambda pair: one(*pair), todo))
    _stop.clear()
    errors = sum(r.status == "error" for r in results)
    warns = sum(r.status == "warn" for r in results)
    skips = sum(r.status == "skipped" for r in results)
    ok = len(results) - errors - warns - skips
    logger.info(f"Finished {verb.lower()} {total} models in {time.time() - started:.2f}s.")
    logger.info(f"Done. OK={ok} WARN={warns} ERROR={errors} SKIP={skips} TOTAL={total}")
    codes = [r.exit_code for r in results]
    if EXIT_USAGE in codes:
        return EXIT_USAGE
    return EXIT_FAILURE if errors or warns else EXIT_OK
