"""One-off capital grants on chosen capacities (``docs/math/grants.md``).

Every case is the battery of ``test_sizing.test_battery_energy_in_lumps`` without lumps: the
base site's facility load of 3.85 MW in each of two 1-h periods, priced at 100 and 300
CNY/MWh (no export), a lossless 10 MW battery starting empty whose energy ``E`` (MWh) is
chosen in 0 .. 20. A MWh stored in period 1 and used in period 2 saves 200 CNY; at most the
period-2 load, 3.85 MWh, can be moved. Without a battery the energy costs
``3.85 * (100 + 300) = 1,540`` CNY. ``lifetime_years: 1`` with no discount rate: the
capital recovery factor is 1/year, so over the 2-h horizon the recovery is ``2 / 8,760``
and a capex of ``c`` CNY/MWh is charged ``c * 2 / 8,760`` per MWh (219,000 -> 50 CNY).
"""

from __future__ import annotations

import pytest
from conftest import hourly_series, solve_ok, steady_load_config

import suandian

RECOVERY = 2.0 / 8760.0  # share of a capex (and of a grant) counted over the 2-h horizon


def _case(capex: float, **grant) -> tuple[dict, object]:
    c = steady_load_config(2)
    c["nodes"][0]["tariff"] = "price"
    c["storage"] = [
        {
            "name": "b1",
            "site": "s1",
            "power": 10.0,
            "energy": {"max": 20.0, "capex_per_unit": capex, "lifetime_years": 1},
            "eta_charge": 1.0,
            "eta_discharge": 1.0,
            "soc_initial": 0.0,
        }
    ]
    if grant:
        c["grants"] = [{"name": "g", "capacities": ["storage_energy"], **grant}]
    return c, hourly_series(price=[100.0, 300.0])


def test_a_grant_below_its_cap_lowers_the_cost_by_share_times_annuity():
    """Capex 219,000 CNY/MWh (50 CNY/MWh over the horizon < the 200 saved): E = 3.85 MWh
    with or without the grant, cost ``1,540 - 200 * 3.85 + 50 * 3.85 = 962.5`` CNY.

    A grant of share 0.4 with a cap of 1e6 CNY: ``g <= 0.4 * 219,000 * 3.85 = 337,260``
    CNY (below the cap), so g = 337,260 CNY one-off; over the horizon ``337,260 * 2 /
    8,760 = 77.0`` CNY = share x annuity x E = ``0.4 * 50 * 3.85``. Cost 962.5 - 77 = 885.5.
    """
    c, s = _case(219000.0, share=0.4, max_cny=1.0e6)
    result = solve_ok(c, s)
    ds = result.ds
    assert float(ds["storage_energy"].sel(storage="b1")) == pytest.approx(3.85)
    assert float(ds["grant_cny"].sel(grant="g")) == pytest.approx(337260.0)
    assert float(ds["grant_horizon_cny"].sel(grant="g")) == pytest.approx(77.0)
    assert float(ds["grant_recovery"].sel(grant="g")) == pytest.approx(RECOVERY)
    assert result.costs["grants"] == pytest.approx(-77.0)
    assert result.objective == pytest.approx(885.5)
    assert not suandian.certify(ds)


def test_the_cap_binds():
    """As above with ``max_cny: 100,000`` (< 337,260): g = 100,000 CNY, over the horizon
    ``100,000 * 2 / 8,760 = 22.8311`` CNY; E stays 3.85 MWh; cost ``962.5 - 22.8311 =
    939.6689`` CNY."""
    c, s = _case(219000.0, share=0.4, max_cny=1.0e5)
    result = solve_ok(c, s)
    ds = result.ds
    assert float(ds["storage_energy"].sel(storage="b1")) == pytest.approx(3.85)
    assert float(ds["grant_cny"].sel(grant="g")) == pytest.approx(1.0e5)
    assert result.costs["grants"] == pytest.approx(-1.0e5 * RECOVERY)
    assert result.objective == pytest.approx(962.5 - 1.0e5 * RECOVERY)
    assert not suandian.certify(ds)


