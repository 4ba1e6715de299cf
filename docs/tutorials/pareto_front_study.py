"""Precompute the front of ``docs/tutorials/pareto_front.md``.

The front is 17 solves of the embedded default day (``models/chongqing_hami_day.yaml``), one
per value of ``policies.green_share.target`` (the per-data-center target, which the default
sets on ``cq_dc`` only) from 0.60 to 1.00 in steps of 0.025, each closed to a relative gap
of 1e-5, run by :func:`suandian.pareto` as a sweep on a local Dask cluster with its defaults
(one single-threaded worker process per core). About 10 CPU s per point: too slow for every
docs build. This script runs them and writes beside itself

* ``pareto_front.csv``: the front's table (:attr:`suandian.ParetoFront.table`, without the
  empty diagnosis column), and
* ``pareto_front/``: the sweep itself (:meth:`suandian.SweepResult.save`: ``sweep.nc``,
  ``cases.csv``, ``sweep.json``, ``manifest.json``; what ``suandian report`` reads).

The page reads both, re-solves one point (:data:`CHECKED`) and checks it against the file,
so a change of data or model that moves the front fails the docs build until this script
is re-run::

    PYTHONPATH=src python docs/tutorials/pareto_front_study.py
"""

import time
from pathlib import Path

import numpy as np

import suandian

HERE = Path(__file__).resolve().parent
#: epsilon: the per-data-center green target, 0.60 .. 1.00 in steps of 0.025
TARGETS = [round(float(x), 3) for x in np.linspace(0.6, 1.0, 17)]
#: every point closed to this relative gap (about 5 CNY on a 0.5 M CNY day): the default
#: 0.1 % (about 500 CNY) would be as large as the cost of a few points of target
GAP = 1e-5
#: seconds per point: the default 60 s is too short on a loaded machine for that gap
TIME_LIMIT = 1200.0
#: the point the page solves again: inside a piece of the front (its neighbours have its
#: slope), where the slope does not hang on which of two near-equal plans the solver returns
CHECKED = 0.75
CSV = HERE / "pareto_front.csv"
FOLDER = HERE / "pareto_front"


def main() -> None:
    sc = suandian.load_scenario(suandian.default_scenario())
    wall, cpu = time.perf_counter(), time.process_time()
    front = suandian.pareto(
        sc, against="green_share", points=TARGETS, mip_rel_gap=GAP, time_limit=TIME_LIMIT
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    t = front.table
    t.drop(columns="diagnosis").to_csv(CSV, index=False, float_format="%.10g")
    front.sweep.save(FOLDER)
    assert t["certified"].all() and (t["status"] == "optimal").all(), t[["epsilon", "status"]]
    workers = front.sweep.ds["cpu_seconds"].sum().item()
    print(
        f"{len(t)} points in {wall:.0f} s wall ({cpu:.0f} CPU s here, {workers:.0f} CPU s "
        f"on the workers); wrote {CSV.name} and {FOLDER.name}/"
    )


if __name__ == "__main__":
    main()
