"""Backup gensets and grid outages (``components/backup.py``), solved by hand.

Every case is the tiny site of ``conftest.base_config`` (4 periods of 1 h, grid at
100 CNY/MWh and 0.5 tCO2/MWh) serving 15 units of interactive demand: 2 blocks on,
IT = 2 x 1 + 0.1 x 15 = 3.5 MW, facility = 1.1 x 3.5 = 3.85 MW in every period (the plan
has no other freedom). The node is out in periods 1 and 2 unless stated. Genset ``g``:
5 MW, 300 CNY/MWh, 0.8 tCO2/MWh, least load 0.3 x 5 = 1.5 MW, 50 CNY a start, emergency
use only.
"""

from __future__ import annotations

import pytest
from conftest import base_config, scenario, solve_ok

import suandian

FACILITY = 3.85
GRID = 2 * FACILITY * 100.0  # periods 0 and 3 from the grid: 770 CNY


def _config(critical: float = 1.0, voll: float = 200.0, **genset) -> dict:
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    c["gensets"] = [
        {
            "name": "g",
            "site": "s1",
            "capacity": 5.0,
            "fuel_price": 300.0,
            "emission_factor": 0.8,
            "min_load": 0.3,
            "start_cost": 50.0,
            **genset,
        }
    ]
    c["grid_outages"] = [
        {
            "name": "storm",
            "node": "n1",
            "start": "2026-07-15 01:00",
            "end": "2026-07-15 03:00",
            "critical_share": critical,
            "value_of_lost_load": voll,
        }
    ]
    return c


def test_genset_carries_the_whole_load_through_the_outage():
    """Critical share 1: the genset gives 3.85 MW in periods 1-2, one start.

    cost = 770 (grid) + 2 x 3.85 x 300 (fuel) + 50 (start) = 3,130 CNY;
    CO2 = 7.7 x 0.5 + 7.7 x 0.8 = 10.01 t.
    """
    r = solve_ok(_config())
    assert r.objective == pytest.approx(GRID + 2 * FACILITY * 300 + 50)
    assert r.ds["p_genset"].values[0] == pytest.approx([0, FACILITY, FACILITY, 0])
    assert r.ds["p_grid"].values[0] == pytest.approx([FACILITY, 0, 0, FACILITY])
    assert r.kpis["emissions_tco2"]["location_based"] == pytest.approx(10.01)
    assert r.kpis["cost"]["backup_start"] == pytest.approx(50.0)
    assert r.kpis["energy_mwh"]["backup_generation"] == pytest.approx(7.7)


def test_non_critical_load_is_shed_when_lost_load_is_cheaper_than_fuel():
    """Critical share 0.5, lost load at 200 < fuel 300: shed 1.925 MW, run 1.925 (>= 1.5).

    cost = 770 + 2 x 1.925 x 300 + 50 + 2 x 1.925 x 200 = 2,745 CNY.
    """
    r = solve_ok(_config(critical=0.5))
    half = FACILITY / 2
    assert r.objective == pytest.approx(GRID + 2 * half * 300 + 50 + 2 * half * 200)
    assert r.ds["p_shed"].values[0] == pytest.approx([0, half, half, 0])
    assert r.kpis["energy_mwh"]["lost_load"] == pytest.approx(FACILITY)


def test_battery_rides_through_first_the_genset_tops_up():
    """A full 2 MW / 4 MWh battery (lossless, free end) gives 2 MW in each outage period.

    The genset gives 1.85 MW (>= 1.5): cost = 770 + 2 x 1.85 x 300 + 50 = 1,930 CNY.
    """
    c = _config()
    c["storage"] = [
        {
            "name": "b",
            "site": "s1",
            "power": 2.0,
            "energy": 4.0,
            "eta_charge": 1.0,
            "eta_discharge": 1.0,
            "soc_initial": 1.0,
            "soc_final": "free",
        }
    ]
    r = solve_ok(c)
    assert r.objective == pytest.approx(GRID + 2 * 1.85 * 300 + 50)
    assert r.ds["p_genset"].values[0] == pytest.approx([0, 1.85, 1.85, 0])


