"""The independent certifier: clean plans certify, each tampered constraint family is named.

Each tamper test changes a solved Dataset so that exactly one constraint family breaks (other
values are moved along consistently, and the objective is re-synchronised with the books
unless the cost itself is under test), then asserts which check is reported and where.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import base_config, scenario

import suandian
from suandian.components.datacenter import batch_dense
from suandian.results.accounting import books
from suandian.results.certifier import Violation, certify

# The rich fixture's inputs, one value per hour (see rich_config for why its optimum is unique)
PRICE_N1 = [90.0, 95, 100, 110, 200, 130, 45, 40]  # CNY/MWh, all different; peak at t4
CHAT = [4.0, 6, 5, 12, 5, 5, 8, 5]  # units; t3 exceeds what s1 can serve in the job window
PV_PU = [0.0, 0, 0.3, 0.8, 0.5, 0.4, 0.2, 0]  # pv is 1 MW, so these are MW too
LINE_CAP = [1.0, 1, 1, 1, 2, 2, 2, 2]  # MW sent: at most 1 block before 04:00, 2 after

SERIES = pd.DataFrame(
    {"price_n1": PRICE_N1, "chat_demand": CHAT, "pv_pu": PV_PU, "line_cap": LINE_CAP}
)


def rich_config() -> dict:
    """Two nodes, two sites and one of every component (8 x 1 h), with one optimal plan.

    The tamper tests below edit fixed cells of this plan, so the plan must not depend on how
    a solver breaks ties: every decision is either forced by a constraint or strictly
    cheaper than each alternative (all prices differ). Derivation, base site as in conftest
    (facility power = 1.1 * (blocks on + 0.1 * units served), no losses):

    Compute (forced). ``train`` needs 60 unit*h in t2..t5 at <= 15 units/h: exactly 15 in
    each of the 4 hours (no slack). That needs both s1 blocks (capacity 20), leaving room for
    5 chat units. Chat is 5 in t2, t4, t5: s1 serves it (s2 would have to switch on a block,
    >= 1.1 MW * 300 CNY). In t3 chat is 12: s1 serves 5 and s2 must serve 7 (one block);
    moving a unit from s1 to s2 costs 0.11 MW * (300 - 110) more. Outside t2..t5 chat
    (4, 6, 8, 5) fits one s1 block; s2 or a second block only add idle power.
    n_on s1 = [1, 1, 2, 2, 2, 2, 1, 1], s2 on only in t3; start-ups cost 5 CNY, so n_start
    is exactly the increase of n_on: s1 in t0 and t2, s2 in t3.
    s1 facility = [1.54, 1.76, 4.4, 4.4, 4.4, 4.4, 1.98, 1.65] MW, s2 = 1.87 MW in t3.

    Electricity at s1. Grid import is positive in every hour (checked at the end) and the
    30 MW import limit never binds, so an extra MWh at s1 in hour t costs PRICE_N1[t] and
    every supply is compared with that price:

    * pv (10 CNY/MWh, below every price): used in full, PV_PU MW.
    * hydro contract (0.5 MW at 120): taken in t4 (200) and t5 (130), in no hour priced
      below 120 (all others are <= 110).
    * corridor (60 CNY per MW sent, 0.95 MW delivered, 1-MW blocks fixed per window): a
      block saves sum(0.95 * price - 60) = 135.25 CNY in window 00-04 and 193.5 in 04-06, so
      each window takes all LINE_CAP allows: 1 block, then 2; t6, t7 are in no window.
      sent = [1, 1, 1, 1, 2, 2, 0, 0].
    * battery (wear 50 CNY per MWh charged or discharged, 95 % / 95 %, loses 1 %/h, starts
      with 1 MWh, must end with >= 0.3 * 2 = 0.6 MWh). End energy is cheapest from a charge
      in t7: (40 + 50) / 0.95 = 94.7 CNY per MWh (t6: 95 / (0.95 * 0.99) = 101.0, earlier
      hours dearer); the 0.6 / 0.95 = 0.632 MW needed fits in that hour. A MW discharged in
      hour t earns price - 50 and must be replaced by 0.99^(7-t) / 0.95 MWh of end energy,
      i.e. 92.9..99.7 CNY: only t4 pays (150 > 96.8; next best t5: 80 < 97.7). So t4
      discharges all the battery holds, 0.95 * 0.99^5 = 0.903 MW (< 1 MW power). Buying
      more for t4 does not pay: a MWh charged in t < 4 returns 0.95^2 * 0.99^(4-t) * 150
      <= 134.0 CNY but costs price + 50 >= 140.
      charge = 0.632 MW in t7 only, discharge = 0.903 MW in t4 only,
      e_soc = [0.99, 0.99^2, 0.99^3, 0.99^4, 0, 0, 0, 0.6].

    grid s1 = facility - pv - 0.95 * sent - hydro - discharge + charge
    = [0.59, 0.81, 3.15, 2.65, 0.597, 1.6, 1.78, 2.282] MW, > 0 in every hour as assumed.
    The green share (0.38) and PUE (1.1) targets (0.1, 1.2) do not bind, so the 5 CNY
    certificates are not bought. The smallest margin of any choice is ~10 CNY/MWh.
    """
    c = base_config(periods=8)
    c["nodes"][0].update(tariff="price_n1", import_limit=30.0)
    c["nodes"].append({"name": "n2", "tariff": 300.0, "emission_factor": 0.8})
    c["sites"][0].update(initial_on=0, startup_cost=5.0)
    c["sites"].append(dict(c["sites"][0], name="s2", node="n2", initial_on=None))
    c["interactive"] = [{"name": "chat", "demand": "chat_demand", "sites": ["s1", "s2"]}]
    c["batch"] = [
        {
            "name": "train",
            "work": 60.0,
            "release": 2,
            "deadline": 6,
            "max_rate": 15.0,
            "sites": ["s1"],
        }
    ]
    c["renewables"] = [
        {
            "name": "pv",
            "site": "s1",
            "kind": "pv",
            "capacity": 1.0,
            "profile": "pv_pu",
            "cost": 10.0,
        }
    ]
    c["storage"] = [
        {
            "name": "bat",
            "site": "s1",
            "power": 1.0,
            "energy": 2.0,
            "no_simultaneous": True,
            "self_discharge": 0.01,
            "throughput_cost": 50.0,
            "soc_final": 0.3,
        }
    ]
    c["corridors"] = [
        {
            "name": "line",
            "from_node": "n2",
            "to_node": "n1",
            "capacity": "line_cap",
            "source_price": 50.0,
            "tariff": 10.0,
            "loss": 0.05,
            "green_fraction": 0.9,
            "block_mw": 1.0,
            "windows": ["00:00-04:00", "04:00-06:00"],
        }
    ]
    c["green_contracts"] = [{"name": "hydro", "node": "n1", "capacity": 0.5, "price": 120.0}]
    c["certificates"] = {"price": 5.0, "max_share": 0.5}
    c["policies"] = {"green_share": {"target": 0.1, "scope": "portfolio"}, "pue": {"cap": 1.2}}
    return c


def rich_plan() -> tuple[list[tuple[str, dict, list[float]]], float]:
    """The optimum derived in :func:`rich_config`: (variable, where, value per hour) rows and
    the cost of that plan, summed term by term."""
    n_on = [1, 1, 2, 2, 2, 2, 1, 1]
    serve = [4, 6, 5, 5, 5, 5, 8, 5]
    run = [0, 0, 15, 15, 15, 15, 0, 0]
    load = [1.1 * (n + 0.1 * (x + r)) for n, x, r in zip(n_on, serve, run, strict=True)]
    only_t3 = [0, 0, 0, 1, 0, 0, 0, 0]
    s2_load = [1.1 * (1 + 0.1 * 7) * on for on in only_t3]  # 1.87 MW in t3
    sent = [1, 1, 1, 1, 2, 2, 0, 0]
    hydro = [0, 0, 0, 0, 0.5, 0.5, 0, 0]
    discharge = [0, 0, 0, 0, 0.95 * 0.99**5, 0, 0, 0]
    charge = [0, 0, 0, 0, 0, 0, 0, 0.6 / 0.95]
    soc = [0.99, 0.99**2, 0.99**3, 0.99**4, 0, 0, 0, 0.6]
    grid = [
        f - p - 0.95 * s - h - d + c
        for f, p, s, h, d, c in zip(load, PV_PU, sent, hydro, discharge, charge, strict=True)
    ]
    rows = [
        ("n_on", {"site": "s1"}, n_on),
        ("n_on", {"site": "s2"}, only_t3),
        ("n_start", {"site": "s1"}, [1, 0, 1, 0, 0, 0, 0, 0]),
        ("n_start", {"site": "s2"}, only_t3),
        ("x_serve", {"workload": "chat", "site": "s1"}, serve),
        ("x_serve", {"workload": "chat", "site": "s2"}, [7 * on for on in only_t3]),
        ("x_run", {"job": "train", "site": "s1"}, run),
        ("p_facility", {"site": "s1"}, load),
        ("p_facility", {"site": "s2"}, s2_load),
        ("p_grid", {"site": "s1"}, grid),
        ("p_grid", {"site": "s2"}, s2_load),
        ("p_renewable", {"renewable": "pv"}, PV_PU),
        ("p_send", {"corridor": "line", "site": "s1"}, sent),
        ("p_contract", {"contract": "hydro", "site": "s1"}, hydro),
        ("p_charge", {"storage": "bat"}, charge),
        ("p_discharge", {"storage": "bat"}, discharge),
        ("e_soc", {"storage": "bat"}, soc),
    ]
    cost = (
        sum(p * g for p, g in zip(PRICE_N1, grid, strict=True))  # grid at n1
        + 300.0 * sum(s2_load)  # grid at n2
        + 10.0 * sum(PV_PU)  # pv
        + 60.0 * sum(sent)  # corridor: source 50 + tariff 10 per MWh sent
        + 120.0 * sum(hydro)  # contract
        + 50.0 * (sum(charge) + sum(discharge))  # battery wear
        + 5.0 * 3  # start-ups
    )
    return rows, cost


@pytest.fixture(scope="module")
def rich() -> suandian.Result:
    # mip_rel_gap 0: the plan must be the optimum derived in rich_config, not any plan within
    # the default gap of 0.1 % (about 2.5 CNY here)
    result = suandian.solve(scenario(rich_config(), SERIES), mip_rel_gap=0.0)
    assert result.status == "optimal"
    return result


# ------------------------------------------------------------------------ helpers
# Every read and write of a Dataset value goes through these, so a change of the Dataset
# layout is adapted here and not in the tests.
def when(t: int) -> str:
    return f"2026-07-15 {t:02d}:00"


def _loc(ds, where: dict) -> dict:
    return {d: (ds["time"].values[v] if d == "time" else v) for d, v in where.items()}


def _run_cell(ds, where: dict) -> int | None:
    """Position along ``run`` of the batch cell (job, site, period) of ``x_run`` (sparse)."""
    hit = (
        (ds["run_job"].values == where["job"])
        & (ds["run_site"].values == where["site"])
        & (ds["run_period"].values == where["time"])
    )
    found = np.flatnonzero(hit)
    return int(found[0]) if len(found) else None


def get(ds, name: str, **where) -> float:
    """One value; ``time`` is a period index (``x_run``: 0 outside its cells)."""
    if name == "x_run":
        i = _run_cell(ds, where)
        return 0.0 if i is None else float(ds["x_run"].values[i])
    return float(ds[name].loc[_loc(ds, where)])


def put(ds, name: str, value, **where) -> xr.Dataset:
    """Set one value; returns the Dataset (a new one if a batch cell had to be added)."""
    if name == "x_run":
        i = _run_cell(ds, where)
        if i is None:  # a cell outside the job's window: append it to the sparse dimension
            cell = xr.Dataset(
                {"x_run": ("run", [value])},
                coords={
                    "run": [ds.sizes["run"]],
                    "run_job": ("run", [where["job"]]),
                    "run_site": ("run", [where["site"]]),
                    "run_period": ("run", [where["time"]]),
                },
            )
            runs = xr.concat([ds[["x_run"]], cell], dim="run")
            return ds.drop_dims("run").merge(runs).assign_attrs(ds.attrs)
        ds["x_run"].values[i] = value
        return ds
    if ds[name].dtype.kind in "iu" and float(value) != round(float(value)):
        ds[name] = ds[name].astype(float)  # a fractional tamper of an integer decision
    ds[name].loc[_loc(ds, where)] = value
    return ds


def add(ds, name: str, delta: float, **where) -> xr.Dataset:
    return put(ds, name, get(ds, name, **where) + delta, **where)


def along_time(ds, name: str, **where) -> np.ndarray:
    """Values per period at ``where``, summed over the dimensions not named (not time)."""
    da = batch_dense(ds) if name == "x_run" else ds[name]
    da = da.sel(where)
    other = [d for d in da.dims if d != "time"]
    return np.asarray((da.sum(other) if other else da).values, dtype=float)


def labels(ds, dim: str) -> list[str]:
    return [str(v) for v in ds[dim].values]


def label_of(ds, name: str, **where) -> str:
    """A string input, e.g. the site of a renewable."""
    return str(ds[name].sel(where).item())


def computed(ds, site: str) -> np.ndarray:
    """Compute served per period at a site (interactive + batch)."""
    return along_time(ds, "x_serve", site=site) + along_time(ds, "x_run", site=site)


def repower(ds, site: str, t: int) -> None:
    """Recompute the power chain of (site, t) from n_on and compute; the grid takes the change."""
    s = {"site": site, "time": t}
    p_it = (
        get(ds, "idle_power", site=site) * get(ds, "n_on", **s)
        + get(ds, "dynamic_power", site=site) * computed(ds, site)[t]
    )
    p_loss = get(ds, "loss_fraction", site=site) * p_it
    p_cool = (p_it + p_loss) / get(ds, "cop", **s)
    before = get(ds, "p_facility", **s)
    for name, value in [
        ("p_it", p_it),
        ("p_loss", p_loss),
        ("p_cool", p_cool),
        ("p_facility", p_it + p_loss + p_cool),
    ]:
        put(ds, name, value, **s)
    add(ds, "p_grid", p_it + p_loss + p_cool - before, **s)
    assert get(ds, "p_grid", **s) >= 0


def resync(ds) -> None:
    """Make the reported objective match the tampered plan (so only the target check fires).

    The per-period split of the costs (``cost_period``) is dropped with it: it is the model's
    own figure and would disagree with a tampered decision (its check has its own test).
    """
    ds.attrs["objective"] = books(ds)["cost"]["total"]
    if "cost_period" in ds:
        del ds["cost_period"]


def checks(violations) -> set[str]:
    return {v.check for v in violations}


def where(violations, check: str) -> list[str]:
    return [v.where for v in violations if v.check == check]


def tampered(result: suandian.Result, change) -> list[Violation]:
    ds = result.ds.copy(deep=True)
    changed = change(ds)
    return certify(ds if changed is None else changed)


# ------------------------------------------------------------------ clean plans
def test_default_plan_certifies(default_result):
    assert default_result.status in ("optimal", "time_limit")
    assert certify(default_result.ds) == []
    assert default_result.certify() == []


def test_rich_plan_certifies(rich):
    assert certify(rich.ds) == []
    assert rich.certify() == []


def test_rich_plan_is_the_optimum_derived_by_hand(rich):
    # the tamper tests below edit fixed cells of this plan (see rich_config for why it is the
    # only optimum, whatever the solver or its version)
    rows, cost = rich_plan()
    ds = rich.ds
    for name, at, expected in rows:
        assert along_time(ds, name, **at) == pytest.approx(expected, abs=1e-6), (name, at)
    for site in ("s1", "s2"):
        assert get(ds, "e_certificate", site=site) == pytest.approx(0.0, abs=1e-9)
    assert rich.objective == pytest.approx(cost, rel=1e-9)


def test_netcdf_round_trip_certifies(default_result, tmp_path):
    default_result.save(tmp_path, formats=("netcdf",))
    ds = suandian.read_result(tmp_path).ds
    assert ds["site"].dtype == object
    assert certify(ds) == []
    # and a tamper on the read-back Dataset is still located by name
    add(ds, "p_grid", 1.0, site="cq_dc", time=40)
    found = certify(ds)
    assert where(found, "ledger.balance") == ["site=cq_dc time=2026-07-15 10:00"]


def test_rich_round_trip_certifies(rich, tmp_path):
    rich.save(tmp_path, formats=("netcdf",))
    assert certify(suandian.read_result(tmp_path / "result.nc").ds) == []


# -------------------------------------------------------------- tamper: rich plan
def _balance(ds):
    add(ds, "p_grid", 1.0, site="s1", time=3)


def _renewable_bound(ds):
    add(ds, "p_renewable", 0.5, renewable="pv", time=2)
    add(ds, "p_grid", -0.5, site="s1", time=2)


def _n_on_fractional(ds):
    add(ds, "n_on", 0.5, site="s1", time=6)
    add(ds, "n_start", 0.5, site="s1", time=6)
    repower(ds, "s1", 6)


def _n_on_above_blocks(ds):
    put(ds, "n_on", 3.0, site="s1", time=4)
    add(ds, "n_start", 1.0, site="s1", time=4)
    repower(ds, "s1", 4)


def _import_limit(ds):
    put(ds, "import_limit", 1.0, node="n1")


def _corridor_capacity(ds):
    put(ds, "corridor_capacity", 1.5, corridor="line", time=5)


def _corridor_block(ds):
    # in the 4-h window 00-04 (1 block each hour), so the odd hour out is unambiguous
    add(ds, "p_send", -0.5, corridor="line", site="s1", time=3)
    add(ds, "p_grid", 0.5 * 0.95, site="s1", time=3)


def _corridor_min(ds):
    put(ds, "corridor_min", 2.5, corridor="line")


def _outside_block_window(ds):
    put(ds, "corridor_window", -1, corridor="line", time=5)


def _contract_capacity(ds):
    put(ds, "contract_capacity", 0.2, contract="hydro", time=5)


def _send_to_other_node(ds):
    add(ds, "p_send", -1.0, corridor="line", site="s1", time=3)
    add(ds, "p_send", 1.0, corridor="line", site="s2", time=3)
    add(ds, "p_grid", 0.95, site="s1", time=3)
    add(ds, "p_grid", -0.95, site="s2", time=3)


def _contract_elsewhere(ds):
    put(ds, "contract_node", "n2", contract="hydro")


def _serve_ineligible(ds):
    put(ds, "serve_eligible", False, workload="chat", site="s2")


def _demand_served(ds):
    add(ds, "x_serve", -1.0, workload="chat", site="s1", time=2)
    repower(ds, "s1", 2)


def _job_completion(ds):
    add(ds, "x_run", -1.0, job="train", site="s1", time=2)
    repower(ds, "s1", 2)


def _run_outside_window(ds):
    ds = add(ds, "x_run", -1.0, job="train", site="s1", time=2)
    ds = add(ds, "x_run", 1.0, job="train", site="s1", time=6)  # a new cell of x_run
    repower(ds, "s1", 2)
    repower(ds, "s1", 6)
    return ds


def _job_rate(ds):
    put(ds, "job_max_rate", 14.0, job="train")


def _compute_capacity(ds):
    put(ds, "block_capacity", 9.5, site="s1")


def _start_count(ds):
    put(ds, "n_start", 0.0, site="s1", time=2)


def _start_count_initial(ds):
    put(ds, "n_start", 0.0, site="s1", time=0)


def _p_it_def(ds):
    s = {"site": "s1", "time": 6}
    add(ds, "p_it", 0.2, **s)
    add(ds, "p_cool", 0.2 / get(ds, "cop", **s), **s)
    add(ds, "p_facility", 0.2 * (1 + 1 / get(ds, "cop", **s)), **s)
    add(ds, "p_grid", 0.2 * (1 + 1 / get(ds, "cop", **s)), **s)


def _p_loss_def(ds):
    s = {"site": "s1", "time": 6}
    add(ds, "p_loss", 0.2, **s)
    add(ds, "p_cool", 0.02, **s)
    add(ds, "p_facility", 0.22, **s)
    add(ds, "p_grid", 0.22, **s)


def _p_cool_def(ds):
    for name in ("p_cool", "p_facility", "p_grid"):
        add(ds, name, 0.2, site="s1", time=6)


def _p_facility_def(ds):
    for name in ("p_facility", "p_grid"):
        add(ds, name, 0.2, site="s1", time=6)


def _soc_step(ds):
    add(ds, "p_charge", 0.1, storage="bat", time=6)
    add(ds, "p_grid", 0.1, site="s1", time=6)


def _soc_final(ds):
    put(ds, "soc_final_min", 0.9, storage="bat")


def _discharge_bound(ds):
    put(ds, "storage_power", 0.85, storage="bat")


def _charge_and_discharge(ds):
    out = 0.3
    into = out / (0.95 * 0.95)  # keeps the state of charge unchanged
    add(ds, "p_discharge", out, storage="bat", time=2)
    add(ds, "p_charge", into, storage="bat", time=2)
    add(ds, "p_grid", into - out, site="s1", time=2)


def _green_target(ds):
    ds["green_target"][:] = 0.9


def _pue(ds):
    s = {"site": "s1", "time": 4}
    add(ds, "p_cool", 5.0, **s)
    add(ds, "p_facility", 5.0, **s)
    add(ds, "p_grid", 5.0, **s)
    put(ds, "cop", (get(ds, "p_it", **s) + get(ds, "p_loss", **s)) / get(ds, "p_cool", **s), **s)
    for path in ("k_air", "k_liquid"):  # the heat paths agree with that COP (dc.cop_paths)
        put(ds, path, 1.0 / get(ds, "cop", **s), **s)


def _nan_decision(ds):
    put(ds, "p_grid", np.nan, site="s1", time=0)


def rows(prefix: str, *hours: int) -> list[str]:
    """Expected ``where`` strings of per-period rows, e.g. ``site=s1 time=2026-07-15 03:00``."""
    return [f"{prefix} time={when(t)}" for t in hours]


# Each tamper edits cells of the plan derived in rich_config (asserted by
# test_rich_plan_is_the_optimum_derived_by_hand), so the rows it breaks are known exactly.
RICH_TAMPERS = [
    # (tamper, check expected, its `where` rows, other checks that must also fire)
    (_balance, "ledger.balance", rows("site=s1", 3), set()),
    (_renewable_bound, "res.p_renewable.bounds", rows("renewable=pv", 2), set()),
    (_n_on_fractional, "dc.n_on.integrality", rows("site=s1", 6), set()),
    (_n_on_above_blocks, "dc.n_on.bounds", rows("site=s1", 4), set()),
    # limit 1 MW: s1 imports 0.59, 0.81, 3.15, 2.65, 0.597, 1.6, 1.78, 2.28 MW
    (_import_limit, "grid.import_limit", rows("node=n1", 2, 3, 5, 6, 7), set()),
    (_corridor_capacity, "green.corridor_capacity", rows("corridor=line", 5), set()),
    (_corridor_block, "green.corridor_block", rows("corridor=line", 3), set()),
    # minimum 2.5 MW: the plan sends 1, 1, 1, 1, 2, 2, 0, 0 MW
    (_corridor_min, "green.corridor_min", rows("corridor=line", *range(8)), set()),
    (_outside_block_window, "green.corridor_block", rows("corridor=line", 5), set()),
    (_contract_capacity, "green.contract_capacity", rows("contract=hydro", 5), set()),
    (_send_to_other_node, "green.SEND", rows("corridor=line site=s2", 3), set()),
    # the contract delivers in t4 and t5 only
    (_contract_elsewhere, "green.TAKE", rows("contract=hydro site=s1", 4, 5), set()),
    # served at a site that may not serve it (s2 serves in t3 only): the demand counts as not
    # served either
    (_serve_ineligible, "dc.SERVE", rows("workload=chat site=s2", 3), {"dc.demand_served"}),
    (_demand_served, "dc.demand_served", rows("workload=chat", 2), set()),
    (_job_completion, "dc.job_completion", ["job=train"], set()),
    # work done outside the window does not count towards the job: completion breaks too
    (_run_outside_window, "dc.RUN", rows("job=train site=s1", 6), {"dc.job_completion"}),
    # rate 14: the job runs at 15 in each of t2..t5
    (_job_rate, "dc.job_rate", rows("job=train", 2, 3, 4, 5), set()),
    # 9.5 units per block: s1 computes 20 on 2 blocks in t2..t5, at most 8 on 1 block else
    (_compute_capacity, "dc.compute_capacity", rows("site=s1", 2, 3, 4, 5), set()),
    (_start_count, "dc.start_count", rows("site=s1", 2), set()),
    (_start_count_initial, "dc.start_count", rows("site=s1", 0), set()),
    (_p_it_def, "dc.p_it_def", rows("site=s1", 6), set()),
    (_p_loss_def, "dc.p_loss_def", rows("site=s1", 6), set()),
    (_p_cool_def, "dc.p_cool_def", rows("site=s1", 6), set()),
    (_p_facility_def, "dc.p_facility_def", rows("site=s1", 6), set()),
    (_soc_step, "stor.e_soc_balance", rows("storage=bat", 6), set()),
    (_soc_final, "stor.e_soc_final", ["storage=bat"], set()),
    # power 0.85 MW: the battery discharges 0.903 MW in t4 and charges at most 0.632 MW
    (_discharge_bound, "stor.p_discharge.bounds", rows("storage=bat", 4), set()),
    (_charge_and_discharge, "stor.charge_mode", rows("storage=bat", 2), set()),
    (_green_target, "green_share.share_min", ["scope=portfolio"], set()),
    (_pue, "pue_cap.pue_max", ["site=s1"], set()),
    # a NaN decision fails its bounds (and the balance it enters)
    (_nan_decision, "grid.p_grid.bounds", rows("site=s1", 0), {"ledger.balance"}),
]


@pytest.mark.parametrize(
    ("change", "check", "expected", "also"),
    RICH_TAMPERS,
    ids=[t[0].__name__.strip("_") for t in RICH_TAMPERS],
)
def test_tamper_rich(rich, change, check, expected, also):
    def tamper(ds):
        changed = change(ds)
        ds = ds if changed is None else changed
        resync(ds)
        return ds

    found = tampered(rich, tamper)
    assert checks(found) == {check} | also, [str(v) for v in found]
    assert where(found, check) == expected


def test_cost_mismatch_is_reported(rich):
    def change(ds):
        ds.attrs["objective"] += 1.0

    found = tampered(rich, change)
    assert checks(found) == {"total_cost"}
    (v,) = found
    assert v.limit == pytest.approx(v.value + 1.0)


def test_cost_period_split_is_checked(rich):
    """A per-period cost moved off its term's total: the split no longer sums to the books."""

    def change(ds):
        term = list(ds["cost_term"].values).index("grid_energy")
        ds["cost_period"][term, 0] += 10.0

    found = tampered(rich, change)
    assert checks(found) == {"cost_period"}
    (v,) = found
    assert v.where == "grid_energy" and v.value == pytest.approx(v.limit + 10.0)


