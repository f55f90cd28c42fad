"""What the opt-in `on-run-end` hook recorded: was a model rebuilt since its last sync?

The hook (macros/hooks/on_run_end.sql) writes to `<state schema>.rebuilds` one row per Braze
model an invocation rebuilt successfully, plus one row with status 'invocation' and no model
for the invocation itself. Both sides stamp rows with the warehouse's current_timestamp, so
rebuild and sync times come from one clock.
"""

from __future__ import annotations

from dbt_braze.config import SyncConfig
from dbt_braze.log import logger
from dbt_braze.state import StateStore

# Known limitation: times are session-local `timestamp`s; a DST fall-back hour can misorder them.
# Known limitation: a rebuild recorded while the model's sync is still running is missed.
# Known limitation: unless the caller passes run_results' invocation, a removed hook still skips.
SKIP_REASON = "not rebuilt by dbt since its last sync (use --all-models to sync anyway)"


def unchanged_since_last_sync(
    store: StateStore, config: SyncConfig, latest_dbt_invocation: str | None = None
) -> str | None:
    """A reason to skip the model, or None to sync it. Without the hook's evidence, never skip.

    The model is skipped only when it was synced before, the hook was already recording at that
    sync, no successful rebuild of it was recorded since, and (when `latest_dbt_invocation`,
    the invocation id of run_results.json, is given) the hook recorded that dbt command too.
    """
    wh, p = store.wh, store.wh.param
    rows = wh.query(
        "select m.last_synced_at, "
        "coalesce(sum(case when r.rebuilt_at <= m.last_synced_at then 1 else 0 end), 0), "
        "coalesce(sum(case when r.model_id = m.model_id and r.status = 'success' "
        "and r.rebuilt_at > m.last_synced_at then 1 else 0 end), 0), "
        f"coalesce(sum(case when r.invocation_id = {p} then 1 else 0 end), 0) "
        f"from {store.table('sync_models')} m "
        f"left join {store.table('rebuilds')} r on 1 = 1 "
        f"where m.model_id = {p} group by m.last_synced_at",
        (latest_dbt_invocation or "", config.model.unique_id),
    )
    if not rows or rows[0][0] is None:
        return None  # never synced: sync it
    _, recorded_before_sync, rebuilt_since, recorded_latest = rows[0]

    if not recorded_before_sync:
        return None  # no hook, or switched on after the last sync: its silence proves nothing
    if rebuilt_since:
        return None
    if latest_dbt_invocation and not recorded_latest:
        logger.debug(
            f"{config.name}: the hook did not record dbt invocation {latest_dbt_invocation}; "
            "syncing in case the model was rebuilt without it"
        )
        return None
    return SKIP_REASON
