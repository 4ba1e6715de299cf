"""CPU seconds to the first plan of a 10-s call on a tied portfolio (issue 21).

One case per process: ``suandian.solve(sc, time_limit=10, mip_start_seconds=900,
duals=False, threads=1, progress=False)`` on ``portfolio_tied.load(SITES, SEED, "15min")``
(with ``aggregate=on`` unless ARM is ``main``; run ``main`` with the code to compare
against on ``PYTHONPATH``). At the first log line saying the model has a plan (the plans of
the 1-h aggregate's own start, logged before ``Aggregate: ...``, do not count) it prints one
JSON line (CPU and wall seconds since the call, the line, the 1-min load average) and exits
at once, without the rest of the solve.

Usage::

    PYTHONPATH=src python benchmarks/first_plan_cpu.py 40 0 peak
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time

sys.path.insert(0, os.getcwd())

FOUND = re.compile(
    r"MIP start: (rounding \S+ gives|aggregate\S* plan|plan |no rounding.*fallback plan)"
)


def main() -> None:
    import suandian
    from benchmarks.portfolio_tied import load

    n, seed, arm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    sc = load(n, seed, "15min")
    c0, w0, l0 = time.process_time(), time.perf_counter(), os.getloadavg()[0]

    class First(logging.Handler):
        agg: tuple[float, str] | None = None

        def emit(self, record: logging.LogRecord) -> None:
            msg = record.getMessage()
            if msg.startswith("Aggregate:"):
                self.agg = (time.process_time() - c0, msg[:100])
            elif FOUND.match(msg) and (arm == "main" or self.agg is not None):
                out = {
                    "sites": n,
                    "seed": seed,
                    "arm": arm,
                    "cpu": time.process_time() - c0,
                    "wall": time.perf_counter() - w0,
                    "msg": msg[:110],
                    "load": [l0, os.getloadavg()[0]],
                    "aggregate": self.agg,
                }
                print(json.dumps(out), flush=True)
                os._exit(0)

    logger = logging.getLogger("suandian")
    logger.setLevel(logging.INFO)
    logger.addHandler(First())
    opts: dict = {
        "time_limit": 10,
        "mip_start_seconds": 900,
        "duals": False,
        "threads": 1,
        "progress": False,
    }
    if arm != "main":
        opts["aggregate"] = "on"
    r = suandian.solve(sc, **opts)
    print(json.dumps({"sites": n, "seed": seed, "arm": arm, "cpu": None, "status": r.status}))


if __name__ == "__main__":
    main()