def test_tolerance_is_relative_to_the_limit(rich):
    # 1e-6 MW off a 2 MW-scale balance passes at tol 1e-5 and fails at tol 1e-8
    ds = rich.ds.copy(deep=True)
    add(ds, "p_grid", 1e-6, site="s1", time=2)
    resync(ds)
    assert certify(ds) == []
    assert checks(certify(ds, tol=1e-8)) == {"ledger.balance"}


# ----------------------------------------------------------- tamper: default plan
# The default day is solved to the default 0.1 % gap, so its plan is one of many near-optimal
# plans and may differ between solver versions. These tamper amounts are computed from the
# plan itself, so that each check must fire whichever plan was returned.
def test_default_green_share_broken_by_swapping_green_for_grid(default_result):
    # every feasible plan meets cq_dc's 80 % target (the rule is per data center); swap its
    # surplus over the target plus 1 MWh of contract (green) energy for grid energy at cq_dc,
    # in the period of the largest contract delivery (metered either way: the bill's demand
    # is unchanged)
    ds = default_result.ds
    k = books(ds)
    green, consumption = k["green_mwh"]["cq_dc"], k["consumption_mwh"]["cq_dc"]
    target = float(ds["green_target"].sel(scope="cq_dc"))
    assert target == pytest.approx(0.8)
    dt = float(ds.attrs["dt_hours"])
    swap = (green - target * consumption + 1.0) / dt  # MW during one period
    mw, name, t = max(
        (mw, name, t)
        for name in labels(ds, "contract")
        for t, mw in enumerate(along_time(ds, "p_contract", contract=name, site="cq_dc"))
    )
    assert mw >= swap, f"{name} gives {mw:.3f} MW at most, {swap:.3f} MW needed"

    def change(ds):
        add(ds, "p_contract", -swap, contract=name, site="cq_dc", time=t)
        add(ds, "p_grid", swap, site="cq_dc", time=t)
        resync(ds)

    found = tampered(default_result, change)
    assert checks(found) == {"green_share.share_min"}
    (v,) = found
    assert v.where == "site=cq_dc"
    assert v.value < v.limit == pytest.approx(0.8)


