"""Solve 48-h windows of the year scenario (models/chongqing_hami_year.yaml) one by one.

Not a rolling horizon (that is ``suandian.solve_rolling``): each window is cut from the year
on its own. A weekly job released before the cut would get its whole work in the window
(``docs/scenario-format.md``, "State and windows"), so each window is handed the work the jobs
then running would have done at their average rate since release ("pro-rata state").

Usage::

    python benchmarks/year_windows.py 0 1 100 196 350      # day indices d: window 24 d .. 24 d + 47
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import suandian

YEAR = Path(__file__).resolve().parents[1] / "models" / "chongqing_hami_year.yaml"


def _period(sc: suandian.Scenario, when: object, default: int) -> int:
    if when is None:
        return default
    if isinstance(when, int):
        return when
    return int(sc.time.get_loc(when)) if when in sc.time else sc.periods


def pro_rata_state(sc: suandian.Scenario, start: int) -> dict:
    """Work done before period ``start`` by each job then running, at its average rate."""
    jobs = {}
    for job in sc.config.batch:
        release = _period(sc, job.release, 0)
        deadline = _period(sc, job.deadline, sc.periods)
        if release < start < deadline:
            jobs[job.name] = {"work_done": job.work * (start - release) / (deadline - release)}
    return {"dc": {"jobs": jobs}}


def main(days: list[int], hours: int = 48) -> None:
    sc = suandian.load_scenario(YEAR)
    for d in days:
        state = pro_rata_state(sc, 24 * d)
        window = sc.window(24 * d, hours, state=state)
        start = time.perf_counter()
        result = suandian.solve(window, time_limit=300)
        seconds = time.perf_counter() - start
        line = f"day {d} ({window.time[0]:%a %Y-%m-%d}): {result.status}, {seconds:.1f} s"
        if result.status == "optimal":
            k = result.kpis
            green = ", ".join(f"{s} {v:.3f}" for s, v in k["green_share"].items())
            pue = ", ".join(f"{s} {v:.3f}" for s, v in k["pue"].items())
            line += f", cost {result.objective:,.0f} CNY, certify {result.certify()}"
            line += f"\n    green {green}; PUE {pue}"
        elif result.diagnosis is not None:
            line += f"\n{result.diagnosis}"
        print(line, flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [0, 1, 100, 196, 350])
