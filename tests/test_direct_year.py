"""The 650号 ratios judged over the year: ``policies.direct_supply.basis: year``.

Case (the 绿电直连 case of test_renewable_contracts): a direct PV at s1, pay_as_produced at
150 CNY/MWh, 4 MW on [0.5, 1] -> available [2, 4] MW, 6 MWh; grid [100, 120] CNY/MWh; the
site's load is fixed at 3.85 MW, so consumption is 7.7 MWh whatever the PV does. A MWh of PV
used costs 150 - 120 = 30 CNY more than grid in t1 and 150 - 100 = 50 more in t0, so
without a ratio nothing is used and the bill is 100 x 3.85 + 120 x 3.85 = 847 CNY; a ratio
is met in t1 first (room min(4, 3.85) = 3.85 MWh), then in t0. Every optimum below is
unique (t1 is strictly cheaper than t0, and using more than required costs more).

The year's rule ``U_o + U >= r (B_o + B)`` (U used on site, B the available energy (self-
consumption) or the site's consumption (supply share), ``_o`` outside the horizon: to date
+ forecast) is the horizon's row ``U >= r B - A`` with the allowance ``A = U_o - r B_o``.
"""

from __future__ import annotations

import pytest
from conftest import scenario, solve_ok
from test_renewable_contracts import LOAD, names, resync, with_pv

import suandian
from suandian.results.certifier import certify

GRID = 100.0 * LOAD + 120.0 * LOAD  # 847 CNY: the bill with no PV used


def case(year=None, **ratios) -> tuple[dict, object]:
    """The direct PV with ``ratios``; with ``year`` the ratios are judged over the year."""
    fields = {"contract": "pay_as_produced", "price": 150.0, "direct": True, **ratios}
    cfg, s = with_pv(2, {"pv_cf": [0.5, 1.0], "price": [100.0, 120.0]}, tariff="price", **fields)
    if year is not None:
        cfg["policies"]["direct_supply"] = {"basis": "year", "year": {"s1": year}}
    return cfg, s


def used(r) -> list[float]:
    return list(r.ds["p_renewable"].sel(renewable="pv").values)


# ------------------------------------------------------------------ (a) year to date
def test_self_consumption_year_above_the_ratio_lets_the_horizon_fall_below():
    """min_self_consumption 0.6. Outside the horizon: used 50 + 12 = 62 MWh of 80 + 20 = 100
    available (62 %). A = 62 - 0.6 x 100 = 2 MWh, so U >= 0.6 x 6 - 2 = 1.6 MWh (the
    horizon alone would need 3.6): all in t1, cost 847 + 30 x 1.6 = 895 CNY. The horizon's
    ratio 1.6 / 6 = 0.267 < 0.6; the year's (62 + 1.6) / (100 + 6) = 0.6. Shadow 30.
    """
    year = {"available_to_date_mwh": 80.0, "used_to_date_mwh": 50.0}
    year |= {"available_forecast_mwh": 20.0, "used_forecast_mwh": 12.0}
    cfg, s = case(year, min_self_consumption=0.6)
    r = solve_ok(cfg, series=s)
    assert used(r) == pytest.approx([0.0, 1.6], abs=1e-9)
    assert r.objective == pytest.approx(GRID + 30.0 * 1.6)
    assert float(r.ds["direct_self_consumption_allowance"].sel(site="s1")) == pytest.approx(2.0)
    assert float(r.ds["direct_available_other"].sel(site="s1")) == pytest.approx(100.0)
    assert float(r.ds["direct_used_other"].sel(site="s1")) == pytest.approx(62.0)
    assert r.kpis["direct_self_consumption_year"]["s1"] == pytest.approx(0.6)
    assert float(r.ds["shadow_self_consumption"].sel(site="s1")) == pytest.approx(30.0)


