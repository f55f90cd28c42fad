"""What the opt-in `on-run-end` hook recorded: was a model rebuilt since its last sync?"""

from __future__ import annotations

from dbt_braze.config import SyncConfig
from dbt_braze.state import StateStore


def unchanged_since_last_sync(store: StateStore, config: SyncConfig) -> str | None:
    """A reason to skip the model, or None. Without the hook in use, never skip."""
    wh, p = store.wh, store.wh.param
    if not wh.query(f"select 1 from {store.table('rebuilds')} limit 1"):
        return None  # the hook is not in use
    rows = wh.query(
        f"select max(r.rebuilt_at), max(m.last_synced_at) from {store.table('sync_models')} m "
        f"left join {store.table('rebuilds')} r on r.model_id = m.model_id "
        f"and r.status = 'success' where m.model_id = {p}",
        (config.model.unique_id,),
    )
    if not rows or rows[0][1] is None:
        return None  # never synced: sync it
    rebuilt, synced = rows[0]
    if rebuilt is None or rebuilt <= synced:
        return "not rebuilt by dbt since its last sync (use --all-models to sync anyway)"
    return None
