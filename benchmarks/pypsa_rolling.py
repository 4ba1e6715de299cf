"""Rolling horizon: suandian against PyPSA on the LP of ``pypsa_compare.py``, window by window.

usage::

    python benchmarks/pypsa_rolling.py [--sizes 168x2,720x10,8760x10] [--commit 24]
                                       [--lookahead 24] [--reps 1] [--timeout 1800]
                                       [--suandian-python .venv/bin/python]
                                       [--pypsa-python benchmarks/.venv-pypsa/bin/python]
                                       [--out benchmarks/results] [--name pypsa-issue18-rolling]
    python benchmarks/pypsa_rolling.py --report benchmarks/results/pypsa-issue18-rolling.json

The LP is ``pypsa_compare.make_spec(hours, sites)`` (seed 0). Both sides cut the year into the
same windows: a window starts every ``commit`` hours and holds ``commit + lookahead`` hours
(fewer at the end), its first ``commit`` hours are kept, and the next window starts from the
state at the end of them.

* PyPSA: ``n.optimize.optimize_with_rolling_horizon(horizon=commit + lookahead,
  overlap=lookahead)``; it hands the storage units' charge at the end of the committed hours
  to the next window, and each window overwrites the dispatch of the hours it holds, so the
  dispatch left in the network is the committed one. ``extra_functionality`` is called per
  window (days of the window, green share over the window, final charge only in the windows
  that end the horizon; ``pypsa_compare.pypsa_network``).
* suandian: ``suandian.solve_rolling`` if the installed suandian has it, otherwise the loop of
  ``docs/scenario-format.md`` ("State and windows"): ``now = rest.window(0, min(C + L,
  rest.periods))``, ``r = solve(now)``, keep its first ``C`` periods, ``rest =
  rest.window(C, rest.periods - C, state=r.final_state(C - 1))``.

**Committed cost.** A window's objective covers its look-ahead too, so neither side's sum of
window objectives is the year's cost. Both workers compute the same number from the committed
dispatch with :func:`committed_cost`: sum over hours and sites of tariff × grid import +
PV cost × PV output + contract price × contract energy (hourly periods: MW = MWh). This is
the whole objective of the LP (no start-up, wear or carbon cost), which each worker checks on
one window: the formula on a window's whole dispatch equals that window's objective.

Timings: suandian by phase (load, slicing, state hand-over, build, hand-over to HiGHS, HiGHS
solve, duals, extract, stitching); PyPSA in total, with its create_model, HiGHS and linopy
hand-over seconds summed over the windows as in ``pypsa_compare.py``. Fresh process per side
and size; sides alternate from size to size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pypsa_compare import (  # noqa: E402
    DEFAULT_PYPSA_PYTHON,
    DEFAULT_SUANDIAN_PYTHON,
    _clock,
    _git_head,
    _rss_mb,
    _tou_series,
    _version,
    make_spec,
    pypsa_network,
    suandian_config,
)


def committed_cost(spec: dict, grid, pv, contract) -> float:
    """Cost of a dispatch: ``grid``, ``pv`` (hours × sites, MW), ``contract`` (hours, MW).

    sum_t sum_s tariff[t, s] * grid[t, s] + pv_cost[s] * pv[t, s], + price * contract[t];
    hourly periods, so MW in a period is MWh. ``grid`` may be a window: its rows are hours
    ``0 .. len(grid) - 1`` of the day-aligned horizon, and the tariff repeats daily.
    """
    import numpy as np

    hours = grid.shape[0]
    tariff = np.column_stack(
        [_tou_series(hours, s["tou_prices"], s["tou_periods"]) for s in spec["sites"]]
    )
    pv_cost = np.array([s["pv_cost"] for s in spec["sites"]])
    return float(
        (tariff * grid).sum() + (pv * pv_cost).sum() + spec["contract"]["price"] * contract.sum()
    )


def windows(hours: int, commit: int, lookahead: int) -> list[tuple[int, int]]:
    """(start, length) of each window, as PyPSA's ``optimize_with_rolling_horizon`` cuts."""
    return [(s, min(hours, s + commit + lookahead) - s) for s in range(0, hours, commit)]


