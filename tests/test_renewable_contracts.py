"""Renewable contracts (owned, take-or-pay, pay-as-produced), export, 绿电直连 ratios and charges.

Base site (conftest): 15 units of interactive demand -> 2 blocks, IT = 2 + 1.5 = 3.5 MW,
facility 3.5 * 1.1 = 3.85 MW in every period, fixed (no storage, nothing else to shift), so
consumption is 3.85 MWh per hour. Grid 100 CNY/MWh unless a test sets a ``price`` series.
Every expected value is derived by hand in the docstrings; each optimum is unique (every
choice has a strictly better alternative, noted where it matters).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian
from suandian.results.accounting import books
from suandian.results.certifier import certify, certify_folder

LOAD = 3.85  # MW at the meter (see module docstring)


def loaded(periods: int) -> dict:
    """Base config with 15 units of interactive demand every period."""
    cfg = base_config(periods=periods)
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    return cfg


def pv(**fields) -> dict:
    """A PV asset at s1 (4 MW on the series ``pv_cf`` unless told otherwise)."""
    return {"name": "pv", "site": "s1", "capacity": 4.0, "profile": "pv_cf", **fields}


def with_pv(periods: int, series: dict, tariff=100.0, **fields) -> tuple[dict, pd.DataFrame]:
    cfg = loaded(periods)
    cfg["nodes"][0]["tariff"] = tariff
    cfg["renewables"] = [pv(**fields)]
    return cfg, pd.DataFrame(series)


def resync(ds) -> None:
    """Make the reported objective match the tampered plan (so only the row check fires).

    The per-period cost split (``cost_period``, the model's own figure) is dropped with it.
    """
    ds.attrs["objective"] = books(ds)["cost"]["total"]
    if "cost_period" in ds:
        del ds["cost_period"]


def names(violations) -> set[str]:
    return {v.check for v in violations}


# ------------------------------------------------------------------ contracts
def test_take_or_pay_uses_all_it_can_and_pays_for_what_is_available():
    """take_or_pay at 150 CNY/MWh (dearer than the grid at 100), 4 MW on [0, 0.5, 1].

    available = [0, 2, 4] MW, 6 MWh. The payment 150 * 6 = 900 CNY is owed whatever is used,
    so a used MWh costs nothing at the margin and saves 100 of grid:
    used = min(available, 3.85) = [0, 2, 3.85]; grid = [3.85, 1.85, 0]; curtailed 0.15 MWh.
    renewables = 900, grid_energy = 100 * 5.7 = 570, total 1470 CNY.
    """
    cfg, s = with_pv(3, {"pv_cf": [0.0, 0.5, 1.0]}, contract="take_or_pay", price=150.0)
    r = solve_ok(cfg, series=s)
    assert r.ds["p_renewable"].sel(renewable="pv").values == pytest.approx([0.0, 2.0, LOAD])
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([LOAD, 1.85, 0.0], abs=1e-9)
    assert r.costs["renewables"] == pytest.approx(900.0)
    assert r.costs["grid_energy"] == pytest.approx(570.0)
    assert r.objective == pytest.approx(1470.0)
    assert r.costs["total"] == pytest.approx(1470.0)
    assert r.kpis["energy_mwh"]["renewables_curtailed"] == pytest.approx(0.15)


def test_pay_as_produced_curtails_when_the_grid_is_cheaper():
    """Same PV as pay_as_produced at 150 > grid 100: every MWh used costs 50 more than grid.

    used = 0, curtailed 6 MWh, grid 3 * 3.85 = 11.55 MWh -> 1155 CNY; renewables 0.
    """
    cfg, s = with_pv(3, {"pv_cf": [0.0, 0.5, 1.0]}, contract="pay_as_produced", price=150.0)
    r = solve_ok(cfg, series=s)
    assert r.kpis["energy_mwh"]["renewables_used"] == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["energy_mwh"]["renewables_curtailed"] == pytest.approx(6.0)
    assert r.costs["renewables"] == pytest.approx(0.0, abs=1e-9)
    assert r.objective == pytest.approx(1155.0)


def test_owned_has_no_marginal_cost_and_a_fixed_term():
    """owned, fixed_cost 240 CNY/day, 3 h horizon: renewables_fixed = 240 * 3 / 24 = 30.

    Marginal cost 0 < 100: used = [0, 2, 3.85] as take-or-pay; grid 570; renewables 0;
    total = 570 + 30 = 600 CNY.
    """
    cfg, s = with_pv(3, {"pv_cf": [0.0, 0.5, 1.0]}, contract="owned", fixed_cost=240.0)
    r = solve_ok(cfg, series=s)
    assert r.ds["p_renewable"].sel(renewable="pv").values == pytest.approx([0.0, 2.0, LOAD])
    assert r.costs["renewables_fixed"] == pytest.approx(30.0)
    assert r.costs["renewables"] == pytest.approx(0.0, abs=1e-9)
    assert r.objective == pytest.approx(600.0)


def test_cost_is_a_deprecated_alias_of_price():
    """``cost: 20`` loads as price 20, pay_as_produced (the behaviour before contracts)."""
    cfg, s = with_pv(1, {"pv_cf": [1.0]}, cost=20.0)
    r = scenario(cfg, series=s).config.renewables[0]
    assert (r.price, r.contract) == (20.0, "pay_as_produced")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"cost": 20.0, "price": 20.0}, "deprecated alias"),
        ({"contract": "owned", "price": 50.0}, "fixed_cost"),
        ({"max_export_share": 0.2}, "export_price"),
        ({"min_self_consumption": 0.6}, "direct: true"),
        ({"min_supply_share": 0.3}, "direct: true"),
        ({"contract": "lease"}, "contract"),
    ],
)
def test_contract_fields_refused_with_the_fix(fields, words):
    cfg, s = with_pv(1, {"pv_cf": [1.0]}, **fields)
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg, series=s)
    assert words in str(err.value)


def test_series_fields_checked_at_load():
    """An unknown export-price series and a negative grid charge name their field."""
    cfg, s = with_pv(1, {"pv_cf": [1.0]}, export_price="exp_typo", grid_charge=-5.0)
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg, series=s)
    text = str(err.value)
    assert "renewables[0].export_price" in text and "unknown series" in text
    assert "renewables[0].grid_charge" in text


# ------------------------------------------------------------------ export
def export_case(share=None, net_metering=True):
    """10 MW take_or_pay at 50 CNY/MWh, always available, 2 h; export at [80, 120] CNY/MWh.

    ``net_metering=False``: the PV exports through a connection of its own (gross
    settlement), so the site may buy from the grid while it sells.
    """
    fields = {"capacity": 10.0, "profile": 1.0, "contract": "take_or_pay", "price": 50.0}
    fields |= {"export_price": "exp"}
    if share is not None:
        fields["max_export_share"] = share
    cfg, s = with_pv(2, {"exp": [80.0, 120.0]}, **fields)
    cfg["sites"][0]["net_metering"] = net_metering
    return solve_ok(cfg, series=s)


def test_export_sells_the_surplus_and_arbitrages_a_dear_hour():
    """No export limit, a separate export connection. renewables = 50 * 20 = 1000
    (take-or-pay, a constant).

    t0: export 80 < grid 100, so use 3.85 on site and export the surplus 6.15 MW.
    t1: export 120 > grid 100, so export all 10 MW and buy the 3.85 MW from the grid.
    renewable_export = -(80 * 6.15 + 120 * 10) = -1692; grid_energy = 385;
    total = 1000 - 1692 + 385 = -307 CNY. Nothing curtailed; intake and green exclude exports.
    """
    r = export_case(net_metering=False)
    ds = r.ds
    assert ds["p_export"].sel(renewable="pv").values == pytest.approx([6.15, 10.0])
    assert ds["p_renewable"].sel(renewable="pv").values == pytest.approx([LOAD, 0.0], abs=1e-9)
    assert r.costs["renewable_export"] == pytest.approx(-1692.0)
    assert r.costs["renewables"] == pytest.approx(1000.0)
    assert r.objective == pytest.approx(-307.0)
    energy = r.kpis["energy_mwh"]
    assert energy["renewables_exported"] == pytest.approx(16.15)
    assert energy["renewables_curtailed"] == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["green_mwh"]["s1"] == pytest.approx(LOAD)
    assert r.kpis["consumption_mwh"]["s1"] == pytest.approx(2 * LOAD)


def test_one_connection_sells_only_the_surplus():
    """The same case at one point of connection (the default, net metering): t1 either
    imports (no export) or exports (no import). Exporting 6.15 MW beyond the 3.85 MW used
    earns 120 x 6.15 = 738; selling all 10 MW would need the 3.85 MW from the grid in the same
    hour. t0 as before (6.15 MW at 80 = 492). renewable_export = -(492 + 738) = -1230, no
    grid energy: total = 1000 - 1230 = -230 CNY (77 CNY above the swap of the test above)."""
    r = export_case()
    ds = r.ds
    assert ds["p_export"].sel(renewable="pv").values == pytest.approx([6.15, 6.15])
    assert ds["p_grid"].sel(site="s1").values == pytest.approx([0.0, 0.0], abs=1e-9)
    assert r.objective == pytest.approx(-230.0)


def test_export_share_limits_the_feed_in_to_its_best_hours():
    """max_export_share 0.5: export <= 0.5 * 20 = 10 MWh over the horizon.

    Uses of the quota, by value per MWh: t1 surplus (10 - 3.85 = 6.15) earns 120; t0 surplus
    earns 80; exporting t1's on-site share instead earns 120 - 100 = 20. So export 6.15 in t1
    and the remaining 3.85 in t0, use 3.85 on site in both hours, curtail 6.15 - 3.85 = 2.3
    in t0. renewable_export = -(120 * 6.15 + 80 * 3.85) = -(738 + 308) = -1046;
    total = 1000 - 1046 + 0 = -46 CNY.
    """
    r = export_case(share=0.5)
    ds = r.ds
    assert ds["p_export"].sel(renewable="pv").values == pytest.approx([3.85, 6.15])
    assert ds["p_renewable"].sel(renewable="pv").values == pytest.approx([LOAD, LOAD])
    assert r.costs["renewable_export"] == pytest.approx(-1046.0)
    assert r.objective == pytest.approx(-46.0)
    assert r.kpis["energy_mwh"]["renewables_curtailed"] == pytest.approx(2.3)


def test_pay_as_produced_pays_for_exported_energy_too():
    """pay_as_produced 10 MW at 50, export [80, 40], 2 h: exported energy is paid 50 too.

    Using on site saves 100 - 50 = 50 per MWh: used 3.85 in both hours. Surplus 6.15:
    t0 export earns 80 - 50 = 30 > 0 (exported); t1 40 - 50 < 0 (curtailed).
    renewables = 50 * (3.85 + 6.15 + 3.85) = 692.5; renewable_export = -80 * 6.15 = -492;
    total = 200.5 CNY.
    """
    fields = {"capacity": 10.0, "profile": 1.0, "price": 50.0, "export_price": "exp"}
    cfg, s = with_pv(2, {"exp": [80.0, 40.0]}, **fields)
    r = solve_ok(cfg, series=s)
    assert r.ds["p_export"].sel(renewable="pv").values == pytest.approx([6.15, 0.0], abs=1e-9)
    assert r.costs["renewables"] == pytest.approx(692.5)
    assert r.costs["renewable_export"] == pytest.approx(-492.0)
    assert r.objective == pytest.approx(200.5)


# ------------------------------------------------------------------ 绿电直连 ratios
def direct_case(**ratio):
    """Direct PV, pay_as_produced at 150, 4 MW on [0.5, 1] -> [2, 4] MW; grid [100, 120]."""
    fields = {"contract": "pay_as_produced", "price": 150.0, "direct": True, **ratio}
    cfg, s = with_pv(2, {"pv_cf": [0.5, 1.0], "price": [100.0, 120.0]}, tariff="price", **fields)
    return solve_ok(cfg, series=s)


def test_self_consumption_ratio_forces_the_cheapest_hours():
    """min_self_consumption 0.6: used >= 0.6 * 6 = 3.6 MWh (unconstrained: 0, PV is dearer).

    A MWh of PV costs 150 - 120 = 30 more than grid in t1, 50 in t0: all 3.6 in t1
    (<= min(4, 3.85)). renewables = 150 * 3.6 = 540; grid = 100 * 3.85 + 120 * 0.25 = 415;
    total 955 CNY. One more MWh required costs 30 (t1 has room): shadow_self_consumption 30.
    """
    r = direct_case(min_self_consumption=0.6)
    assert r.ds["p_renewable"].sel(renewable="pv").values == pytest.approx([0.0, 3.6], abs=1e-9)
    assert r.objective == pytest.approx(955.0)
    assert float(r.ds["shadow_self_consumption"].sel(site="s1")) == pytest.approx(30.0)
    assert r.kpis["shadow_prices"]["shadow_self_consumption_s1_cny_per_mwh"] == pytest.approx(30.0)
    assert r.kpis["energy_mwh"]["renewables_direct_used"] == pytest.approx(3.6)


def test_supply_share_ratio_forces_direct_energy():
    """min_supply_share 0.4: direct >= 0.4 * consumption = 0.4 * 7.7 = 3.08 MWh.

    Cheapest in t1 (150 - 120 = 30 more than grid per MWh; t0: 50), where it fits
    (3.08 < min(4, 3.85)). renewables = 150 * 3.08 = 462; grid = 100 * 3.85 + 120 * 0.77
    = 477.4; total 939.4 CNY. One more MWh required costs 30 (t1 still has room), so
    shadow_direct_supply = 30 (a unique dual: the row is the only binding one).
    """
    r = direct_case(min_supply_share=0.4)
    assert r.ds["p_renewable"].sel(renewable="pv").values == pytest.approx([0.0, 3.08], abs=1e-9)
    assert r.objective == pytest.approx(939.4)
    assert float(r.ds["shadow_direct_supply"].sel(site="s1")) == pytest.approx(30.0)
    assert r.kpis["shadow_prices"]["shadow_direct_supply_s1_cny_per_mwh"] == pytest.approx(30.0)


def test_project_ratio_is_the_strictest_member_and_non_direct_assets_do_not_count():
    """Two direct assets at s1 (ratios 0.5 and 0.6 -> the project's is 0.6) and a non-direct
    one; the non-direct asset's output is neither in the project nor in its ratio.
    """
    cfg = loaded(1)
    cfg["renewables"] = [
        pv(name="a", direct=True, min_self_consumption=0.5, profile=1.0),
        pv(name="b", direct=True, min_self_consumption=0.6, profile=1.0),
        pv(name="c", profile=1.0),
    ]
    m = suandian.build_model(scenario(cfg), pyomo=False)
    assert m.built.builders["res"].recorded["direct_self_consumption_min"].data.tolist() == [0.6]


def test_grid_and_connection_charges():
    """owned direct PV with grid_charge 30 CNY/MWh used, connection_charge 7300 CNY/MW/month
    on connection_mw 2 MW over 2 h: renewable_connection = 7300 * 2 * 2 / 730 = 40 CNY.

    PV at 0 + 30 < grid 100: used = min([2, 4], 3.85) = [2, 3.85]; grid = [1.85, 0].
    renewable_grid_charge = 30 * 5.85 = 175.5; grid_energy = 185; total 400.5 CNY.
    """
    fields = {"contract": "owned", "direct": True, "grid_charge": 30.0}
    fields |= {"connection_charge": 7300.0, "connection_mw": 2.0}
    cfg, s = with_pv(2, {"pv_cf": [0.5, 1.0]}, **fields)
    r = solve_ok(cfg, series=s)
    assert r.ds["p_renewable"].sel(renewable="pv").values == pytest.approx([2.0, LOAD])
    assert r.costs["renewable_grid_charge"] == pytest.approx(175.5)
    assert r.costs["renewable_connection"] == pytest.approx(40.0)
    assert r.costs["grid_energy"] == pytest.approx(185.0)
    assert r.objective == pytest.approx(400.5)


# ------------------------------------------------------------------ certifier
def test_export_beyond_the_surplus_is_caught():
    """Raise t0's export from 6.15 to 7 MW (used 3.85 + 7 > 10 available)."""
    r = export_case()
    ds = r.ds.copy(deep=True)
    ds["p_export"].loc[{"renewable": "pv"}] = [7.0, 10.0]
    resync(ds)
    found = certify(ds)
    assert names(found) == {"res.export_cap"}
    assert found[0].where == "renewable=pv time=2026-07-15 00:00"


def test_export_share_and_disallowed_export_are_caught():
    r = export_case(share=0.5)
    ds = r.ds.copy(deep=True)
    ds["p_export"].loc[{"renewable": "pv"}] = [6.15, 6.15]  # 12.3 MWh > 10; still <= surplus
    resync(ds)
    assert names(certify(ds)) == {"res.export_share_max"}
    ds = r.ds.copy(deep=True)
    ds["renewable_export_price"].loc[{"renewable": "pv"}] = float("nan")  # contract: no export
    ds["renewable_export_share_max"].loc[{"renewable": "pv"}] = float("nan")
    resync(ds)
    assert names(certify(ds)) == {"res.export_allowed"}


def test_ratios_broken_are_caught():
    """Move 1 MW of t1 from PV to grid (balance kept): each ratio row fires, and only it."""
    for ratio, check in (
        ({"min_self_consumption": 0.6}, "res.self_consumption_min"),
        ({"min_supply_share": 0.4}, "direct_supply.share_min"),
    ):
        r = direct_case(**ratio)
        ds = r.ds.copy(deep=True)
        ds["p_renewable"].loc[{"renewable": "pv", "time": ds["time"][1]}] -= 1.0
        ds["p_grid"].loc[{"site": "s1", "time": ds["time"][1]}] += 1.0
        resync(ds)
        found = certify(ds)
        assert names(found) == {check}
        assert found[0].where == "site=s1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("renewable_price", 151.0),  # take-or-pay payment recomputed from the Dataset
        ("renewable_connection_charge", 7301.0),
        ("renewable_fixed_cost", 241.0),
    ],
)
def test_tampered_charge_is_caught_by_the_cost_check(name, value):
    """A changed price or charge makes the recomputed bill differ from the objective."""
    fields = {"contract": "take_or_pay", "price": 150.0, "fixed_cost": 240.0}
    fields |= {"connection_charge": 7300.0, "direct": True}
    cfg, s = with_pv(2, {"pv_cf": [0.5, 1.0]}, **fields)
    r = solve_ok(cfg, series=s)
    ds = r.ds.copy(deep=True)
    ds[name].loc[{"renewable": "pv"}] = value
    # a per-period charge is also off its per-period split (the model's own cost_period)
    split = {"cost_period"} if name == "renewable_price" else set()
    assert names(certify(ds)) == {"total_cost"} | split


def test_saved_folder_round_trip_certifies(tmp_path):
    """A plan with export and a direct project saved (netCDF, Parquet, CSV) and read back
    certifies: contract labels, the bool flag and the NaN export prices survive the trip.
    """
    fields = {"contract": "take_or_pay", "price": 150.0, "direct": True}
    fields |= {"min_self_consumption": 0.6, "export_price": 80.0, "max_export_share": 0.2}
    cfg, s = with_pv(2, {"pv_cf": [0.5, 1.0]}, **fields)
    cfg["renewables"].append(pv(name="roof", contract="owned", profile=0.1))  # no export
    r = solve_ok(cfg, series=s)
    out = tmp_path / "out"
    r.save(out)
    assert certify_folder(out) == []
    back = suandian.read_result(out)
    assert certify(back.ds) == []
    assert back.costs["renewables"] == pytest.approx(r.costs["renewables"])
