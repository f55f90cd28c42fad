"""The one place that configures logging: dbt-like console lines or JSON for orchestrators.

Every other module does `from dbt_braze.log import logger` and logs plain messages. Secrets
never reach a handler: `redact` is applied to every record and knows the API key.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

logger = logging.getLogger("dbt_braze")

INVOCATION_ID = str(uuid.uuid4())
LINE_WIDTH = 80
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a value that must never be written to any log line."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in `text`."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        return True


class _TextFormatter(logging.Formatter):
    """`HH:MM:SS  message`, in UTC, as dbt prints it."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}  {record.getMessage()}"


class _JsonFormatter(logging.Formatter):
    """One JSON object a line, shaped like dbt's `--log-format json` events."""

    def format(self, record: logging.LogRecord) -> str:
        info: dict[str, Any] = {
            "name": getattr(record, "event", "Log"),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "invocation_id": INVOCATION_ID,
        }
        data = getattr(record, "data", None)
        return json.dumps({"info": info, "data": data or {}}, default=str)


def setup(*, log_format: str = "text", quiet: bool = False, debug: bool = False) -> None:
    """Configure the console handler once per process (the CLI calls this)."""
    logging.raiseExceptions = False  # a closed pipe (`| head`) must not print tracebacks
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_JsonFormatter() if log_format == "json" else _TextFormatter())
    handler.addFilter(_RedactingFilter())
    logger.addHandler(handler)
    level = logging.DEBUG if debug or os.environ.get("DBT_BRAZE_DEBUG") else logging.INFO
    logger.setLevel(logging.WARNING if quiet and not debug else level)
    logger.propagate = False


def event(level: int, message: str, name: str, **data: Any) -> None:
    """Log `message` and, in JSON mode, the structured `data` beside it."""
    logger.log(level, message, extra={"event": name, "data": data})


def progress_line(index: int, total: int, text: str, status: str) -> str:
    """`1 of 3 START sync users model braze_users ..... [RUN]`, dot-padded like dbt."""
    head = f"{index} of {total} {text} "
    dots = "." * max(3, LINE_WIDTH - len(head) - len(status) - 3)
    return f"{head}{dots} [{status}]"
