"""The LP each side of ``pypsa_compare.py`` hands to HiGHS, written out and solved alone.

usage::

    # the model at the first Highs.run, as MPS (run with each side's interpreter)
    PYTHONPATH=src .venv/bin/python benchmarks/lp_probe.py dump suandian 2160 10 s2160.mps
    benchmarks/.venv-pypsa/bin/python benchmarks/lp_probe.py dump pypsa 2160 10 p2160.mps
    # sizes before and after HiGHS's presolve, coefficient ranges
    .venv/bin/python benchmarks/lp_probe.py stats s2160.mps p2160.mps
    # one solve in this fresh process, HiGHS options as name=value; prints one JSON line
    .venv/bin/python benchmarks/lp_probe.py solve s2160.mps solver=ipm run_crossover=off

``dump`` builds the planning variant (``--variant planning`` of ``pypsa_compare.py``) with
the side's own code path, replaces ``highspy.Highs.run`` by a ``writeModel`` and stops, and
prints the options HiGHS holds at that moment. ``solve`` reports the CPU seconds of the run
(``time.process_time()``, all threads), its wall seconds, status, objective, simplex / IPM /
crossover iterations and the peak RSS of the process.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPTIONS = ("solver", "presolve", "simplex_strategy", "simplex_scale_strategy", "run_crossover")
OPTIONS += ("threads", "parallel", "time_limit", "mip_rel_gap")


class _StopError(Exception):
    """Raised in place of the run, once the model is written."""


def dump(side: str, hours: int, sites: int, out: str) -> None:
    import highspy

    sys.path.insert(0, str(HERE))
    import pypsa_compare as pc

    def write(self, *args, **kwargs):
        self.writeModel(out)
        held = {name: self.getOptionValue(name)[1] for name in OPTIONS}
        print(json.dumps({"side": side, "written": out, "options": held}), flush=True)
        raise _StopError

    highspy.Highs.run = write
    default_hook = threading.excepthook  # suandian runs HiGHS in a thread of its own

    def hook(args) -> None:
        if args.exc_type is not _StopError:
            default_hook(args)

    threading.excepthook = hook
    spec = pc.make_spec(hours, sites, planning=True)
    try:
        if side == "suandian":
            import suandian

            config, series = pc.suandian_config(spec)
            suandian.solve(suandian.load_scenario(config, series=series), time_limit=1e6)
        else:
            n, extra = pc.pypsa_network(spec)
            n.optimize(solver_name="highs", extra_functionality=extra, log_to_console=False)
    except _StopError:
        pass


def _read(path: str):
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(path)
    return h


def _lp_stats(lp) -> dict:
    import numpy as np

    values = np.abs(np.asarray(lp.a_matrix_.value_))
    counts = np.diff(np.asarray(lp.a_matrix_.start_))
    per_row = np.bincount(np.asarray(lp.a_matrix_.index_), minlength=lp.num_row_)
    lo, hi = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    rhs = np.concatenate([np.abs(lo[np.isfinite(lo)]), np.abs(hi[np.isfinite(hi)])])
    rhs = rhs[rhs > 0]
    return {
        "rows": int(lp.num_row_),
        "columns": int(lp.num_col_),
        "nonzeros": len(values),
        "equality_rows": int((lo == hi).sum()),
        "matrix_range": [float(values.min()), float(values.max())],
        "rhs_range": [float(rhs.min()), float(rhs.max())] if len(rhs) else None,
        "longest_column": int(counts.max()),
        "longest_row": int(per_row.max()),
    }


def stats(paths: list[str]) -> None:
    for path in paths:
        h = _read(path)
        out = {"file": path, "as_passed": _lp_stats(h.getLp())}
        h.presolve()
        out["presolved"] = _lp_stats(h.getPresolvedLp())
        print(json.dumps(out))


def solve(path: str, settings: list[str]) -> None:
    import highspy

    h = _read(path)
    for item in settings:
        name, text = item.split("=", 1)
        value: object = text
        for cast in (int, float):
            try:
                value = cast(text)
                break
            except ValueError:
                continue
        value = {"true": True, "false": False}.get(text, value)
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise SystemExit(f"HiGHS refused {item}")
    cpu, wall = time.process_time(), time.perf_counter()
    h.run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    info = h.getInfo()
    print(
        json.dumps(
            {
                "file": path,
                "options": settings,
                "cpu": round(cpu, 2),
                "wall": round(wall, 2),
                "status": h.modelStatusToString(h.getModelStatus()),
                "objective": info.objective_function_value,
                "simplex_iterations": info.simplex_iteration_count,
                "ipm_iterations": info.ipm_iteration_count,
                "crossover_iterations": info.crossover_iteration_count,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[0] == "dump":
        dump(argv[1], int(argv[2]), int(argv[3]), argv[4])
    elif len(argv) >= 2 and argv[0] == "stats":
        stats(argv[1:])
    elif len(argv) >= 2 and argv[0] == "solve":
        solve(argv[1], argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
