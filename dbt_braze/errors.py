"""One root exception and the families under it.

Whether a failure is retried, and which exit code it ends a run with, is decided here by the
error's type rather than by status-code checks scattered through the code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # the run completed, but some model failed or rows were rejected
EXIT_USAGE = 2  # bad usage, config, artifacts, connection or credentials


class DbtBrazeError(Exception):
    """Root of every error dbt-braze raises on purpose; never shown as a traceback."""

    exit_code = EXIT_USAGE
    transient = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  {self.hint}" if self.hint else self.message


class UsageError(DbtBrazeError):
    """Flags or arguments that do not make sense together."""


class ConfigError(DbtBrazeError):
    """A `meta.braze` block, a var or an environment setting is wrong."""

    def __init__(self, problems: list[str] | str, *, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems found:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message, hint=hint)


class ArtifactError(DbtBrazeError):
    """`manifest.json` or `run_results.json` is missing, unreadable or of an unknown shape."""


class WarehouseError(DbtBrazeError):
    """The warehouse refused a connection or a statement."""


class LockError(DbtBrazeError):
    """Another sync holds the model; racing it could send the same change twice."""


class MassDeleteError(DbtBrazeError):
    """A sync would remove more users than the configured share allows."""


class BrazeApiError(DbtBrazeError):
    """Braze answered in a way that stops a request for good."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class BrazeAuthError(BrazeApiError):
    """401 or 403: the key is wrong or lacks a permission; the whole run stops."""

    exit_code = EXIT_USAGE


class BrazeTransientError(BrazeApiError):
    """429, 5xx, timeouts and dropped connections: worth another try after a pause."""

    transient = True