def test_self_consumption_year_below_the_ratio_forces_the_horizon_above():
    """Outside: used 59 of 100 (59 %): A = 59 - 60 = -1, U >= 3.6 + 1 = 4.6 MWh: t1 takes
    3.85, t0 the other 0.75. Cost 847 + 30 x 3.85 + 50 x 0.75 = 1000 CNY. The horizon's ratio
    4.6 / 6 = 0.767 > 0.6; the year's (59 + 4.6) / 106 = 0.6. The marginal MWh is in t0:
    shadow 50.
    """
    year = {"available_to_date_mwh": 100.0, "used_to_date_mwh": 59.0}
    cfg, s = case(year, min_self_consumption=0.6)
    r = solve_ok(cfg, series=s)
    assert used(r) == pytest.approx([0.75, LOAD])
    assert r.objective == pytest.approx(1000.0)
    assert r.kpis["direct_self_consumption_year"]["s1"] == pytest.approx(0.6)
    assert float(r.ds["shadow_self_consumption"].sel(site="s1")) == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("used_other", "pv", "cost"),
    [
        # A = 402 - 0.4 x 1000 = 2: U >= 0.4 x 7.7 - 2 = 1.08, in t1: 847 + 32.4
        (402.0, [0.0, 1.08], GRID + 30.0 * 1.08),
        # A = 399 - 400 = -1: U >= 3.08 + 1 = 4.08: t1 3.85, t0 0.23: 847 + 115.5 + 11.5
        (399.0, [0.23, LOAD], 974.0),
    ],
)
def test_supply_share_year(used_other, pv, cost):
    """min_supply_share 0.4; outside the horizon the site consumes 800 + 200 = 1000 MWh and
    the project supplied ``used_other`` MWh (300 to date + the rest forecast). Either way the
    year's share is (U_o + U) / (1000 + 7.7) = 0.4.
    """
    year = {"used_to_date_mwh": 300.0, "used_forecast_mwh": used_other - 300.0}
    year |= {"consumption_to_date_mwh": 800.0, "consumption_forecast_mwh": 200.0}
    cfg, s = case(year, min_supply_share=0.4)
    r = solve_ok(cfg, series=s)
    assert used(r) == pytest.approx(pv, abs=1e-9)
    assert r.objective == pytest.approx(cost)
    assert float(r.ds["direct_consumption_other"].sel(site="s1")) == pytest.approx(1000.0)
    assert r.kpis["direct_supply_share_year"]["s1"] == pytest.approx(0.4)


# ------------------------------------------------------------------ (b) allowance
def test_allowances_given_directly():
    """Both ratios, allowances given: self 0.6 with A = 2 -> U >= 1.6; supply 0.4 with
    A = -1 -> U >= 4.08, the binding one: t1 3.85, t0 0.23, cost 974 CNY (as the second
    supply case). No energies were given: no year ratio is reported.
    """
    year = {"self_consumption_allowance_mwh": 2.0, "supply_allowance_mwh": -1.0}
    cfg, s = case(year, min_self_consumption=0.6, min_supply_share=0.4)
    r = solve_ok(cfg, series=s)
    assert used(r) == pytest.approx([0.23, LOAD])
    assert r.objective == pytest.approx(974.0)
    assert float(r.ds["direct_supply_allowance"].sel(site="s1")) == pytest.approx(-1.0)
    assert "direct_supply_share_year" not in r.kpis


def test_basis_horizon_is_the_default_and_unchanged():
    """``basis: horizon`` stated equals no section: U >= 3.6, 955 CNY (test_renewable_contracts)."""
    cfg, s = case(min_self_consumption=0.6)
    cfg["policies"]["direct_supply"] = {"basis": "horizon"}
    r = solve_ok(cfg, series=s)
    assert r.objective == pytest.approx(955.0)
    assert float(r.ds["direct_self_consumption_allowance"].sel(site="s1")) == 0.0
    assert r.final_state().get("direct_supply") is None


# ------------------------------------------------------------------ (c) two windows
ENERGIES = {
    "available_to_date_mwh": 80.0,
    "used_to_date_mwh": 50.0,
    "consumption_to_date_mwh": 80.0,
    "available_forecast_mwh": 20.0,
    "used_forecast_mwh": 12.0,
    "consumption_forecast_mwh": 20.0,
}