def test_default_certificate_cap(default_result):
    # whatever cq_dc bought: 1 MWh more than its cap (10 % of its consumption) allows
    ds = default_result.ds
    consumption = books(ds)["consumption_mwh"]["cq_dc"]
    cap = float(ds.attrs["certificate_max_share"]) * consumption
    extra = cap - get(ds, "e_certificate", site="cq_dc") + 1.0

    def change(ds):
        add(ds, "e_certificate", extra, site="cq_dc")
        resync(ds)

    found = tampered(default_result, change)
    assert checks(found) == {"green_share.certificate_cap"}
    assert where(found, "green_share.certificate_cap") == ["site=cq_dc"]


def test_default_certificate_cap_lowered(default_result):
    # certificates (5 CNY/MWh) are by far the cheapest green energy, so every near-optimal
    # plan buys some for cq_dc (at the optimum: up to the 10 % cap); halve the cap below that
    ds = default_result.ds
    share = get(ds, "e_certificate", site="cq_dc") / books(ds)["consumption_mwh"]["cq_dc"]
    assert share > 0.01

    def change(ds):
        ds.attrs["certificate_max_share"] = share / 2

    found = tampered(default_result, change)
    assert checks(found) == {"green_share.certificate_cap"}


def test_default_pue_cap_lowered(default_result):
    """A cap of 1.14 at cq_dc, written into the Dataset after the solve.

    The default judges the cap on the year (basis year): the year outside the day has
    (80,730 + 75,137) / (70,200 + 64,220) = 1.1596 and the day at least 1.147 (every block at
    full load in its coolest period, test_default_scenario.py::test_pue_cap_below_the_plant_
    is_infeasible_...), so the year's PUE is above 1.14 whatever plan was returned:
    pue_cap.pue_max is broken, reported with the year's PUE. The stored allowance (from 1.25)
    no longer equals 1.14 x 134,420 - 155,867 = -2,628.2 MWh: pue_cap.pue_allowance.
    """

    def change(ds):
        ds["pue_cap"].loc[{"site": "cq_dc"}] = 1.14

    found = tampered(default_result, change)
    assert checks(found) == {"pue_cap.pue_max", "pue_cap.pue_allowance"}
    by_check = {v.check: v for v in found}
    v = by_check["pue_cap.pue_max"]
    assert v.where == "site=cq_dc"
    assert v.value == pytest.approx(default_result.kpis["pue_year"]["cq_dc"])
    assert by_check["pue_cap.pue_allowance"].where == "site=cq_dc"