def _handover(soc, hours: int, commit: int, lookahead: int) -> list[list[float]]:
    """Committed charge (MWh) at the end of each window's committed hours, per site."""
    return [
        [round(float(x), 6) for x in soc[min(s + commit, hours) - 1]]
        for s, _ in windows(hours, commit, lookahead)
    ]


#: suandian phases in the tables (``state`` is 0 with solve_rolling: in ``slice``)
S_PHASES = ("load", "slice", "state", "build", "handover", "solve", "duals", "extract", "stitch")


# =========================================================================== workers
def worker_suandian(
    hours: int,
    n_sites: int,
    commit: int,
    lookahead: int,
    timeout: float,
    replay: list[list[float]] | None = None,
    driver: str = "loop",
    skip_to_date: bool = False,
) -> dict:
    """The suandian side; with ``replay`` (PyPSA's ``soc_handover``), window ``i + 1`` starts
    from PyPSA's committed charge at the end of window ``i`` instead of suandian's own.

    ``driver``: ``"loop"`` (the documented loop, PyPSA's windows exactly: a last window of
    ``commit`` periods) or ``"rolling"`` (``suandian.solve_rolling``, whose last window is the
    one reaching the horizon's end and keeps all its periods: one window fewer than PyPSA).
    ``skip_to_date`` (a what-if, not the API as shipped): solve_rolling's figures to date
    (cost, PUE, green share over every committed window, recomputed after each window) are
    not computed; with ``progress=False`` nothing reads them.
    """
    import numpy as np

    out: dict = {"side": "suandian", "hours": hours, "sites": n_sites}
    t = time.perf_counter()
    import highspy

    import suandian

    out["import"] = time.perf_counter() - t
    out["suandian_file"] = suandian.__file__
    out["suandian_commit"] = _git_head(Path(suandian.__file__).resolve().parent) or os.environ.get(
        "SUANDIAN_COMMIT"
    )
    out["highspy"] = _version("highspy")
    spec = make_spec(hours, n_sites)
    config, series = suandian_config(spec)  # data preparation: not timed
    names = [s["name"] for s in spec["sites"]]
    pv_names = [f"pv_{x}" for x in names]
    stores = [f"battery_{x}" for x in names]
    clock: dict = {}
    _clock(highspy.Highs, "run", clock, "highs_run")
    opts = {"mip_rel_gap": 1e-9, "time_limit": timeout}

    t0 = time.perf_counter()
    sc = suandian.load_scenario(config, series=series)
    t1 = time.perf_counter()
    out["load"] = t1 - t0
    grid = np.zeros((hours, n_sites))
    pv = np.zeros((hours, n_sites))
    contract = np.zeros(hours)
    soc = np.zeros((hours, n_sites))
    phases = dict.fromkeys(
        ("slice", "state", "build", "handover", "solve", "duals", "extract", "stitch"), 0.0
    )
    phases["books"] = phases["to_date"] = phases["certify"] = 0.0
    phases["solve_call"] = 0.0
    statuses: dict[str, int] = {}
    window_objectives = []
    check = None  # formula on the first window's whole dispatch vs its objective

    def stitch(r, start: int, keep: int) -> None:
        ds = r.ds
        grid[start : start + keep] = ds["p_grid"].sel(site=names).values[:, :keep].T
        pv[start : start + keep] = ds["p_renewable"].sel(renewable=pv_names).values[:, :keep].T
        contract[start : start + keep] = ds["p_contract"].sum(("contract", "site")).values[:keep]
        soc[start : start + keep] = ds["e_soc"].sel(storage=stores).values[:, :keep].T

    if driver == "rolling":
        import suandian.run.rolling as rolling_module
        from suandian.results.year import YearResult

        out["driver"] = "suandian.solve_rolling"
        _clock(YearResult, "from_parts", clock, "stitch")
        if skip_to_date:  # what-if: the to-date figures only feed the progress line (off)
            rolling_module.ToDate.add = lambda self, part, committed, certificates: None
            rolling_module.ToDate.figures = lambda self: {}
            out["skip_to_date"] = True
        _clock(rolling_module.ToDate, "add", clock, "to_date")  # running sums, per window
        t = time.perf_counter()
        year = suandian.solve_rolling(
            sc, commit=f"{commit}h", lookahead=f"{lookahead}h", progress=False, **opts
        )
        out["rolling_call"] = time.perf_counter() - t
        frame = year.windows
        out["windows_frame"] = json.loads(frame.reset_index().to_json(orient="records"))
        out["objective_solve_rolling"] = float(year.objective)
        names_s = {"window_s": "slice+state", "books_s": "books", "certify_s": "certify"}
        for col in frame.columns:
            if col.endswith("_s"):
                key = names_s.get(col, col[:-2])
                phases[key] = float(frame[col].sum())
        phases["slice"] = phases.pop("slice+state", 0.0)  # the cut and the state hand-over
        phases["state"] = 0.0  # (in "slice": solve_rolling times them together)
        phases["stitch"] = clock.get("stitch", 0.0)
        phases["to_date"] = clock.get("to_date", 0.0)
        phases["solve_call"] = out["rolling_call"]
        out["window_count"] = len(frame)
        window_objectives = [float(x) for x in frame["objective"]]
        ds = year.ds  # the committed plan as solve_rolling stitched it
        grid[:] = ds["p_grid"].sel(site=names).values.T
        pv[:] = ds["p_renewable"].sel(renewable=pv_names).values.T
        contract[:] = ds["p_contract"].sum(("contract", "site")).values
        soc[:] = ds["e_soc"].sel(storage=stores).values.T
        statuses = {str(k): int(v) for k, v in frame["status"].value_counts().items()}
        first = year.datasets[0]
        n = first.sizes["time"]
        formula = committed_cost(
            spec,
            first["p_grid"].sel(site=names).values.T[:n],
            first["p_renewable"].sel(renewable=pv_names).values.T[:n],
            first["p_contract"].sum(("contract", "site")).values[:n],
        )
        check = abs(formula - frame["objective"].iloc[0]) / abs(frame["objective"].iloc[0])
    else:
        out["driver"] = "loop (docs/scenario-format.md, State and windows)"
        rest, start, count = sc, 0, 0
        while True:
            t = time.perf_counter()
            now = rest.window(0, min(commit + lookahead, rest.periods))
            t_cut = time.perf_counter()
            r = suandian.solve(now, **opts)
            t_solved = time.perf_counter()
            phases["slice"] += t_cut - t
            phases["solve_call"] += t_solved - t_cut
            for key in ("build", "handover", "solve", "duals", "extract"):
                phases[key] += float(r.info.timings.get(key, 0.0) or 0.0)
            statuses[r.status] = statuses.get(r.status, 0) + 1
            window_objectives.append(float(r.objective))
            if r.status != "optimal":
                out["error"] = f"window at hour {start}: {r.status}"
                break
            keep = min(commit, rest.periods)
            if check is None:
                n = now.periods
                g = r.ds["p_grid"].sel(site=names).values.T
                p = r.ds["p_renewable"].sel(renewable=pv_names).values.T
                c = r.ds["p_contract"].sum(("contract", "site")).values
                formula = committed_cost(spec, g[:n], p[:n], c[:n])
                check = abs(formula - r.objective) / abs(r.objective)
            t = time.perf_counter()
            stitch(r, start, keep)
            t_stitched = time.perf_counter()
            phases["stitch"] += t_stitched - t
            count += 1
            if rest.periods <= commit:
                break
            state = r.final_state(commit - 1)
            if replay is not None:
                for j, name in enumerate(stores):
                    state["stor"][name]["soc_mwh"] = replay[count - 1][j]
            rest = rest.window(commit, rest.periods - commit, state=state)
            phases["state"] += time.perf_counter() - t_stitched
            start += commit
        out["window_count"] = count
    t2 = time.perf_counter()
    out.update(phases)
    out["unaccounted"] = (t2 - t1) - sum(
        phases[k] for k in (*S_PHASES[1:], "books", "certify")
    )  # to_date is inside books' window loop, not in a window's seconds: left in unaccounted
    out["e2e"] = t2 - t0
    out["highs"] = clock.get("highs_run", float("nan"))
    out["highs_run_calls"] = clock.get("highs_run_calls", 0)
    out["non_highs"] = out["e2e"] - out["highs"]
    out["statuses"] = statuses
    out["sum_window_objectives"] = float(sum(window_objectives)) if window_objectives else None
    out["window_objectives"] = window_objectives
    out["soc_handover"] = _handover(soc, hours, commit, lookahead)
    out["objective_check_rel"] = check
    out["objective"] = committed_cost(spec, grid, pv, contract)
    out["soc_note"] = "committed dispatch stitched from each window's first `commit` periods"
    out["peak_rss_mb"] = _rss_mb()
    return out


