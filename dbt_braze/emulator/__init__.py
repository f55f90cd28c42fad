"""A local Braze REST API for tests, the demo and benchmarks: `Emulator`, `EmulatorSettings`.

Behaves as Braze documents `/users/track`, `/users/track/bulk` and `/users/delete`; every
limit is a setting, and faults (5xx, 429, latency, dropped connections) can be injected.
"""

from dbt_braze.emulator.server import Emulator
from dbt_braze.emulator.settings import EmulatorSettings, Faults

__all__ = ["Emulator", "EmulatorSettings", "Faults"]
