"""The `dbt-braze` command line: flags named as dbt names them, the work done elsewhere."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from dbt_braze import __version__, log
from dbt_braze.context import Options
from dbt_braze.errors import EXIT_USAGE, DbtBrazeError
from dbt_braze.log import logger


def _project_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    flags = [
        click.option("--project-dir", envvar="DBT_PROJECT_DIR", help="The dbt project folder."),
        click.option("--profiles-dir", envvar="DBT_PROFILES_DIR", help="Folder of profiles.yml."),
        click.option("--profile", envvar="DBT_PROFILE", help="Overrides the project's profile."),
        click.option("-t", "--target", envvar="DBT_TARGET", help="The profile target to use."),
        click.option("--target-path", envvar="DBT_TARGET_PATH", help="Where dbt's artifacts are."),
        click.option("--vars", "vars_text", help="YAML mapping, as `dbt --vars`."),
        click.option("-s", "--select", "-m", "--models", multiple=True, help="dbt selection."),
        click.option("--exclude", multiple=True, help="dbt exclusion."),
        click.option("--selector", help="A named selector from selectors.yml."),
        click.option("--log-format", type=click.Choice(["text", "json"]), default="text"),
        click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors."),
        click.option("--debug", is_flag=True, help="Debug lines (never secrets)."),
    ]
    for flag in reversed(flags):
        func = flag(func)
    return func


def _split_multi(values: tuple[str, ...]) -> tuple[str, ...]:
    # dbt accepts `-s "a b"` and `-s a -s b` alike.
    return tuple(part for value in values for part in value.split())


def _command(func: Callable[..., int]) -> Callable[..., None]:
    """Set up logging, build Options, turn our errors into dbt's exit codes."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> None:
        log.setup(
            log_format=kwargs.pop("log_format"), quiet=kwargs.pop("quiet"), debug=kwargs["debug"]
        )
        debug = kwargs.pop("debug")
        options = Options(
            project_dir=kwargs.pop("project_dir"),
            profiles_dir=kwargs.pop("profiles_dir"),
            profile=kwargs.pop("profile"),
            target=kwargs.pop("target"),
            target_path=kwargs.pop("target_path"),
            vars=kwargs.pop("vars_text"),
            select=_split_multi(kwargs.pop("select")),
            exclude=_split_multi(kwargs.pop("exclude")),
            selector=kwargs.pop("selector"),
            extra=kwargs,
        )
        try:
            code = func(options)
        except DbtBrazeError as exc:
            logger.error(f"{type(exc).__name__}: {exc}")
            code = exc.exit_code
        except KeyboardInterrupt:
            logger.error("Interrupted: state kept up to what Braze acknowledged; rerun to finish.")
            code = EXIT_USAGE
        except Exception as exc:  # a bug of ours: say so plainly, traceback only with --debug
            logger.error(
                f"Internal error: {type(exc).__name__}: {exc}. Rerun with --debug and report it."
            )
            if debug:
                logger.exception("traceback")
            code = EXIT_USAGE
        sys.exit(code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbt-braze")
def main() -> None:
    """Keep Braze in step with your dbt models, sending only what changed."""


@main.command()
@_project_flags
@_command
def validate(options: Options) -> int:
    """Check every meta.braze block against the manifest and the warehouse's columns."""
    from dbt_braze.validate import run_validate

    return run_validate(options)


_sync_flags = [
    click.option("--full-refresh", is_flag=True, help="Resend everything; keep the event ledger."),
    click.option("--fail-fast", is_flag=True, help="Stop at the first model that fails."),
    click.option("--threads", type=int, default=None, help="Models synced at once."),
    click.option("--allow-mass-delete", is_flag=True, help="Let a sync remove many users."),
    click.option("--all-models", is_flag=True, help="Sync even models not rebuilt since."),
]


def _with(flags: list[Callable[..., Any]]) -> Callable[..., Any]:
    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for flag in reversed(flags):
            func = flag(func)
        return func

    return apply


@main.command()
@_project_flags
@_with(_sync_flags)
@_command
def sync(options: Options) -> int:
    """Diff every selected model in the warehouse and send only the difference to Braze."""
    from dbt_braze.sync import run_sync

    return run_sync(options, dry_run=False)


@main.command()
@_project_flags
@_with(_sync_flags)
@_command
def plan(options: Options) -> int:
    """The same diff as sync; nothing sent, nothing written. Counts and sample payloads."""
    from dbt_braze.sync import run_sync

    return run_sync(options, dry_run=True)


@main.command()
@_project_flags
@click.option("--limit", default=20, show_default=True, help="Runs to show.")
@_command
def status(options: Options) -> int:
    """Recent runs from the run log: per model, sent, rejected and time taken."""
    from dbt_braze.status import run_status

    return run_status(options)


@main.command()
@_project_flags
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_command
def reset(options: Options) -> int:
    """Forget the selected models' state: their next sync is a full resync."""
    from dbt_braze.status import run_reset

    return run_reset(options)


def _add_emulator() -> None:
    try:
        from dbt_braze.emulator.cli import emulator_command
    except ImportError:  # the emulator ships with the package; guard only partial installs
        return
    main.add_command(emulator_command, "emulator")


_add_emulator()

_MULTI_FLAGS = {"-s", "--select", "-m", "--models", "--exclude"}


def expand_multi_values(argv: list[str]) -> list[str]:
    """dbt takes `-s a b --exclude c d`; click wants one value per flag: repeat the flag."""
    out: list[str] = []
    flag = None
    for arg in argv:
        if arg in _MULTI_FLAGS:
            flag = arg
            out.append(arg)
            continue
        if flag and not arg.startswith("-") and out[-1] != flag:
            out.append(flag)
        elif arg.startswith("-"):
            flag = None
        out.append(arg)
    return out


def run() -> None:
    """The console script: dbt's multi-value flags, then click."""
    main(args=expand_multi_values(sys.argv[1:]), prog_name="dbt-braze")


if __name__ == "__main__":
    run()