def test_genset_outside_outages_within_its_running_hours():
    """No outage, fuel 80 < grid 100, may run outside outages, 3 h permit, 50 per start.

    Best: one start, 3 h of genset, 1 h of grid: 3 x 3.85 x 80 + 3.85 x 100 + 50 = 1,359.
    """
    c = _config(fuel_price=80.0, emergency_only=False, max_hours=3.0)
    c["grid_outages"] = []
    r = solve_ok(c)
    assert r.objective == pytest.approx(3 * FACILITY * 80 + FACILITY * 100 + 50)
    assert float(r.ds["u_genset"].sum()) == pytest.approx(3.0)


def test_certifier_flags_grid_import_during_an_outage():
    r = solve_ok(_config())
    ds = r.ds.copy(deep=True)
    ds["p_grid"][0, 1] = 1.0
    ds["p_genset"][0, 1] = FACILITY - 1.0
    checks = {v.check for v in suandian.Result(ds, r.info).certify()}
    assert "backup.outage_import" in checks


def test_outage_that_cannot_be_ridden_through_is_diagnosed():
    """A 2 MW genset (no least load) under 3.85 MW of critical load: 1.85 MW short in each
    outage period, 3.7 MWh in all; the diagnosis names the outage, proven, not the compute."""
    r = suandian.solve(scenario(_config(capacity=2.0, min_load=0.0)))
    assert r.status == "infeasible"
    d = r.diagnosis
    assert d.proven
    assert d.shortfalls == {"outage_s1": pytest.approx(3.7)}
    assert "'storm'" in d.findings[0] and "01:00-03:00" in d.findings[0]


def test_renewables_trip_with_the_grid_unless_they_island():
    """A 2 MW PV array (always available, paid nothing) beside the genset.

    Tripped: periods 0 and 3 take 2 MW of PV and 1.85 of grid, periods 1-2 run the genset
    alone: 2 x 1.85 x 100 + 2 x 3.85 x 300 + 50 = 2,730 CNY. Islanded: the PV also serves
    in the outage and the genset gives 1.85 MW (>= 1.5): 370 + 2 x 1.85 x 300 + 50 = 1,480.
    """
    pv = {"name": "pv", "site": "s1", "capacity": 2.0, "profile": 1.0, "price": 0.0}
    c = _config()
    c["renewables"] = [pv]
    assert solve_ok(c).objective == pytest.approx(2 * 1.85 * 100 + 2 * FACILITY * 300 + 50)
    c["grid_outages"][0]["island_renewables"] = True
    r = solve_ok(c)
    assert r.objective == pytest.approx(2 * 1.85 * 100 + 2 * 1.85 * 300 + 50)
    assert r.ds["p_genset"].values[0] == pytest.approx([0, 1.85, 1.85, 0])


def test_nothing_is_sold_to_the_grid_during_an_outage():
    """A 5 MW islanded PV array that may sell its surplus at 50 CNY/MWh: it covers the 3.85 MW
    load in every period; the 1.15 MW surplus is sold in periods 0 and 3 only (no genset run):
    objective = -2 x 1.15 x 50 = -115 CNY (-230 if the outage let it sell)."""
    c = _config()
    c["renewables"] = [
        {"name": "pv", "site": "s1", "capacity": 5.0, "profile": 1.0, "price": 0.0},
    ]
    c["renewables"][0]["export_price"] = 50.0
    c["grid_outages"][0]["island_renewables"] = True
    r = solve_ok(c)
    assert r.objective == pytest.approx(-2 * 1.15 * 50)
    assert r.ds["p_export"].values[0] == pytest.approx([1.15, 0, 0, 1.15])


def test_genset_energy_is_not_carbon_free_in_the_hourly_cfe():
    """Grid-mix carbon-free share 0.5: periods 0 and 3 score 0.5 x 3.85, the genset periods 0:
    3.85 / 15.4 = 0.25 (0.5 if its energy counted as grid mix)."""
    c = _config()
    c["nodes"][0]["grid_cfe"] = 0.5
    r = solve_ok(c)
    assert r.kpis["cfe_hourly"]["s1"] == pytest.approx(0.25)


