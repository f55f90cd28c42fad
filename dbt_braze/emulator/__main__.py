"""`python -m dbt_braze.emulator`: the same as `dbt-braze emulator`."""

from dbt_braze.emulator.cli import emulator_command

emulator_command()
