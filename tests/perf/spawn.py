"""Run one command and write down how it ran: ``python -I spawn.py REPORT -- ARGV...``.

Standard library only, started with ``-I`` so that it stays small. It stands between the
harness and the command because Linux hands an exec'd process the peak RSS of the process it
replaced: a command forked straight from the harness (vfork, fork or posix_spawn alike) would
report the harness's own memory as its peak whenever the harness was the larger. Forked from
this small process instead, the command's peak is its own.

REPORT gets one JSON object: ``pid`` (the command's), ``started_at`` / ``ended_at`` (epoch
seconds, just before the fork and just after the command was reaped), ``wall_s`` (between the
two, by the monotonic clock), ``cpu_s`` and ``max_rss_kb`` (``wait4``: the command and the
children it reaped) and ``exit_code``. This process exits with the command's code.
"""

import json
import os
import sys
import time


def main() -> int:
    report, sep, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    if sep != "--" or not argv:
        sys.stderr.write("usage: python -I spawn.py REPORT -- ARGV...\n")
        return 2
    started_at = time.time()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the command
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    ended_at = time.time()
    code = os.waitstatus_to_exitcode(status)
    with open(report, "w") as fh:
        json.dump(
            {
                "pid": pid,
                "started_at": started_at,
                "ended_at": ended_at,
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "max_rss_kb": usage.ru_maxrss,
                "exit_code": code,
            },
            fh,
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    raise SystemExit(main())