def test_running_genset_offers_up_reserve():
    """No outage; the genset may run at any time (no start cost) and spin for a 1-h up product
    paid 200 CNY/MW per hour.

    On at its least load 1.5 MW, it could raise its output by 3.5 MW, but the site can lower
    its draw by at most the 2.35 MW it still imports: 2.35 MW offered. Each hour: fuel
    1.5 x (300 - 100) = 300 more than the grid, against 2.35 x 200 = 470 of reserve: it
    spins all 4 h at 1.5 MW (more output only lowers the offer).
    cost = 4 x (2.35 x 100 + 1.5 x 300 - 470) = 860 CNY (1,540 without it).
    """
    c = _config(emergency_only=False, start_cost=0.0)
    c["grid_outages"] = []
    c["reserves"] = [{"name": "up", "direction": "up", "price": 200.0}]
    r = solve_ok(c)
    assert r.objective == pytest.approx(860.0)
    assert r.ds["p_reserve"].sel(provider="g").values[0] == pytest.approx([2.35] * 4)
    assert r.ds["p_genset"].values[0] == pytest.approx([1.5] * 4)


def test_two_windows_carry_the_genset_state():
    """Windows of 2 h: the first starts the genset in period 1 (385 + 3.85 x 300 + 50 =
    1,590 CNY) and hands over 'on, 1 h run'; the second needs no start (3.85 x 300 + 385 =
    1,540). Together 3,130 CNY: the one-window optimum."""
    sc = scenario(_config())
    first = suandian.solve(sc.window(0, 2), mip_rel_gap=0.0)
    state = first.final_state()
    assert state["backup"] == {"g": {"on": True, "hours_run": 1.0}}
    second = suandian.solve(sc.window(2, 2, state=state), mip_rel_gap=0.0)
    assert first.objective == pytest.approx(385 + FACILITY * 300 + 50)
    assert second.objective == pytest.approx(FACILITY * 300 + 385)
    assert first.objective + second.objective == pytest.approx(GRID + 2 * FACILITY * 300 + 50)
    assert second.certify() == []


def test_bad_outage_and_genset_data_are_named():
    """Every problem at once: a schema error elsewhere (a negative battery), a misspelt fuel
    series, an outage off the period grid and one that ends before it starts."""
    c = _config()
    c["storage"] = [{"name": "b", "site": "s1", "power": 1.0, "energy": -1.0}]
    c["grid_outages"][0]["start"] = "2026-07-15 01:30"
    c["grid_outages"].append(
        dict(c["grid_outages"][0], name="late", start="2026-07-15 03:00", end="2026-07-15 02:00")
    )
    c["gensets"][0]["fuel_price"] = "diesle"
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(c)
    fields = {p.field: p for p in err.value.problems}
    assert {
        "storage[0].energy",
        "gensets[0].fuel_price",
        "grid_outages[0].start",
        "grid_outages[1].end",
    } <= set(fields)
    assert "not a period start" in fields["grid_outages[0].start"].message


# ------------------------------------------------------------------ a chosen capacity
def _chosen(capex: float, cap_max: float = 10.0) -> dict:
    """A genset ``Capacity`` of 0 .. ``cap_max`` MW, 10 years, no discount, no O&M.

    Annuity = capex / 10 per MW and year; over the 4 h horizon x 4 / 8,760: capex 876,000
    CNY/MW gives 87,600 CNY/MW-yr, 40 CNY per MW over the horizon.
    """
    return {"max": cap_max, "capex_per_unit": capex, "lifetime_years": 10.0}


def test_genset_chosen_at_the_size_the_critical_load_needs():
    """Critical share 0.6, lost load at 200 < fuel 300, annuity 40 CNY/MW over the horizon.

    The critical 0.6 x 3.85 = 2.31 MW must be served in periods 1-2, by the genset alone; the
    other 1.54 MW is shed (200 < 300 per MWh). A larger genset only adds annuity (40 per MW)
    and never runs above 2.31 (fuel dearer than lost load), a smaller one leaves critical load
    unserved: K = 2.31 MW, built 2.31 (least load 0.3 x 2.31 = 0.693 < 2.31).
    cost = 770 (grid) + 2 x 2.31 x 300 (fuel) + 50 (start) + 2 x 1.54 x 200 (lost load)
    + 2.31 x 40 (annuity) = 770 + 1,386 + 50 + 616 + 92.4 = 2,914.4 CNY.
    """
    r = solve_ok(_config(critical=0.6, capacity=_chosen(876_000.0)))
    assert r.ds["genset_rated_power"].values == pytest.approx([2.31])
    assert r.ds["genset_rated_power_built"].values == pytest.approx([2.31])
    assert r.ds["genset_rated_power_annuity"].values == pytest.approx([40.0])
    assert r.kpis["cost"]["genset_rated_power_capex"] == pytest.approx(92.4)
    assert r.ds["p_genset"].values[0] == pytest.approx([0, 2.31, 2.31, 0])
    assert r.objective == pytest.approx(770 + 1386 + 50 + 616 + 92.4)
    assert r.certify() == []