def worker_pypsa(hours: int, n_sites: int, commit: int, lookahead: int, timeout: float) -> dict:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import logging

    logging.disable(logging.WARNING)
    out: dict = {"side": "pypsa", "hours": hours, "sites": n_sites}
    t = time.perf_counter()
    import highspy
    import linopy
    import pypsa
    from pypsa.optimization.optimize import OptimizationAccessor

    out["import"] = time.perf_counter() - t
    out["pypsa"] = pypsa.__version__
    out["linopy"] = linopy.__version__
    out["highspy"] = _version("highspy")
    spec = make_spec(hours, n_sites)  # data preparation: not timed
    names = [s["name"] for s in spec["sites"]]
    clock: dict = {}
    _clock(highspy.Highs, "run", clock, "highs_run")
    _clock(OptimizationAccessor, "create_model", clock, "create_model")
    for name in ("assign_solution", "assign_duals", "post_processing"):
        _clock(OptimizationAccessor, name, clock, "write_back")
    statuses: dict[str, int] = {}
    window_objectives: list[float] = []
    original_solve = linopy.Model.solve

    def solve(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            status, condition = original_solve(self, *args, **kwargs)
        finally:
            clock["linopy_solve"] = clock.get("linopy_solve", 0.0) + time.perf_counter() - t
        key = f"{status}/{condition}"
        statuses[key] = statuses.get(key, 0) + 1
        if status == "ok":
            window_objectives.append(float(self.objective.value))
        return status, condition

    linopy.Model.solve = solve

    t0 = time.perf_counter()
    n, extra = pypsa_network(spec)
    t1 = time.perf_counter()
    n.optimize.optimize_with_rolling_horizon(
        horizon=commit + lookahead,
        overlap=lookahead,
        solver_name="highs",
        extra_functionality=extra,
        solver_options={"time_limit": float(timeout)},
        log_to_console=False,
    )
    t2 = time.perf_counter()
    out["build"] = t1 - t0
    out["rolling_call"] = t2 - t1
    out["create_model"] = clock.get("create_model", 0.0)
    out["highs"] = clock.get("highs_run", float("nan"))
    out["highs_run_calls"] = clock.get("highs_run_calls", 0)
    out["handover"] = clock.get("linopy_solve", 0.0) - out["highs"]
    out["write_back"] = clock.get("write_back", 0.0)
    out["unaccounted"] = out["rolling_call"] - (
        out["create_model"] + clock.get("linopy_solve", 0.0) + out["write_back"]
    )
    out["e2e"] = t2 - t0
    out["non_highs"] = out["e2e"] - out["highs"]
    out["window_count"] = sum(statuses.values())
    out["statuses"] = statuses
    out["sum_window_objectives"] = float(sum(window_objectives))
    p = n.generators_t.p  # committed dispatch (each window overwrote the hours it held)
    grid = p[[f"grid_{x}" for x in names]].to_numpy()
    pv = p[[f"pv_{x}" for x in names]].to_numpy()
    contract = p[spec["contract"]["name"]].to_numpy()
    out["objective"] = committed_cost(spec, grid, pv, contract)
    out["window_objectives"] = window_objectives
    soc = n.storage_units_t.state_of_charge[[f"battery_{x}" for x in names]].to_numpy()
    out["soc_handover"] = _handover(soc, hours, commit, lookahead)
    # the last window holds only committed hours: the formula on them = its objective
    last = windows(hours, commit, lookahead)[-1]
    s0, s1 = last[0], last[0] + last[1]
    formula = committed_cost(spec, grid[s0:s1], pv[s0:s1], contract[s0:s1])
    ok = all(k.startswith("ok") for k in statuses)
    out["objective_check_rel"] = (
        abs(formula - window_objectives[-1]) / abs(window_objectives[-1])
        if ok and window_objectives
        else None
    )
    if not ok:
        out["error"] = f"windows not optimal: {statuses}"
    out["status"] = "optimal" if ok else "failed"
    out["peak_rss_mb"] = _rss_mb()
    return out


# =========================================================================== driver
def _run_worker(side: str, hours: int, sites: int, args) -> dict:
    python = args.suandian_python if side == "suandian" else args.pypsa_python
    cmd = [python, str(Path(__file__).resolve()), "--worker", side, str(hours), str(sites)]
    cmd += ["--commit", str(args.commit), "--lookahead", str(args.lookahead)]
    cmd += ["--timeout", str(args.timeout)]
    if side == "suandian":
        cmd += ["--driver", args.driver] + (["--skip-to-date"] if args.skip_to_date else [])
    if args.replay and side == "suandian":
        cmd += ["--replay", str(Path(args.replay).resolve())]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    load = os.getloadavg()[0]
    t = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=args.timeout + 300,
            env=env,
            cwd=HERE.parent,
        )
    except subprocess.TimeoutExpired:
        return {"side": side, "hours": hours, "sites": sites, "error": f"timeout {args.timeout}"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
        return {"side": side, "hours": hours, "sites": sites, "error": tail}
    out = json.loads(lines[-1])
    out["process_wall"] = time.perf_counter() - t
    out["loadavg_start"] = load
    out["loadavg_end"] = os.getloadavg()[0]
    return out


def _f(x, digits: int = 2) -> str:
    if not isinstance(x, (int, float)) or x != x:
        return "–"
    return f"{x:.{digits}f}"


def table(runs: list[dict]) -> str:
    lines = [
        "| size (h × sites) | windows | committed cost suandian (CNY) | committed cost PyPSA "
        "(CNY) | rel. diff | suandian e2e (s) | PyPSA e2e (s) | ratio S/P | suandian HiGHS "
        "(s) | PyPSA HiGHS (s) | load avg (start–end) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    phase_lines = [
        "",
        "suandian phases (s): " + " · ".join(S_PHASES) + " · books · to_date · unacc. — PyPSA: "
        "build network · "
        "create_model (incl. extra_functionality) · hand-over (linopy solve − HiGHS) · HiGHS · "
        "write-back · unacc.",
        "",
        "| size | suandian phases | PyPSA phases |",
        "|---|---|---|",
    ]
    sizes = sorted({(r["hours"], r["sites"]) for r in runs})
    for hours, sites in sizes:
        by = {r["side"]: r for r in runs if (r["hours"], r["sites"]) == (hours, sites)}
        s, p = by.get("suandian", {}), by.get("pypsa", {})
        a, b = s.get("objective"), p.get("objective")
        diff = abs(a - b) / max(abs(a), abs(b)) if a is not None and b is not None else None
        ratio = s["e2e"] / p["e2e"] if "e2e" in s and "e2e" in p else None
        loads = [
            x
            for r in (s, p)
            for x in (r.get("loadavg_start"), r.get("loadavg_end"))
            if x is not None
        ]
        load = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "–"
        lines.append(
            f"| {hours} × {sites} | {s.get('window_count', '–')} / {p.get('window_count', '–')} "
            f"| {_f(a, 1)} | {_f(b, 1)} | {'–' if diff is None else f'{diff:.1e}'} "
            f"| {_f(s.get('e2e'))} | {_f(p.get('e2e'))} | {_f(ratio)} "
            f"| {_f(s.get('highs'))} | {_f(p.get('highs'))} | {load} |"
        )
        sp = " · ".join(_f(s.get(k)) for k in (*S_PHASES, "books", "to_date", "unaccounted"))
        pp = " · ".join(
            _f(p.get(k))
            for k in ("build", "create_model", "handover", "highs", "write_back", "unaccounted")
        )
        phase_lines.append(f"| {hours} × {sites} | {sp} | {pp} |")
    return "\n".join(lines + phase_lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="168x2,720x10,8760x10")
    ap.add_argument("--commit", type=int, default=24, help="hours kept per window")
    ap.add_argument("--lookahead", type=int, default=24, help="hours of look-ahead")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--sides", default="suandian,pypsa", help="which sides to run")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per run, s (HiGHS limit too)")
    ap.add_argument("--suandian-python", default=str(DEFAULT_SUANDIAN_PYTHON))
    ap.add_argument("--pypsa-python", default=str(DEFAULT_PYPSA_PYTHON))
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--name", default=None, help="file stem (default pypsa-rolling-<date>)")
    ap.add_argument("--report", help="re-print the tables of a results JSON")
    ap.add_argument(
        "--driver",
        choices=("loop", "rolling"),
        default="rolling",
        help="suandian side: solve_rolling (default) or the documented loop (PyPSA's windows)",
    )
    ap.add_argument(
        "--skip-to-date",
        action="store_true",
        help="what-if: solve_rolling without its to-date figures (they feed the progress line)",
    )
    ap.add_argument(
        "--replay",
        help="results JSON with a PyPSA run: suandian's windows start from PyPSA's handed-over "
        "charge (checks that the window LPs are the same; see the README)",
    )
    ap.add_argument("--worker", nargs=3, metavar=("SIDE", "HOURS", "SITES"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        side, hours, sites = args.worker[0], int(args.worker[1]), int(args.worker[2])
        if side == "pypsa":
            out = worker_pypsa(hours, sites, args.commit, args.lookahead, args.timeout)
        else:
            replay = None
            if args.replay:
                runs = json.loads(Path(args.replay).read_text())["runs"]
                replay = next(
                    r["soc_handover"]
                    for r in runs
                    if r["side"] == "pypsa" and (r["hours"], r["sites"]) == (hours, sites)
                )
            out = worker_suandian(
                hours,
                sites,
                args.commit,
                args.lookahead,
                args.timeout,
                replay,
                args.driver,
                args.skip_to_date,
            )
            out["replay"] = args.replay
        print(json.dumps(out))
        return 0
    if args.report:
        print(table(json.loads(Path(args.report).read_text())["runs"]))
        return 0
    runs: list[dict] = []
    started = time.perf_counter()
    load_start = os.getloadavg()
    k = 0
    for rep in range(args.reps):
        for item in args.sizes.split(","):
            hours, sites = (int(x) for x in item.lower().split("x"))
            order = ("suandian", "pypsa") if k % 2 == 0 else ("pypsa", "suandian")
            k += 1
            for side in (x for x in order if x in args.sides.split(",")):
                out = _run_worker(side, hours, sites, args)
                out["rep"] = rep
                runs.append(out)
                note = out.get("error") or (
                    f"e2e {out['e2e']:.2f} s  HiGHS {out['highs']:.2f} s  "
                    f"committed {out['objective']:.6f}  windows {out['window_count']}  "
                    f"check {out['objective_check_rel']}"
                )
                print(f"rep {rep} {hours:>5}x{sites:<3} {side:<9} {note}", flush=True)
    meta = next((r for r in runs if r["side"] == "suandian" and "error" not in r), {})
    pmeta = next((r for r in runs if r["side"] == "pypsa" and "error" not in r), {})
    record = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "commit_hours": args.commit,
        "lookahead_hours": args.lookahead,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_start": load_start,
            "loadavg_end": os.getloadavg(),
        },
        "suandian_commit": meta.get("suandian_commit"),
        "suandian_driver": meta.get("driver"),
        "versions": {
            "pypsa": pmeta.get("pypsa"),
            "linopy": pmeta.get("linopy"),
            "highspy_pypsa": pmeta.get("highspy"),
            "highspy_suandian": meta.get("highspy"),
        },
        "wall_seconds": time.perf_counter() - started,
        "runs": runs,
    }
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{args.name or 'pypsa-rolling-' + dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(record, indent=1))
    print()
    print(table(runs))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