def test_default_import_and_export_in_one_period(default_result):
    # hm_dc has one point of connection: in a period without the binary (the swap loses
    # money there, so the model relies on the LP) where it draws from the grid and uses its
    # own PV, sell 0.1 MW of that PV and buy it back from the grid. The draw stays below
    # hm_dc's highest draw of the day (its demand peak is unchanged) and the balance holds.
    ds = default_result.ds
    binary = ds["net_binary"].sel(site="hm_dc").values.astype(bool)
    grid = along_time(ds, "p_grid", site="hm_dc")
    pv = along_time(ds, "p_renewable", renewable="hami_pv")
    delta = 0.1
    candidates = [
        t
        for t in range(len(grid))
        if not binary[t] and pv[t] > delta and grid[t] + delta < grid.max()
    ]
    assert candidates, "no period where hm_dc imports and uses its PV outside the valley"
    t = candidates[0]

    def change(ds):
        add(ds, "p_renewable", -delta, renewable="hami_pv", time=t)
        add(ds, "p_export", delta, renewable="hami_pv", time=t)
        add(ds, "p_grid", delta, site="hm_dc", time=t)
        add(ds, "p_metered", delta, site="hm_dc", time=t)
        if "p_direct_used" in ds:  # the bill's self-used direct energy (1192号 self-use charges)
            add(ds, "p_direct_used", -delta, site="hm_dc", time=t)
        resync(ds)

    found = tampered(default_result, change)
    assert checks(found) == {"net_metering.exclusive"}, [str(v) for v in found]
    stamp = pd.Timestamp(ds["time"].values[t]).strftime("%Y-%m-%d %H:%M")
    assert where(found, "net_metering.exclusive") == [f"site=hm_dc time={stamp}"]


