"""`dbt-braze validate`: every `meta.braze` block checked, against real columns when reachable."""

from __future__ import annotations

from collections import Counter

from dbt_braze.context import Options, check_against_warehouse, load_context
from dbt_braze.errors import EXIT_OK, ConfigError, WarehouseError
from dbt_braze.log import logger


def run_validate(options: Options) -> int:
    context = load_context(options, strict=False)
    kinds = Counter(c.type for c in context.configs)
    summary = ", ".join(f"{kinds[k]} {k}" for k in ("users", "events", "purchases") if kinds[k])
    found = len(context.configs) + len({p.split(" (")[0] for p in context.problems})
    logger.info(f"Found {found} Braze models ({summary or 'none'} valid in shape)")
    try:
        warehouse = context.connect()
    except WarehouseError as exc:
        logger.warning(f"Warehouse not reachable, columns not checked: {exc.message}")
        if context.problems:
            raise ConfigError(context.problems, hint="Fix the meta.braze blocks above.") from None
        logger.info(f"Done. {len(context.configs)} meta.braze blocks valid (shape only).")
        return EXIT_OK
    with warehouse:
        problems = context.problems + check_against_warehouse(context, warehouse)
    if problems:
        raise ConfigError(problems, hint="Fix the meta.braze blocks above; nothing was sent.")
    for config in context.configs:
        logger.info(f"OK {config.type:<9} {config.name}")
    logger.info(f"Done. {len(context.configs)} Braze models valid against {context.target.name}.")
    return EXIT_OK
