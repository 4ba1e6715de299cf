"""Precompute the year of ``docs/tutorials/rolling_year.md``.

The default hub's year (``models/chongqing_hami_year.yaml``, 8,760 h) planned day by day
(24 h committed + 24 h look-ahead: 364 windows), after solving it as one LP (perfect
foresight, integers relaxed: the forecast of the annual budgets and the yardstick). Tens of
minutes on a 2-core machine, too slow for every docs build. This script runs it and writes,
beside itself in ``rolling_year/``: the per-window log (``windows.csv``), the month-by-month
table (``months.csv``), the year's KPIs with the foresight figures (``kpis.json``), and the
page's live example (the first three days under the neutral rule, ``demo.json``). The page
reads them and re-plans the example, which must reproduce the stored one (so a change of
data or model that moves it fails the docs build until this script is re-run)::

    PYTHONPATH=src python docs/tutorials/rolling_year_study.py [CHECKPOINTS]

With ``CHECKPOINTS`` (a folder) an interrupted run resumes from its last window.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import suandian

HERE = Path(__file__).resolve().parent
MODEL = HERE.parent.parent / "models" / "chongqing_hami_year.yaml"
OUT = HERE / "rolling_year"
COMMIT, LOOKAHEAD = "24h", "24h"
#: the solve options of every window (the page re-plans the first week with them)
OPTIONS = {"mip_rel_gap": 1e-3, "time_limit": 60.0, "threads": 1}


#: the page's live example: the first three days under the neutral rule (two windows)
DEMO_DAYS = 3


def demo(sc: suandian.Scenario) -> suandian.YearResult:
    """The page's live example (no LP: the neutral rule)."""
    first = sc.window(0, 24 * DEMO_DAYS)
    return suandian.solve_rolling(first, COMMIT, LOOKAHEAD, forecast="neutral", **OPTIONS)


def main(folder: str | None = None) -> None:
    """Roll the year, solve its foresight LP, keep the tables the page reads.

    ``folder``: the run's checkpoints, to resume an interrupted run (default: a new
    temporary folder, removed at the end).
    """
    sc = suandian.load_scenario(MODEL)
    work = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="suandian-year-")) / "run"
    began = time.perf_counter()
    # the default forecast solves the year as one LP first: the yardstick comes with it
    year = suandian.solve_rolling(sc, COMMIT, LOOKAHEAD, out=work, resume=True, **OPTIONS)
    rolled = time.perf_counter() - began
    violations = year.certify()
    OUT.mkdir(exist_ok=True)
    year.windows.to_csv(OUT / "windows.csv")
    year.months().to_csv(OUT / "months.csv")
    report = {
        "kpis": year.kpis,
        "foresight": year.foresight,
        "value_of_foresight": year.value_of_foresight(),
        "seconds": rolled,
        "violations": [str(v) for v in violations],
        "options": {"commit": COMMIT, "lookahead": LOOKAHEAD, **OPTIONS},
    }
    (OUT / "kpis.json").write_text(json.dumps(report, indent=1, default=float))
    if not folder:
        shutil.rmtree(work.parent)
    first = demo(sc)
    parts = [{"time": p.time, "committed_cost": p.cost["total"]} for p in first.parts]
    (OUT / "demo.json").write_text(json.dumps(parts, indent=1))
    print(year.summary())
    print(f"{rolled:.0f} s rolling; {len(violations)} violation(s)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