@pytest.mark.parametrize(
    ("capex", "built", "objective"),
    [
        (876_000.0, FACILITY, GRID + 2 * FACILITY * 100 + 50 + FACILITY * 40),
        (8_760_000.0, 0.0, GRID + 2 * FACILITY * 200),
    ],
)
def test_genset_too_dear_against_lost_load_is_not_built(capex, built, objective):
    """Critical share 0 (all may be shed at 200 CNY/MWh), fuel 100 CNY/MWh.

    Each MW of genset run through the 2 outage hours saves 2 x (200 - 100) = 200 CNY.
    Annuity 40 CNY/MW over the horizon (capex 876,000): built 3.85 MW, the whole load,
    cost = 770 + 2 x 3.85 x 100 + 50 (start) + 3.85 x 40 = 1,744 CNY (against 2,310 shed).
    Annuity 400 CNY/MW (capex 8,760,000) > 200 saved: nothing built, all 3.85 MW shed,
    cost = 770 + 2 x 3.85 x 200 = 2,310 CNY.
    """
    r = solve_ok(_config(critical=0.0, fuel_price=100.0, capacity=_chosen(capex)))
    assert r.ds["genset_rated_power"].values == pytest.approx([built], abs=1e-6)
    assert r.objective == pytest.approx(objective)
    assert r.kpis["energy_mwh"]["lost_load"] == pytest.approx(2 * (FACILITY - built), abs=1e-6)
    assert r.certify() == []


def _min_load_case() -> dict:
    """Outage 'a' (period 1, critical 1) and 'b' (period 2, critical 0.2), lost load 50."""
    c = _config(voll=50.0, capacity=_chosen(876_000.0))
    storm = c["grid_outages"][0]
    c["grid_outages"] = [
        dict(storm, name="a", end="2026-07-15 02:00"),
        dict(storm, name="b", start="2026-07-15 02:00", critical_share=0.2),
    ]
    return c


def test_min_load_is_a_share_of_the_chosen_capacity():
    """Period 1 must serve 3.85 MW (critical 1): K = 3.85 MW (annuity 40/MW; more only costs).

    Period 2 must serve 0.2 x 3.85 = 0.77 MW, only the genset can, and shedding (50) is
    cheaper than fuel (300): the genset runs at its least load 0.3 x K = 1.155 MW (not
    0.3 x Kmax = 3 MW: the linearisation is exact at u = 1), 2.695 MW shed. One start.
    cost = 770 + (3.85 + 1.155) x 300 + 50 + 2.695 x 50 + 3.85 x 40
    = 770 + 1,501.5 + 50 + 134.75 + 154 = 2,610.25 CNY.
    """
    r = solve_ok(_min_load_case())
    assert r.ds["genset_rated_power"].values == pytest.approx([FACILITY])
    assert r.ds["p_genset"].values[0] == pytest.approx([0, FACILITY, 0.3 * FACILITY, 0])
    assert r.ds["p_shed"].values[0] == pytest.approx([0, 0, 0.7 * FACILITY, 0])
    assert r.objective == pytest.approx(770 + 1501.5 + 50 + 134.75 + 154)
    assert r.certify() == []


@pytest.mark.parametrize(
    ("var", "period", "value", "check"),
    [
        ("p_genset", 2, 1.0, "backup.gen_min"),  # below 0.3 x 3.85 = 1.155, above 0.3 x ...
        ("p_genset", 1, 4.0, "backup.gen_cap"),  # above K = 3.85, below Kmax = 10
        ("genset_rated_power", None, 5.0, "backup.genset_rated_power_def"),  # 5 != 0 + 3.85
    ],
)
def test_certifier_flags_a_tampered_chosen_genset(var, period, value, check):
    """The min-load case's result with one value changed: the row it breaks is named."""
    r = solve_ok(_min_load_case())
    ds = r.ds.copy(deep=True)
    if period is None:
        ds[var][0] = value
    else:
        ds[var][0, period] = value
    checks = {v.check for v in suandian.Result(ds, r.info).certify()}
    assert check in checks