@pytest.mark.parametrize(
    ("share", "energy", "objective"),
    [(None, 0.0, 1540.0), (0.1, 0.0, 1540.0), (0.3, 3.85, 1443.75)],
)
def test_a_grant_tips_the_build(share, energy, objective):
    """Capex 1,095,000 CNY/MWh: 250 CNY/MWh over the horizon > the 200 saved, so no
    battery (cost 1,540). A grant of share s (no cap) makes a MWh cost ``250 (1 - s)``: it
    pays where ``250 (1 - s) < 200``, s > 0.2 (the break-even). s = 0.1: 225 > 200, nothing
    built, g = 0, cost 1,540. s = 0.3: 175 < 200, E = 3.85 MWh, cost ``1,540 - 3.85 *
    (200 - 175) = 1,443.75``, g = ``0.3 * 1,095,000 * 3.85 = 1,264,725`` CNY."""
    grant = {} if share is None else {"share": share}
    c, s = _case(1095000.0, **grant)
    result = solve_ok(c, s)
    ds = result.ds
    assert float(ds["storage_energy"].sel(storage="b1")) == pytest.approx(energy, abs=1e-6)
    assert result.objective == pytest.approx(objective)
    if share is not None:
        expected = share * 1095000.0 * energy
        assert float(ds["grant_cny"].sel(grant="g")) == pytest.approx(expected, abs=1e-3)


def test_a_capped_grant_pays_for_the_build_up_to_its_cap_only():
    """Capex 1,095,000 CNY/MWh (250 CNY/MWh over the horizon), share 0.3 and a cap of
    ``0.3 * 1,095,000 * 2 = 657,000`` CNY. Up to 2 MWh a MWh costs ``250 * 0.7 = 175 <
    200`` saved: built; beyond 2 MWh the cap binds and a MWh costs 250 > 200: not built.
    E = 2 MWh, g = 657,000 CNY (``* 2 / 8,760 = 150`` CNY over the horizon), cost ``1,540 -
    200 * 2 + 250 * 2 - 150 = 1,490`` CNY."""
    c, s = _case(1095000.0, share=0.3, max_cny=657000.0)
    result = solve_ok(c, s)
    ds = result.ds
    assert float(ds["storage_energy"].sel(storage="b1")) == pytest.approx(2.0)
    assert float(ds["grant_cny"].sel(grant="g")) == pytest.approx(657000.0)
    assert result.costs["grants"] == pytest.approx(-150.0)
    assert result.objective == pytest.approx(1490.0)


def test_the_certifier_catches_a_tampered_grant():
    """The first case's plan with the grant raised to 400,000 CNY (> 337,260, the share of
    the capex built) breaks ``grants.grant_share``; its horizon part no longer equals
    400,000 x 2 / 8,760 (``grants.grant_horizon_cny``); a cap of 300,000 written into the
    Dataset breaks ``grants.grant_max``; a recovery factor changed to 1e-3 no longer equals
    the battery's own 2 / 8,760 (``grants.grant_recovery``)."""
    c, s = _case(219000.0, share=0.4, max_cny=1.0e6)
    ds = solve_ok(c, s).ds.copy(deep=True)
    ds["grant_cny"][:] = 4.0e5
    checks = {v.check for v in suandian.certify(ds)}
    assert {"grants.grant_share", "grants.grant_horizon_cny"} <= checks
    ds = solve_ok(c, s).ds.copy(deep=True)
    ds["grant_max"][:] = 3.0e5
    ds["grant_recovery"][:] = 1.0e-3
    checks = {v.check for v in suandian.certify(ds)}
    assert {"grants.grant_max", "grants.grant_recovery"} <= checks


def test_an_unknown_capacity_is_named_with_the_fix():
    """``pv_capacity`` is not a Dataset name: the loader names ``grants[0].capacities[0]``,
    the value, and the names to use (``renewable_capacity`` among them)."""
    c, _ = _case(219000.0)
    c["grants"] = [{"name": "g", "capacities": ["pv_capacity"], "share": 0.5}]
    with pytest.raises(suandian.ScenarioError) as err:
        suandian.load_scenario(c, series=hourly_series(price=[100.0, 300.0]))
    text = str(err.value)
    assert "grants[0].capacities[0]" in text and "pv_capacity" in text
    assert "renewable_capacity" in text and "storage_energy" in text


def test_a_grant_over_different_lives_is_refused_with_the_fix():
    """Power chosen with a 10-year life, energy with a 1-year one: 1/10 and 1/1 of the capex
    a year, so no single rule spreads one grant over both; the build names the grant and
    the fix (one grant per capacity)."""
    c, s = _case(219000.0)
    c["storage"][0]["power"] = {"max": 10.0, "capex_per_unit": 1.0e5, "lifetime_years": 10}
    c["grants"] = [{"name": "g", "capacities": ["storage_power", "storage_energy"]}]
    with pytest.raises(ValueError, match="'g'.*one grant per capacity"):
        suandian.build_model(suandian.load_scenario(c, series=s))
