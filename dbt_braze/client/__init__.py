"""The Braze REST client: batching, rate limiting, retries and per-object outcomes.

`BrazeClient(settings).track(items)` yields lists of `Outcome`, one per `Item`, as requests
finish; `delete(items)` does the same for `/users/delete`.
"""

from dbt_braze.client.client import BrazeClient
from dbt_braze.client.outcomes import ClientStats, DeleteItem, Item, Outcome
from dbt_braze.client.settings import ClientSettings

__all__ = ["BrazeClient", "ClientSettings", "ClientStats", "DeleteItem", "Item", "Outcome"]