def test_a_genset_of_no_capacity_is_named():
    """A Capacity with max 0 and nothing existing: gensets[0].capacity, with the fix."""
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(_config(capacity={"max": 0.0}))
    fields = {p.field: p for p in err.value.problems}
    assert "gensets[0].capacity" in fields
    assert "give max > 0" in fields["gensets[0].capacity"].message


def test_a_chosen_genset_is_handed_to_the_next_window():
    """Windows of 2 h, critical share 0.6, lost load 200, annuity 87,600 CNY/MW-yr (20 CNY/MW
    over a 2 h window).

    First window (outage in period 1): K = 2.31 MW as in the one-window case,
    385 + 2.31 x 300 + 50 + 1.54 x 200 + 2.31 x 20 = 1,482.2 CNY; it hands over 'on' and
    'capacity_mw 2.31'. The second window holds K at 2.31 (min = max = built) and pays its
    20 CNY/MW: 2.31 x 300 + 1.54 x 200 + 385 + 46.2 = 1,432.2, no start. Together 2,914.4:
    the one-window optimum.
    """
    sc = scenario(_config(critical=0.6, capacity=_chosen(876_000.0)))
    first = suandian.solve(sc.window(0, 2), mip_rel_gap=0.0)
    state = first.final_state()
    assert state["backup"]["g"]["capacity_mw"] == pytest.approx(2.31)
    second = suandian.solve(sc.window(2, 2, state=state), mip_rel_gap=0.0)
    assert second.ds["genset_rated_power_max"].values == pytest.approx([2.31])
    assert first.objective == pytest.approx(1482.2)
    assert second.objective == pytest.approx(1432.2)
    assert second.certify() == []


def test_a_chosen_genset_spins_on_its_chosen_capacity():
    """The up-reserve case of ``test_running_genset_offers_up_reserve`` with K chosen
    (0 .. 10 MW, annuity 40 CNY/MW over the horizon): on at its least load 0.3 K, it offers
    r = min(K - 0.3 K, 3.85 - 0.3 K) (its headroom u K - p, and what the site imports).

    Per hour: 100 (3.85 - 0.3 K) + 300 x 0.3 K - 200 r. For K <= 3.85, r = 0.7 K: 385 - 80 K,
    with the annuity 4 x (385 - 80 K) + 40 K = 1,540 - 280 K, falling; for K >= 3.85,
    r = 3.85 - 0.3 K: 120 K - 385 an hour, rising. So K = 3.85, p = 1.155, r = 2.695:
    cost = 4 x (269.5 + 346.5 - 539) + 3.85 x 40 = 308 + 154 = 462 CNY.
    """
    c = _config(emergency_only=False, start_cost=0.0, capacity=_chosen(876_000.0))
    c["grid_outages"] = []
    c["reserves"] = [{"name": "up", "direction": "up", "price": 200.0}]
    r = solve_ok(c)
    assert r.ds["genset_rated_power"].values == pytest.approx([FACILITY])
    assert r.ds["p_genset"].values[0] == pytest.approx([0.3 * FACILITY] * 4)
    assert r.ds["p_reserve"].sel(provider="g").values[0] == pytest.approx([0.7 * FACILITY] * 4)
    assert r.objective == pytest.approx(462.0)
    assert r.certify() == []


def test_a_chosen_genset_in_whole_units():
    """The critical-load case in 2 MW units: 2.31 MW needs 2 units, K = 4 MW (annuity 160).

    Least load 0.3 x 4 = 1.2 <= 2.31, so the genset still serves 2.31 MW and 1.54 is shed:
    cost = 770 + 1,386 + 50 + 616 + 4 x 40 = 2,982 CNY.
    """
    r = solve_ok(_config(critical=0.6, capacity=dict(_chosen(876_000.0), unit_size=2.0)))
    assert r.ds["genset_rated_power_units"].values == pytest.approx([2.0])
    assert r.ds["genset_rated_power"].values == pytest.approx([4.0])
    assert r.ds["p_genset"].values[0] == pytest.approx([0, 2.31, 2.31, 0])
    assert r.objective == pytest.approx(770 + 1386 + 50 + 616 + 160)
    assert r.certify() == []
