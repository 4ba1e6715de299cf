"""The grid side of the bill (policy ``bill``): network charge, demand and capacity charges,
seasonal time-of-use tables and critical peak.

Base (conftest): one node n1 at a flat 100 CNY/MWh, one site s1 with 2 blocks (capacity 10
units, idle 1 MW, 0.1 MW per unit), COP 10, no losses: facility power = 1.1 x IT. Periods of
1 h from 2026-07-15 00:00 unless stated.

* 15 units of interactive demand need both blocks: IT 2 x 1 + 1.5 = 3.5 MW, facility 3.85 MW.
* 5 units fit one block: IT 1 + 0.5 = 1.5 MW, facility 1.65 MW (a second block would only add
  1.1 MW of idle draw).

With the demand profile 5, 5, 15, 5 units the site draws 1.65, 1.65, 3.85, 1.65 MW = 8.8 MWh,
880 CNY of energy. The battery used below is lossless (eta 1 both ways), 1 MW / 2 MWh, starts
at 1 MWh and must end at >= 1 MWh: at a flat price moving energy costs nothing, so the battery
can take up to 1 MW off the 3.85 MW peak (its power limit) and put the 1 MWh back in the
other periods (1.65 + 1/3 MW each, well below the peak).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

from suandian import ScenarioError
from suandian.results.accounting import flows
from suandian.results.certifier import certify, certify_folder

UNITS = pd.DataFrame({"units": [5.0, 5.0, 15.0, 5.0]})
BATTERY = {
    "name": "bat",
    "site": "s1",
    "power": 1.0,
    "energy": 2.0,
    "eta_charge": 1.0,
    "eta_discharge": 1.0,
}


def config(demand=15.0, battery: bool = False, **node) -> dict:
    """The base site with interactive demand (units), optional battery, node fields."""
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": demand, "sites": ["s1"]}]
    if battery:
        cfg["storage"] = [dict(BATTERY)]
    cfg["nodes"][0].update(node)
    return cfg


# ------------------------------------------------------------------ network charge
def test_network_charge_adds_charge_times_metered_energy():
    """3.85 MW x 4 h = 15.4 MWh metered; 50 CNY/MWh on it: 770. Energy 15.4 x 100 = 1540."""
    r = solve_ok(config(network_charge=50.0))
    assert r.costs["network"] == pytest.approx(770.0)
    assert r.costs["grid_energy"] == pytest.approx(1540.0)
    assert r.objective == pytest.approx(2310.0)
    assert r.ds["p_metered"].sel(site="s1").values == pytest.approx([3.85] * 4)
    assert r.kpis["energy_mwh"]["metered"] == pytest.approx(15.4)


def test_network_charge_by_time_of_use():
    """A TOU network charge: 80 CNY/MWh 01:00-02:00, 20 otherwise.

    network = 3.85 x (20 + 80 + 20 + 20) = 3.85 x 140 = 539.
    """
    tou = {"prices": {"peak": 80.0, "flat": 20.0}, "periods": {"peak": ["01:00-02:00"]}}
    r = solve_ok(config(network_charge=tou))
    assert r.ds["network_charge"].sel(node="n1").values == pytest.approx([20, 80, 20, 20])
    assert r.costs["network"] == pytest.approx(539.0)
    assert r.objective == pytest.approx(1540.0 + 539.0)


def test_no_charge_leaves_the_plan_and_the_dataset_unchanged():
    """Default (network_charge 0, no demand_charge): no bill outputs, no bill terms."""
    r = solve_ok(config())
    assert "p_metered" not in r.ds and "d_peak" not in r.ds
    assert "network" not in r.costs and "demand" not in r.costs
    assert r.objective == pytest.approx(1540.0)


def test_contract_delivery_pays_network_and_counts_in_metered_demand():
    """A green contract of 1 MW at 80 CNY/MWh (< 100 grid) at n1, network 50, demand 10.

    The contract is cheaper than the grid on the energy component, and both pay the same
    network charge on the meter: the plan takes the full 1 MW every period, the grid the
    other 2.85 MW. Metered = 2.85 + 1 = 3.85 MW every period (the contract is metered too):
    grid 2.85 x 4 x 100 = 1140, contract 1 x 4 x 80 = 320, network 50 x 15.4 = 770,
    demand: d_peak = 3.85 MW, 10 CNY/kW x 3850 kW = 38,500. Total 40,730.
    """
    cfg = config(network_charge=50.0, demand_charge={"kind": "demand", "rate": 10.0})
    cfg["green_contracts"] = [{"name": "gc", "node": "n1", "capacity": 1.0, "price": 80.0}]
    r = solve_ok(cfg)
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([2.85] * 4)
    assert r.ds["p_metered"].sel(site="s1").values == pytest.approx([3.85] * 4)
    assert r.costs["green_contract"] == pytest.approx(320.0)
    assert r.costs["network"] == pytest.approx(770.0)
    assert float(r.ds["d_peak"].sel(meter="n1").item()) == pytest.approx(3.85)
    assert r.costs["demand"] == pytest.approx(38500.0)
    assert r.objective == pytest.approx(1140.0 + 320.0 + 770.0 + 38500.0)


# ------------------------------------------------------------------ demand charge
def test_demand_charge_makes_the_battery_shave_the_peak():
    """Rate 30 CNY/kW·month, no peak to date, node meter.

    Without the battery d_peak = 3.85 MW: 30 x 3850 = 115,500. With it the peak period draws
    3.85 - 1 = 2.85 MW (discharge at its 1 MW limit; the other periods carry 1.65 + the
    1 MWh recharge spread as needed, below 2.85), at no energy cost (lossless, flat price):
    d_peak = 2.85, demand = 30 x 2850 = 85,500, total 880 + 85,500 = 86,380.
    """
    r0 = solve_ok(config("units", demand_charge={"kind": "demand", "rate": 30.0}), UNITS)
    assert float(r0.ds["d_peak"].item()) == pytest.approx(3.85)
    # the dual of demand_peak: one more MW in the peak period costs 30 x 1000 CNY; over a
    # month the duals sum to the rate x 1000 (stationarity of d_peak, its bound not binding)
    assert r0.ds["demand_peak_price"].sel(meter="n1").values == pytest.approx([0, 0, 30000, 0])
    assert r0.objective == pytest.approx(880.0 + 115500.0)
    r = solve_ok(
        config("units", battery=True, demand_charge={"kind": "demand", "rate": 30.0}), UNITS
    )
    assert float(r.ds["d_peak"].item()) == pytest.approx(2.85)
    assert float(r.ds["p_metered"].max()) == pytest.approx(2.85)
    assert float(r.ds["demand_peak_price"].sum()) == pytest.approx(30000.0)
    assert r.costs["demand"] == pytest.approx(85500.0)
    assert r.objective == pytest.approx(880.0 + 85500.0)
    assert r.ds.sizes["bill_month"] == 1 and str(r.ds["bill_month"].item()) == "2026-07"


@pytest.mark.parametrize(
    ("peak_to_date", "d_peak", "demand"),
    [
        (4.0, 4.0, 0.0),  # above the unshaved 3.85: nothing to pay, nothing to shave
        (3.35, 3.35, 0.0),  # between 2.85 and 3.85: shaving to <= 3.35 pays nothing more
        (2.0, 2.85, 30.0 * 850.0),  # below: pays for raising it from 2.0 to 2.85
    ],
)
def test_peak_to_date_is_carried_in(peak_to_date, d_peak, demand):
    """d_peak = max(peak_to_date, the plan's peak); only the rise is paid: 30 x 1000 x rise."""
    r = solve_ok(
        config(
            "units",
            battery=True,
            demand_charge={"kind": "demand", "rate": 30.0, "peak_to_date_mw": peak_to_date},
        ),
        UNITS,
    )
    assert float(r.ds["d_peak"].item()) == pytest.approx(d_peak)
    assert r.costs["demand"] == pytest.approx(demand, abs=1e-6)
    assert r.objective == pytest.approx(880.0 + demand)


def test_billing_months_split_the_horizon_and_only_the_first_has_a_peak_to_date():
    """4 h from 2026-07-31 22:00: two periods in July, two in August; flat 3.85 MW.

    July: d_peak = max(5, 3.85) = 5 (peak to date), pays 0. August: d_peak = 3.85, pays
    20 x 3850 = 77,000 (a new month starts from zero). Energy 1540.
    """
    cfg = config(demand_charge={"kind": "demand", "rate": 20.0, "peak_to_date_mw": 5.0})
    cfg["horizon"]["start"] = "2026-07-31 22:00"
    r = solve_ok(cfg)
    assert list(r.ds["bill_month"].values) == ["2026-07", "2026-08"]
    assert r.ds["d_peak"].sel(meter="n1").values == pytest.approx([5.0, 3.85])
    assert r.costs["demand"] == pytest.approx(77000.0)
    assert r.objective == pytest.approx(1540.0 + 77000.0)


def test_site_meters_are_billed_separately():
    """Two sites at n1, site meters: s1 draws 3.85 MW flat, s2 (demand 5 units) 1.65 MW.

    Rate 10; peak to date s1 4.0 (above its draw: pays 0), s2 not given (0): pays
    10 x 1650 = 16,500. A node meter would pay 10 x (3.85 + 1.65) x 1000 = 55,000.
    """
    cfg = config()
    s2 = dict(cfg["sites"][0], name="s2")
    cfg["sites"].append(s2)
    cfg["interactive"].append({"name": "api", "demand": 5.0, "sites": ["s2"]})
    cfg["nodes"][0]["demand_charge"] = {
        "kind": "demand",
        "rate": 10.0,
        "meter": "site",
        "peak_to_date_mw": {"s1": 4.0},
    }
    r = solve_ok(cfg)
    assert r.ds["d_peak"].sel(meter="s1").item() == pytest.approx(4.0)
    assert r.ds["d_peak"].sel(meter="s2").item() == pytest.approx(1.65)
    assert r.costs["demand"] == pytest.approx(16500.0)
    cfg["nodes"][0]["demand_charge"] = {"kind": "demand", "rate": 10.0}
    r = solve_ok(cfg)
    assert r.ds["d_peak"].sel(meter="n1").item() == pytest.approx(5.5)
    assert r.costs["demand"] == pytest.approx(55000.0)


# ------------------------------------------------------------------ capacity charge
def test_capacity_charge_pro_rata_and_capped_draw():
    """20 CNY/kVA·month x 4000 kVA = 80,000 per month; 4 h of July's 744: x 4/744 = 430.11.

    With power_factor 0.75 the metered draw is capped at 4000 x 0.75 / 1000 = 3.0 MW: the
    battery must take at least 0.85 MW off the 3.85 MW period (possible: 1 MW limit).
    """
    charge = {"kind": "capacity", "rate": 20.0, "capacity_kva": 4000.0}
    r = solve_ok(config("units", battery=True, demand_charge=charge), UNITS)
    assert r.costs["capacity"] == pytest.approx(80000.0 * 4 / 744)
    assert r.objective == pytest.approx(880.0 + 80000.0 * 4 / 744)
    assert "d_peak" not in r.ds
    # the first 2 periods' committed part: 80,000 x 2/744
    from suandian.policies.bill import _commit_costs

    assert _commit_costs(r.ds, 2, flows(r.ds)) == {"capacity": pytest.approx(80000.0 * 2 / 744)}
    r = solve_ok(
        config("units", battery=True, demand_charge=dict(charge, power_factor=0.75)), UNITS
    )
    assert float(r.ds["p_metered"].max()) <= 3.0 + 1e-7
    assert r.objective == pytest.approx(880.0 + 80000.0 * 4 / 744)


# ------------------------------------------------------------------ seasons, critical peak
#: 4 h from 2026-07-31 22:00: 22:00, 23:00 (July, base table), 00:00, 01:00 (August season)
AUG_EDGE = {"start": "2026-07-31 22:00", "periods": 4, "resolution": "1h"}


def critical_tou(**blocks) -> dict:
    """Base table peak 200 / flat 100 / valley 50 (peak 18-22, valley 00-07); an August season
    peak 300 / flat 120 / valley 60 (peak 08-12, valley 00-06); critical-peak blocks given."""
    return {
        "prices": {"peak": 200.0, "flat": 100.0, "valley": 50.0},
        "periods": {"peak": ["18:00-22:00"], "valley": ["00:00-07:00"]},
        "seasons": [
            {
                "months": [8],
                "prices": {"peak": 300.0, "flat": 120.0, "valley": 60.0},
                "periods": {"peak": ["08:00-12:00"], "valley": ["00:00-06:00"]},
            }
        ],
        "critical_peak": list(blocks.values()),
    }


JULY_23 = {"dates": ["07-31"], "periods": ["23:00-24:00"], "multiplier": 1.2}
AUGUST_01 = {"months": [8], "periods": ["01:00-02:00"], "multiplier": 1.2}


def test_critical_peak_is_priced_on_the_peak_of_the_table_in_force():
    """Critical hours in a flat and a valley band pay 1.2 x PEAK (1093号), per season.

    Ordinary bands: 22:00 July flat 100; 23:00 July flat; 00:00 and 01:00 August valley 60.
    Critical 07-31 23:00 (a flat hour): 1.2 x July's (base table) peak 200 = 240, not
    1.2 x flat = 120. Critical August 01:00 (a valley hour): 1.2 x the August season's peak
    300 = 360, not 1.2 x valley = 72 nor 1.2 x the base peak = 240. Prices 100, 240, 60, 360.

    Flat draw 3.85 MW: energy 3.85 x (100 + 240 + 60 + 360) = 3.85 x 760 = 2,926.
    With the lossless 1 MW / 2 MWh battery (starts at 1 MWh, ends >= 1 MWh): charges must
    equal discharges; each period moves at most 1 MWh and the store holds 0..2 MWh. Best:
    charge 1 at 22:00 (100, store 2), discharge 1 at 23:00 (240, store 1), charge 1 at 00:00
    (60, store 2), discharge 1 at 01:00 (360, store 1): saves -100 + 240 - 60 + 360 = 440, the
    most possible (the two dearest periods discharged at the limit, refilled in the two
    cheapest): 2,926 - 440 = 2,486. (The old rule, multiplier x the hour's band, gave prices
    100, 120, 60, 72: the flat draw would have cost 3.85 x 352 = 1,355.2.)
    """
    cfg = config(tariff=critical_tou(a=JULY_23, b=AUGUST_01))
    cfg["horizon"] = dict(AUG_EDGE)
    sc = scenario(cfg)
    tariff = sc.config.nodes[0].tariff
    assert sc.tou_prices(tariff) == pytest.approx([100.0, 240.0, 60.0, 360.0])
    assert list(sc.tou_bands(tariff)) == ["flat", "critical_peak", "valley", "critical_peak"]
    r = solve_ok(cfg)
    assert r.ds["tariff"].sel(node="n1").values == pytest.approx([100.0, 240.0, 60.0, 360.0])
    assert r.costs["grid_energy"] == pytest.approx(2926.0)
    assert r.objective == pytest.approx(2926.0)
    cfg["storage"] = [dict(BATTERY)]
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(2486.0)
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([4.85, 2.85, 4.85, 2.85])


def test_critical_peak_price_form_and_reference_band():
    """The absolute price form and a reference band other than peak (Xinjiang: flat x 2.0).

    Price form: August 01:00 at 999 CNY/MWh whatever the table: prices 100, 240, 60, 999;
    flat 3.85 MW: 3.85 x 1,399 = 5,386.15. Reference band flat, multiplier 2.0 on July 23:00:
    2 x July's flat 100 = 200 (not 2 x peak 400); on August 01:00: 2 x August's flat 120 = 240.
    Prices 100, 200, 60, 240: 3.85 x 600 = 2,310.
    """
    cfg = config(tariff=critical_tou(a=JULY_23, b=dict(AUGUST_01, multiplier=None, price=999.0)))
    cfg["horizon"] = dict(AUG_EDGE)
    r = solve_ok(cfg)
    assert r.ds["tariff"].sel(node="n1").values == pytest.approx([100.0, 240.0, 60.0, 999.0])
    assert r.costs["grid_energy"] == pytest.approx(5386.15)
    flat = {"reference_band": "flat", "multiplier": 2.0}
    cfg["nodes"][0]["tariff"] = critical_tou(a=JULY_23 | flat, b=AUGUST_01 | flat)
    r = solve_ok(cfg)
    assert r.ds["tariff"].sel(node="n1").values == pytest.approx([100.0, 200.0, 60.0, 240.0])
    assert r.costs["grid_energy"] == pytest.approx(2310.0)


def test_critical_peak_without_a_peak_price_is_an_error_naming_the_table():
    """A multiplier needs the reference band priced in every table in force on its days."""
    tou = critical_tou(b=AUGUST_01)
    del tou["seasons"][0]["prices"]["peak"]
    tou["seasons"][0]["periods"].pop("peak")
    with pytest.raises(
        ScenarioError,
        match=r"critical_peak.reference_band: 'peak' has no price in the season of months "
        r"\[8\], in force in month 8.*give price",
    ):
        scenario(config(tariff=tou))
    # July's table (the base) prices peak: a July-only block is fine, and so is a price
    scenario(config(tariff=critical_tou(a=JULY_23) | {"seasons": tou["seasons"]}))
    scenario(config(tariff=tou | {"critical_peak": dict(AUGUST_01, multiplier=None, price=9)}))
    # a single mapping is one block; two blocks sharing a day and a clock time are an error
    one = scenario(config(tariff=critical_tou() | {"critical_peak": JULY_23}))
    assert len(one.config.nodes[0].tariff.critical_peak) == 1
    clash = dict(JULY_23, dates=None, months=[7], periods=["22:30-23:30"])
    with pytest.raises(ScenarioError, match=r"critical_peak\[0\].*critical_peak\[1\].*overlap"):
        scenario(config(tariff=critical_tou(a=JULY_23, b=clash)))


def test_a_month_in_two_seasons_is_an_error_naming_both():
    tou = {
        "prices": {"flat": 100.0},
        "seasons": [
            {"months": [7, 8], "prices": {"flat": 120.0}},
            {"months": [8, 9], "prices": {"flat": 90.0}},
        ],
    }
    with pytest.raises(ScenarioError, match=r"month 8 is in seasons\[0\].*seasons\[1\]"):
        scenario(config(tariff=tou))


def test_critical_peak_needs_one_of_multiplier_or_price():
    tou = {
        "prices": {"flat": 100.0},
        "critical_peak": {"months": [7], "periods": ["11:00-12:00"], "multiplier": 1.2, "price": 9},
    }
    with pytest.raises(ScenarioError, match="exactly one of multiplier"):
        scenario(config(tariff=tou))


def test_bad_demand_charge_inputs_are_named():
    with pytest.raises(ScenarioError, match="needs capacity_kva"):
        scenario(config(demand_charge={"kind": "capacity", "rate": 20.0}))
    with pytest.raises(ScenarioError, match="needs meter: site"):
        scenario(
            config(demand_charge={"kind": "demand", "rate": 1.0, "peak_to_date_mw": {"s1": 1}})
        )
    with pytest.raises(ScenarioError, match=r"nodes\[0\].network_charge.*unknown series"):
        scenario(config(network_charge="nope"))
    bad = {"kind": "demand", "rate": 1.0, "meter": "site", "peak_to_date_mw": {"nope": 1.0}}
    with pytest.raises(ScenarioError, match="not a site of node 'n1'"):
        scenario(config(demand_charge=bad))


# ------------------------------------------------------------------ certifier
def test_tampered_charges_are_caught(tmp_path):
    """Network charge, d_peak and the metered draw changed in the Dataset are each caught."""
    r = solve_ok(
        config(
            "units",
            battery=True,
            network_charge=50.0,
            demand_charge={"kind": "demand", "rate": 30.0},
        ),
        UNITS,
    )
    assert certify(r.ds) == []
    ds = r.ds.copy(deep=True)
    ds["network_charge"][:] = 40.0
    assert any(v.check == "total_cost" for v in certify(ds))
    ds = r.ds.copy(deep=True)
    ds["d_peak"][:] = 2.5  # below the plan's 2.85 MW peak
    checks = {v.check for v in certify(ds)}
    assert "bill.demand_peak" in checks and "total_cost" in checks
    ds = r.ds.copy(deep=True)
    ds["p_metered"][:] = 0.0
    assert "bill.p_metered_def" in {v.check for v in certify(ds)}
    # a saved folder certifies (strings and flags survive netCDF), and the summary prints
    # the new terms
    r.save(tmp_path / "out")
    assert certify_folder(tmp_path / "out") == []
    text = r.summary()
    assert "network" in text and "demand" in text


# ------------------------------------------------------------------ the bill as billed
# The cases below use the flat 3.85 MW draw (demand 15 units) or the UNITS profile 1.65,
# 1.65, 3.85, 1.65 MW (with the battery: the peak shaved to 2.85 MW). A horizon from
# 2026-07-01 00:00 starts its billing month: nothing of the month was owed before it, the
# whole month's charge is its cost. From 2026-07-15 (the conftest start) the month is under
# way: the bill owed for the peak so far (billed_to_date) is not the plan's cost.
MONTH_START = {"start": "2026-07-01 00:00", "periods": 4, "resolution": "1h"}


def at_month_start(cfg: dict) -> dict:
    cfg["horizon"] = dict(MONTH_START)
    return cfg


def test_per_month_rates():
    """4 h from 2026-07-31 22:00 at 3.85 MW; rate {7: 20, 8: 30, default: 10}.

    July: 20 x 3850 = 77,000; August: 30 x 3850 = 115,500; demand 192,500 (July is under
    way with no peak so far: 0 owed before). Energy 1540. A mapping without 'default' must
    name all 12 months.
    """
    charge = {"kind": "demand", "rate": {7: 20.0, 8: 30.0, "default": 10.0}}
    cfg = config(demand_charge=charge)
    cfg["horizon"]["start"] = "2026-07-31 22:00"
    r = solve_ok(cfg)
    assert r.ds["meter_rate"].sel(meter="n1").values == pytest.approx([20.0, 30.0])
    assert r.costs["demand"] == pytest.approx(192500.0)
    assert r.objective == pytest.approx(1540.0 + 192500.0)
    with pytest.raises(ScenarioError, match=r"months \[1, 2, 3, 4, 5, 6, 9, 10, 11, 12\]"):
        scenario(config(demand_charge={"kind": "demand", "rate": {7: 20.0, 8: 30.0}}))
    with pytest.raises(ScenarioError, match="months are 1-12"):
        scenario(config(demand_charge={"kind": "demand", "rate": {13: 1.0, "default": 1.0}}))


def test_floor_share_of_the_transformer_capacity():
    """floor_share 0.4 of 20,000 kVA: billed demand >= 8 MW; rate 10 CNY/kW·month.

    From the month start: the peak 3.85 is below the floor, the month bills 10 x 8000 =
    80,000 CNY, whatever the dispatch. Mid-month (2026-07-15, nothing carried) the floor was
    owed already (billed_to_date 80,000): the plan's demand cost is 0.

    With 5,000 kVA the floor is 2 MW: mid-month the plan pays only the rise above it; with
    the battery the peak is 2.85: 10 x (2850 - 2000) = 8,500, objective 880 + 8,500.
    The KPI demand_month_prorated is the month's bill x 4/744 (4 h of July's 744).
    """
    charge = {"kind": "demand", "rate": 10.0, "floor_share": 0.4, "capacity_kva": 20000.0}
    r = solve_ok(at_month_start(config(demand_charge=charge)))
    assert r.ds["d_billed"].sel(meter="n1").values == pytest.approx([8.0])
    assert r.costs["demand"] == pytest.approx(80000.0)
    assert r.kpis["demand_month_prorated"] == pytest.approx(80000.0 * 4 / 744)
    r = solve_ok(config(demand_charge=charge))
    assert r.costs["demand"] == pytest.approx(0.0, abs=1e-6)
    assert r.ds["billed_to_date"].sel(meter="n1").values == pytest.approx([80000.0])
    assert r.kpis["demand_month_bill"] == {"2026-07": pytest.approx(80000.0)}
    small = dict(charge, capacity_kva=5000.0)
    r = solve_ok(config("units", battery=True, demand_charge=small), UNITS)
    assert r.costs["demand"] == pytest.approx(8500.0)
    assert r.objective == pytest.approx(880.0 + 8500.0)
    assert r.kpis["demand_month_prorated"] == pytest.approx(28500.0 * 4 / 744)
    with pytest.raises(ScenarioError, match="floor_share needs capacity_kva"):
        scenario(config(demand_charge={"kind": "demand", "rate": 1.0, "floor_share": 0.4}))


def test_declared_demand_and_the_excess_above_105_percent():
    """declared_mw 3.0, rate 10, from the month start (the whole month is the cost).

    Flat 3.85 MW: 10 x 3000 (the declared value) + 2 x 10 x (3850 - 1.05 x 3000 = 700)
    = 30,000 + 14,000 = 44,000. With the battery the peak can be 2.85 <= 3.15: only the
    declared 30,000, objective 880 + 30,000. Declared per month {7: 4.0, default: 3.0}:
    July's 4.0 covers 3.85 (4.2 with the margin): 40,000.
    """
    charge = {"kind": "demand", "rate": 10.0, "declared_mw": 3.0}
    r = solve_ok(at_month_start(config(demand_charge=charge)))
    assert r.ds["d_excess"].sel(meter="n1").values == pytest.approx([0.7])
    assert r.costs["demand"] == pytest.approx(44000.0)
    assert r.objective == pytest.approx(1540.0 + 44000.0)
    r = solve_ok(at_month_start(config("units", battery=True, demand_charge=charge)), UNITS)
    assert r.costs["demand"] == pytest.approx(30000.0)
    assert r.objective == pytest.approx(880.0 + 30000.0)
    assert float(r.ds["d_peak"].item()) <= 3.15 + 1e-7
    per_month = dict(charge, declared_mw={7: 4.0, "default": 3.0})
    r = solve_ok(at_month_start(config(demand_charge=per_month)))
    assert r.costs["demand"] == pytest.approx(40000.0)


def test_ratchet_on_named_months_from_the_history():
    """Rate 10, from the month start; ratchet 0.75 over June-September, history June 8 MW.

    July's billed demand >= 0.75 x 8 = 6 MW > the 3.85 peak: 60,000. With
    previous_months 1 and share 0.5, the history May 20 MW is not looked at, June's gives
    4 MW: 40,000. A June peak outside [6, 7, 8, 9] (months [1]) gives nothing: 38,500.
    """
    charge = {
        "kind": "demand",
        "rate": 10.0,
        "ratchet": {"share": 0.75, "months": [6, 7, 8, 9]},
        "peak_history_mw": {"2026-06": 8.0, "2026-05": 20.0},
    }
    r = solve_ok(at_month_start(config(demand_charge=charge)))
    assert r.costs["demand"] == pytest.approx(60000.0)
    rolling = dict(charge, ratchet={"share": 0.5, "previous_months": 1})
    r = solve_ok(at_month_start(config(demand_charge=rolling)))
    assert r.costs["demand"] == pytest.approx(40000.0)
    other = dict(charge, ratchet={"share": 0.75, "months": [1]})
    r = solve_ok(at_month_start(config(demand_charge=other)))
    assert r.costs["demand"] == pytest.approx(38500.0)


RATCHET_UNITS = pd.DataFrame({"units": [15.0, 15.0, 5.0, 5.0]})


def test_ratchet_within_the_horizon():
    """4 h from 2026-07-31 22:00: July draws 3.85, 3.85, August 1.65, 1.65 MW; rate 10;
    ratchet 0.75 over the previous month.

    July (under way, nothing carried): 10 x 3850 = 38,500. August: billed >= 0.75 x 3.85 =
    2.8875 MW > 1.65: 28,875. Demand 67,375; energy 100 x (2 x 3.85 + 2 x 1.65) = 1,100.
    """
    charge = {"kind": "demand", "rate": 10.0, "ratchet": {"share": 0.75, "previous_months": 1}}
    cfg = config("units", demand_charge=charge)
    cfg["horizon"]["start"] = "2026-07-31 22:00"
    r = solve_ok(cfg, RATCHET_UNITS)
    assert r.ds["d_billed"].sel(meter="n1").values == pytest.approx([3.85, 2.8875])
    assert r.costs["demand"] == pytest.approx(67375.0)
    assert r.objective == pytest.approx(1100.0 + 67375.0)


def test_monthly_choice_of_demand_or_capacity_billing():
    """capacity_kva 5000, demand rate 10, from the month start.

    * capacity_rate 5: capacity 25,000 < demand 10 x 3850 = 38,500: billed on capacity
      (u_capacity 1), 25,000.
    * capacity_rate 10: 50,000 > 38,500: on demand, 38,500.
    * capacity_rate 6 (30,000) with the battery: demand at the shaved 2.85 MW is 28,500 <
      30,000: on demand, 880 + 28,500; without the battery (38,500) on capacity, 30,000.
    """
    charge = {"kind": "choose", "rate": 10.0, "capacity_kva": 5000.0, "capacity_rate": 5.0}
    r = solve_ok(at_month_start(config(demand_charge=charge)))
    assert r.ds["u_capacity"].sel(meter="n1").values == pytest.approx([1.0])
    assert r.costs["demand"] == pytest.approx(25000.0)
    assert r.kpis["demand_month_prorated"] == pytest.approx(25000.0 * 4 / 744)
    r = solve_ok(at_month_start(config(demand_charge=dict(charge, capacity_rate=10.0))))
    assert r.ds["u_capacity"].sel(meter="n1").values == pytest.approx([0.0])
    assert r.costs["demand"] == pytest.approx(38500.0)
    six = dict(charge, capacity_rate=6.0)
    r = solve_ok(at_month_start(config("units", battery=True, demand_charge=six)), UNITS)
    assert r.costs["demand"] == pytest.approx(28500.0)
    assert r.objective == pytest.approx(880.0 + 28500.0)
    r = solve_ok(at_month_start(config("units", demand_charge=six)), UNITS)
    assert r.costs["demand"] == pytest.approx(30000.0)
    with pytest.raises(ScenarioError, match="needs capacity_rate"):
        scenario(config(demand_charge={"kind": "choose", "rate": 1.0, "capacity_kva": 1.0}))


def test_tampered_billed_demand_and_choice_are_caught():
    """The choice case (capacity 25,000 chosen) and the declared case: a billed demand below
    its floor, a capacity month claimed as demand billing and an excess left out are flagged.
    """
    charge = {
        "kind": "choose",
        "rate": 10.0,
        "capacity_kva": 5000.0,
        "capacity_rate": 5.0,
        "floor_share": 0.4,
        "declared_mw": 3.0,
    }
    r = solve_ok(at_month_start(config(demand_charge=charge)))
    assert certify(r.ds) == []
    ds = r.ds.copy(deep=True)
    ds["d_billed"][:] = 1.0  # below the 3 MW declared value
    assert "bill.d_billed.bounds" in {v.check for v in certify(ds)}
    ds = r.ds.copy(deep=True)
    ds["u_capacity"][:] = 0.0  # demand billing claimed at the capacity price
    assert "bill.basic_by_demand" in {v.check for v in certify(ds)}
    ds = r.ds.copy(deep=True)
    ds["d_excess"][:] = 0.0
    assert "bill.demand_excess" in {v.check for v in certify(ds)}
    ds = r.ds.copy(deep=True)
    ds["c_basic"][:] = 0.0
    checks = {v.check for v in certify(ds)}
    assert "bill.basic_by_capacity" in checks and "total_cost" in checks


# ------------------------------------------------------------------ windows telescope
def _two_windows(cfg: dict, series) -> tuple:
    """One window of 4 periods; windows (0, 2) and (2, 2) with the state handed over."""
    from suandian.policies.bill import _commit_costs

    full = scenario(cfg, series)
    one = solve_ok_sc(full)
    first = solve_ok_sc(full.window(0, 2))
    second = solve_ok_sc(full.window(2, 2, state=first.final_state()))
    committed = _commit_costs(one.ds, 2, flows(one.ds))["demand"]
    return one, first, second, committed


def solve_ok_sc(sc):
    import suandian

    r = suandian.solve(sc, mip_rel_gap=0.0)
    assert r.status == "optimal", r.summary()
    assert r.certify() == []
    return r


@pytest.mark.parametrize(
    ("charge", "start", "units", "first", "total"),
    [
        # declared 3 MW (floor 2 MW below it): window 1 peaks at 1.65 -> the declared 30,000;
        # window 2 reaches 3.85: 44,000 (see the declared test) less the 30,000 owed
        (
            {"declared_mw": 3.0, "floor_share": 0.4, "capacity_kva": 5000.0},
            "2026-07-01 00:00",
            [5.0, 5.0, 15.0, 5.0],
            30000.0,
            44000.0,
        ),
        # floor 2 MW: window 1 bills 20,000 (1.65 < 2); window 2 38,500 - 20,000
        (
            {"floor_share": 0.4, "capacity_kva": 5000.0},
            "2026-07-01 00:00",
            [5.0, 5.0, 15.0, 5.0],
            20000.0,
            38500.0,
        ),
        # choice, capacity 35,000: window 1 on demand 16,500; the month on capacity 35,000
        (
            {"kind": "choose", "capacity_kva": 5000.0, "capacity_rate": 7.0},
            "2026-07-01 00:00",
            [5.0, 5.0, 15.0, 5.0],
            16500.0,
            35000.0,
        ),
        # ratchet across the month end: July 38,500 in window 1; August in window 2 reads
        # July's 3.85 MW from the handed-over history: 28,875 (see the ratchet test)
        (
            {"ratchet": {"share": 0.75, "previous_months": 1}},
            "2026-07-31 22:00",
            [15.0, 15.0, 5.0, 5.0],
            38500.0,
            67375.0,
        ),
    ],
)
def test_windows_sum_to_the_month_bill(charge, start, units, first, total):
    """Rate 10; no storage, so the dispatch is the same in one window and in two. The demand
    cost of window 1 (its peak, from what was owed before: nothing at a month start) plus
    that of window 2 (from the state: the peak to date and the history) equals the one
    window's demand cost, and so does window 1's committed part of the one-window plan
    (``_commit_costs(ds, 2)``) plus window 2's."""
    cfg = config("units", demand_charge={"kind": "demand", "rate": 10.0} | charge)
    cfg["horizon"]["start"] = start
    one, w1, w2, committed = _two_windows(cfg, pd.DataFrame({"units": units}))
    assert one.costs["demand"] == pytest.approx(total)
    assert w1.costs["demand"] == pytest.approx(first)
    assert w2.costs["demand"] == pytest.approx(total - first)
    assert committed == pytest.approx(first)
    assert one.objective == pytest.approx(w1.objective + w2.objective)
    from suandian.policies.bill import _commit_costs

    assert _commit_costs(one.ds, 4, flows(one.ds))["demand"] == pytest.approx(total)
    from suandian.policies.bill import COMPONENT

    assert COMPONENT.commit_costs is _commit_costs
    assert _commit_costs(w2.ds, 2, flows(w2.ds))["demand"] == pytest.approx(total - first)
