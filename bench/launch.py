"""Run a command; write its peak RSS (KiB) and CPU seconds: `python -m bench.launch OUT CMD`.

The bench process itself is large by the time it starts a sync, and a forked child's peak
RSS starts at its parent's; this small launcher forks instead, so the figure is the
command's own (the launcher's few MB before exec are far below any sync's peak).
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    out, command = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w") as f:
        f.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.3f}")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