# ---------------------------------------------------------------- relaxed plans
def _unreachable_green() -> dict:
    c = base_config()
    c["interactive"] = [{"name": "chat", "demand": 12.0, "sites": ["s1"]}]
    c["policies"] = {"green_share": {"target": 0.5, "scope": "site"}, "pue": {"cap": 1.05}}
    return c


def test_relaxed_plan_certifies_with_its_slacks():
    sc = scenario(_unreachable_green())
    assert suandian.solve(sc).status == "infeasible"
    result = suandian.solve(suandian.build_model(sc, shortfall_penalty=1e4))
    assert result.status == "optimal"
    ds = result.ds
    assert float(ds["e_green_shortfall"].sum()) > 1.0
    assert float(ds["e_pue_excess"].sum()) > 0.01
    assert certify(ds) == []

    def change(ds):
        ds["e_green_shortfall"][:] = 0.0
        ds["e_pue_excess"][:] = 0.0
        resync(ds)

    found = tampered(result, change)
    assert checks(found) == {"green_share.share_min", "pue_cap.pue_max"}
    assert where(found, "green_share.share_min") == ["site=s1"]


def test_relaxed_plan_with_unserved_compute_certifies():
    c = base_config()
    c["interactive"] = [{"name": "chat", "demand": 25.0, "sites": ["s1"]}]
    c["batch"] = [{"name": "job", "work": 40.0, "max_rate": 20.0, "sites": ["s1"]}]
    sc = scenario(c)
    result = suandian.solve(suandian.build_model(sc, compute_shortfall_penalty=1e4))
    assert result.status == "optimal"
    ds = result.ds
    assert float(ds["x_unserved"].sum()) > 1.0
    assert float(ds["x_unfinished"].sum()) > 1.0
    assert certify(ds) == []  # includes the cost: slacks priced per compute unit x hour

    def change(ds):
        ds["x_unserved"][:] = 0.0
        ds["x_unfinished"][:] = 0.0
        resync(ds)

    found = tampered(result, change)
    assert checks(found) == {"dc.demand_served", "dc.job_completion"}
    assert where(found, "dc.demand_served") == [f"workload=chat time={when(t)}" for t in range(4)]
    assert where(found, "dc.job_completion") == ["job=job"]


