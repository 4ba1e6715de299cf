"""Precompute the year of ``docs/tutorials/rolling_year.md``.

The default hub's year (``models/chongqing_hami_year.yaml``, 8,760 h) planned day by day
(24 h committed + 24 h look-ahead: 364 windows), after solving it as one LP (perfect
foresight, integers relaxed: the forecast of the annual budgets and the yardstick). Tens of
minutes on a 2-core machine, too slow for every docs build. This script runs it and writes,
beside itself in ``rolling_year/``: the per-window log (``windows.csv``), the month-by-month
table (``months.csv``), the year's KPIs with the foresight figures (``kpis.json``), the
page's live example (the first three days under the neutral rule, ``demo.json``) and the
SHA-256 digests of the year file and its series as the run read them (``provenance.json``). The page
reads them and re-plans the example, which must reproduce the stored one (so a change of
data or model that moves it fails the docs build until this script is re-run)::

    PYTHONPATH=src python docs/tutorials/rolling_year_study.py [CHECKPOINTS]

With ``CHECKPOINTS`` (a folder) an interrupted run resumes from its last window.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import suandian

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODEL = ROOT / "models" / "chongqing_hami_year.yaml"
OUT = HERE / "rolling_year"
COMMIT, LOOKAHEAD = "24h", "24h"
#: the solve options of every window (the page re-plans the first week with them)
OPTIONS = {"mip_rel_gap": 1e-3, "time_limit": 60.0, "threads": 1}


def sources() -> list[Path]:
    """The year file and the series files it reads, as paths relative to the repository."""
    sc = suandian.load_scenario(MODEL)
    files = [MODEL] + [(MODEL.parent / f).resolve() for f in sc.config.series]
    return [f.relative_to(ROOT) for f in files]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests() -> dict[str, str]:
    """SHA-256 of the year file and of each series file it reads, as they are now."""
    return {str(f): digest((ROOT / f).read_bytes()) for f in sources()}


def digests_at(commit: str) -> dict[str, str] | None:
    """The same digests of the files as committed in ``commit`` (None without git)."""
    try:
        return {
            str(f): digest(
                subprocess.run(
                    ["git", "show", f"{commit}:{f.as_posix()}"],
                    cwd=ROOT,
                    capture_output=True,
                    check=True,
                ).stdout
            )
            for f in sources()
        }
    except (OSError, subprocess.CalledProcessError):
        return None


def head() -> str | None:
    """The commit checked out (None without git)."""
    try:
        run = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, check=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return run.stdout.strip()


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
    read = {"commit": head(), "sha256": digests()}  # the files this run reads
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
    (OUT / "provenance.json").write_text(json.dumps(read, indent=1))
    print(year.summary())
    print(f"{rolled:.0f} s rolling; {len(violations)} violation(s)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