@pytest.mark.parametrize("form", ["energies", "allowances"])
def test_two_windows_carry_the_year(form):
    """Self 0.6 and supply 0.4; one window of 2 h against two of 1 h with the state.

    Energies: U_o = 62, available 100, consumption 100: A_self = 62 - 60 = 2, A_sup =
    62 - 40 = 22 (slack). One window: U >= 3.6 - 2 = 1.6 in t1, 895 CNY; year ratios
    63.6 / 106 = 0.6 and 63.6 / 107.7 = 0.5905. Allowances: A_self 2, A_sup 22, the same.

    Window 1 (t0, the budget kept as given): U0 >= 0.6 x 2 - 2 < 0, so U0 = 0; cost 385.
    State: available 2, used 0, consumption 3.85 MWh. Energies: to date 82 / 50 / 83.85,
    so A_self = 62 - 0.6 x 102 = 0.8; allowances: A_self = 2 - (0.6 x 2 - 0) = 0.8, A_sup =
    22 - (0.4 x 3.85 - 0) = 20.46. Window 2 (t1): U1 >= 0.6 x 4 - 0.8 = 1.6, cost 462 + 48 =
    510; 385 + 510 = 895 CNY, and the year's ratios (62 + 1.6) / (102 + 4) = 0.6 and
    63.6 / (103.85 + 3.85) = 0.5905: those of the one window.
    """
    year = (
        dict(ENERGIES)
        if form == "energies"
        else {"self_consumption_allowance_mwh": 2.0, "supply_allowance_mwh": 22.0}
    )
    cfg, s = case(year, min_self_consumption=0.6, min_supply_share=0.4)
    full = scenario(cfg, s)
    one = solve_ok(cfg, series=s)
    assert used(one) == pytest.approx([0.0, 1.6], abs=1e-9)
    assert one.objective == pytest.approx(895.0)

    r1 = suandian.solve(full.window(0, 1), mip_rel_gap=0.0)
    assert r1.status == "optimal" and r1.certify() == []
    assert r1.objective == pytest.approx(385.0)
    state = r1.final_state()
    assert state["direct_supply"] == {
        "s1": {
            "available_mwh": pytest.approx(2.0),
            "used_mwh": pytest.approx(0.0, abs=1e-9),
            "consumption_mwh": pytest.approx(LOAD),
        }
    }
    rest = full.window(1, 1, state=state)
    after = rest.config.policies.direct_supply.year["s1"]
    r2 = suandian.solve(rest, mip_rel_gap=0.0)
    assert r2.status == "optimal" and r2.certify() == []
    assert used(r2) == pytest.approx([1.6])
    assert r1.objective + r2.objective == pytest.approx(one.objective)
    assert float(r2.ds["direct_self_consumption_allowance"].sel(site="s1")) == pytest.approx(0.8)
    if form == "energies":
        assert (after.available_to_date_mwh, after.used_to_date_mwh) == pytest.approx((82.0, 50.0))
        assert after.consumption_to_date_mwh == pytest.approx(80.0 + LOAD)
        for key, value in (
            ("direct_self_consumption_year", 0.6),
            ("direct_supply_share_year", 63.6 / 107.7),
        ):
            assert one.kpis[key]["s1"] == pytest.approx(value)
            assert r2.kpis[key]["s1"] == pytest.approx(value)
    else:
        assert after.self_consumption_allowance_mwh == pytest.approx(0.8)
        assert after.supply_allowance_mwh == pytest.approx(22.0 - 0.4 * LOAD)


