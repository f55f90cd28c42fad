"""`dbt-braze emulator`: run a local Braze REST API in the foreground until Ctrl-C."""

from __future__ import annotations

import secrets
import time

import click

from dbt_braze.emulator.server import Emulator
from dbt_braze.emulator.settings import EmulatorSettings


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=4010, show_default=True, type=int, help="Port (0 = any free).")
@click.option("--api-key", envvar="BRAZE_API_KEY", help="Key clients must send; else generated.")
@click.option("--rate-limit", default=3000, show_default=True, type=int, help="Requests/window.")
@click.option("--rate-window", default=3.0, show_default=True, type=float, help="Window seconds.")
@click.option(
    "--rate-limit-mode",
    type=click.Choice(["new", "legacy"]),
    default="new",
    show_default=True,
    help="new: reset in seconds and 429 retry-after; legacy: reset as epoch seconds.",
)
@click.option("--objects-per-request", default=75, show_default=True, type=int)
@click.option("--legacy-limits", is_flag=True, help="Apply the object cap to each array.")
@click.option("--fail-rate", default=0.0, type=float, help="Share of requests answered 5xx.")
@click.option("--throttle-rate", default=0.0, type=float, help="Share answered 429.")
@click.option("--latency-ms", default=0, type=int, help="Delay added to every request.")
@click.option("--drop-rate", default=0.0, type=float, help="Share dropped after applying.")
@click.option("--drop-before-rate", default=0.0, type=float, help="Share dropped unapplied.")
@click.option("--seed", default=None, type=int, help="Seed for the fault RNG.")
def emulator_command(
    host: str,
    port: int,
    api_key: str | None,
    rate_limit: int,
    rate_window: float,
    rate_limit_mode: str,
    objects_per_request: int,
    legacy_limits: bool,
    fail_rate: float,
    throttle_rate: float,
    latency_ms: int,
    drop_rate: float,
    drop_before_rate: float,
    seed: int | None,
) -> None:
    """Run a local Braze-compatible REST API for trying a sync without a Braze account."""
    generated = not api_key
    key = api_key or "local-" + secrets.token_hex(12)
    settings = EmulatorSettings(
        api_key=key,
        host=host,
        port=port,
        rate_limit=rate_limit,
        rate_window_s=rate_window,
        rate_limit_mode=rate_limit_mode,
        objects_per_request=objects_per_request,
        combined_object_limit=not legacy_limits,
        fail_rate=fail_rate,
        throttle_rate=throttle_rate,
        latency_ms=latency_ms,
        drop_after_rate=drop_rate,
        drop_before_rate=drop_before_rate,
        seed=seed,
    )
    emulator = Emulator(settings).start()
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    click.echo(f"{stamp}  Braze emulator listening on {emulator.url} (Ctrl-C to stop)")
    if generated:
        # A throwaway local key, printed once so the user can export it.
        click.echo(f"{stamp}  generated API key: {key}  (export BRAZE_API_KEY={key})")
    click.echo(f"{stamp}  BRAZE_REST_ENDPOINT={emulator.url}; state at {emulator.url}/_emulator/")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        stats = emulator.stats()
        click.echo(
            f"{time.strftime('%H:%M:%S', time.gmtime())}  Done. requests={stats['requests']} "
            f"objects={stats['objects']} data_points={stats['data_points']}"
        )