# ----------------------------------------------------------------------- odds
def test_violation_is_frozen_and_readable():
    v = Violation("ledger.balance", f"site=s1 time={when(3)}", 1.0, 0.0)
    assert str(v) == "ledger.balance at site=s1 time=2026-07-15 03:00: 1 against 0 (off by +1)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.value = 2.0  # type: ignore[misc]


def test_dataset_without_plan_is_refused():
    import xarray as xr

    with pytest.raises(ValueError, match="no plan"):
        certify(xr.Dataset(attrs={"dt_hours": 1.0}))


# ------------------------------------------------------------ what is reported
def _report(result) -> dict:
    import json

    from suandian.results import io

    return json.loads(json.dumps(io._clean(result.report())))  # as kpis.json holds it


def test_clean_report_certifies(default_result, rich):
    from suandian.results.certifier import certify_report

    assert certify_report(default_result.ds, _report(default_result)) == []
    assert certify_report(rich.ds, _report(rich)) == []


@pytest.mark.parametrize(
    ("kpi", "key", "tamper"),
    [
        ("green_share", "portfolio", lambda k: 0.95),
        ("pue", "cq_dc", lambda k: 1.05),
        ("cost", "total", lambda k: 0.8 * k),
        ("cost", "grid_energy", lambda k: 0.8 * k),
        ("emissions_tco2", "location_based", lambda k: 0.5 * k),
        ("cfe_hourly", "portfolio", lambda k: 1.0),
    ],
)
def test_tampered_report_names_the_kpi(default_result, kpi, key, tamper):
    from suandian.results.certifier import certify_report

    report = _report(default_result)
    if key not in report["kpis"][kpi]:
        key = next(iter(report["kpis"][kpi]))
    true = report["kpis"][kpi][key]
    report["kpis"][kpi][key] = tamper(true)
    found = certify_report(default_result.ds, report)
    assert [(v.check, v.where) for v in found] == [(f"report.{kpi}", key)]
    assert found[0].value == tamper(true) and found[0].limit == pytest.approx(true)
    assert f"report.{kpi} at {key}" in str(found[0])


def test_report_missing_extra_and_solver_fields(default_result):
    from suandian.results.certifier import certify_report

    report = _report(default_result)
    del report["kpis"]["pue"]["hm_dc"]
    report["kpis"]["green_share"]["bonus"] = 1.0
    report["kpis"]["cue_kg_per_kwh"] = None
    report["solver"]["objective"] *= 0.8
    report["solver"]["status"] = "proven optimal"
    found = {(v.check, v.where) for v in certify_report(default_result.ds, report)}
    assert found == {
        ("report.pue", "hm_dc"),
        ("report.green_share", "bonus"),
        ("report.cue_kg_per_kwh", "all"),
        ("report.solver.objective", "all"),
        ("report.solver.status", "reported 'proven optimal', Dataset 'optimal'"),
    }
    assert certify_report(default_result.ds, {"solver": {}})[0].check == "report.kpis"