# ------------------------------------------------------------------ certifier
def test_tampered_allowances_are_caught():
    """Allowances -1 and -1: self needs U >= 4.6 (binds: t1 3.85, t0 0.75), supply
    U >= 4.08 (0.52 MWh of room). Lowering the self allowance by 1 MWh, or the supply one by
    0.6, in the Dataset breaks that row alone, recomputed from the Dataset.
    """
    year = {"self_consumption_allowance_mwh": -1.0, "supply_allowance_mwh": -1.0}
    cfg, s = case(year, min_self_consumption=0.6, min_supply_share=0.4)
    r = solve_ok(cfg, series=s)
    assert used(r) == pytest.approx([0.75, LOAD])
    for name, check in (
        ("direct_self_consumption_allowance", "res.self_consumption_min"),
        ("direct_supply_allowance", "direct_supply.share_min"),
    ):
        ds = r.ds.copy(deep=True)
        shift = 1.0 if name == "direct_self_consumption_allowance" else 0.6
        ds[name] = ds[name] - shift
        resync(ds)
        found = certify(ds)
        assert names(found) == {check}
        assert found[0].where == "site=s1"


def test_moved_energy_breaks_the_year_row():
    """Move 1 MWh of t1 from PV to grid in the self-consumption year plan (U 1.6 -> 0.6 <
    1.6): the row fires, reporting the year's ratio (62 + 0.6) / 106 = 0.5906 against 0.6.
    """
    year = {"available_to_date_mwh": 100.0, "used_to_date_mwh": 62.0}
    cfg, s = case(year, min_self_consumption=0.6)
    r = solve_ok(cfg, series=s)
    ds = r.ds.copy(deep=True)
    ds["p_renewable"].loc[{"renewable": "pv", "time": ds["time"][1]}] -= 1.0
    ds["p_grid"].loc[{"site": "s1", "time": ds["time"][1]}] += 1.0
    resync(ds)
    found = certify(ds)
    assert names(found) == {"res.self_consumption_min"}
    assert found[0].value == pytest.approx(62.6 / 106.0)


# ------------------------------------------------------------------ (d) bad input
@pytest.mark.parametrize(
    ("policy", "words"),
    [
        ({"basis": "year"}, ["basis 'year' needs 'year'"]),
        ({"year": {"s1": {"supply_allowance_mwh": 1.0}}}, ["basis is 'horizon'"]),
        (
            {"basis": "year", "year": {"s9": {"supply_allowance_mwh": 1.0}}},
            ["policies.direct_supply.year.s9", "unknown site", "add s1"],
        ),
        (
            {"basis": "year", "year": {"s1": {"supply_allowance_mwh": 1.0}}},
            ["policies.direct_supply.year.s1.self_consumption_allowance_mwh", "missing"],
        ),
        (
            {"basis": "year", "year": {"s1": {"self_consumption_allowance_mwh": 1.0}}},
            ["year.s1.supply_allowance_mwh", "missing", "states min_supply_share"],
        ),
        (
            {
                "basis": "year",
                "year": {"s1": {"supply_allowance_mwh": 1.0, "used_to_date_mwh": 3.0}},
            },
            ["not both"],
        ),
        ({"basis": "year", "year": {"s1": {}}}, ["give self_consumption_allowance_mwh"]),
        (
            {"basis": "year", "year": {"s1": {"used_to_date_mwh": -3.0}}},
            ["used_to_date_mwh"],
        ),
        ({"basis": "annual"}, ["basis"]),
    ],
)
def test_bad_year_budgets_are_refused_with_the_fix(policy, words):
    cfg, s = case(min_self_consumption=0.6, min_supply_share=0.4)
    cfg["policies"]["direct_supply"] = policy
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg, s)
    text = str(err.value)
    for w in words:
        assert w in text, text


def test_an_allowance_for_a_ratio_not_stated_would_be_ignored():
    cfg, s = case(min_self_consumption=0.6)
    year = {"self_consumption_allowance_mwh": 1.0, "supply_allowance_mwh": 2.0}
    cfg["policies"]["direct_supply"] = {"basis": "year", "year": {"s1": year}}
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg, s)
    text = str(err.value)
    assert "policies.direct_supply.year.s1.supply_allowance_mwh" in text
    assert "would be ignored" in text and "min_supply_share" in text
