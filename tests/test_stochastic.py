"""Two-stage stochastic day-ahead plans (``docs/math/stochastic.md``).

Scenarios of tomorrow (user-given, generated, reduced), the spot settlement of a day-ahead
position, the two-stage plan, and the numbers an operator checks it by (VSS, EVPI, out of
sample). Every case is the base site of ``conftest.base_config``: 2 blocks of 10 units, IT
``idle 1 + 0.1 x units`` per block on, facility ``1.1 x IT``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario

import suandian
from suandian.run import stochastic
from suandian.scenario.uncertainty import ar1_errors, fast_forward, scenario_set

INDEX1 = pd.date_range("2026-07-15 00:00", periods=1, freq="1h")
SHIFT = 2 * (1 / 0.81 - 1) * 100  # CNY per MW the battery delivers over a 2-h event: 46.9136


def _frame(index=INDEX1, **columns) -> pd.DataFrame:
    return pd.DataFrame(columns, index=index)


def _write(path, **columns) -> str:
    n = len(next(iter(columns.values())))
    frame = _frame(pd.date_range("2026-07-15 00:00", periods=n, freq="1h"), **columns)
    frame.index.name = "time"
    frame.to_csv(path)
    return path.name


def _given_config(periods: int = 1) -> dict:
    c = base_config(periods)
    c["interactive"] = [{"name": "w", "demand": "dem", "sites": ["s1"]}]
    return c


# ------------------------------------------------------------------ scenarios of tomorrow
def test_given_scenarios_replace_the_base_series_by_name(tmp_path):
    """Two scenarios, 0.3 and 0.7, each a file with its own demand column over the same
    1-period horizon: the members carry those demands and probabilities, the other series
    (``rt``) stay the base's; the mean forecast is ``0.3 * 5 + 0.7 * 15 = 12``."""
    c = _given_config()
    c["uncertainty"] = {
        "scenarios": [
            {"name": "low", "probability": 0.3, "series": [_write(tmp_path / "lo.csv", dem=[5])]},
            {"name": "high", "probability": 0.7, "series": [_write(tmp_path / "hi.csv", dem=[15])]},
        ]
    }
    sc = suandian.load_scenario(c, series=_frame(dem=[10.0], rt=[50.0]), base_dir=tmp_path)
    ss = scenario_set(sc)
    assert ss.names == ["low", "high"]
    assert list(ss.probabilities) == [0.3, 0.7]
    assert [float(m.series["dem"].iloc[0]) for m in ss.members] == [5.0, 15.0]
    assert [float(m.series["rt"].iloc[0]) for m in ss.members] == [50.0, 50.0]
    assert float(ss.mean().series["dem"].iloc[0]) == pytest.approx(12.0)


def test_given_scenarios_are_validated_with_clear_errors(tmp_path):
    """Probabilities that do not sum to 1, a column the base does not have, a file that
    misses a period of the horizon: each an error naming the field and the fix."""
    c = _given_config(2)
    c["uncertainty"] = {
        "scenarios": [
            {"name": "a", "probability": 0.5},
            {"name": "b", "probability": 0.4},
        ]
    }
    series = _frame(pd.date_range("2026-07-15", periods=2, freq="1h"), dem=[10.0, 10.0])
    with pytest.raises(suandian.ScenarioError, match="sum to 0.9, not 1"):
        suandian.load_scenario(c, series=series, base_dir=tmp_path)
    c["uncertainty"]["scenarios"][1]["probability"] = 0.5
    c["uncertainty"]["scenarios"][0]["series"] = [_write(tmp_path / "x.csv", typo=[1.0, 2.0])]
    c["uncertainty"]["scenarios"][1]["series"] = [_write(tmp_path / "y.csv", dem=[1.0])]
    sc = suandian.load_scenario(c, series=series, base_dir=tmp_path)
    with pytest.raises(suandian.ScenarioError) as err:
        scenario_set(sc)
    text = str(err.value)
    assert "uncertainty.scenarios[0].series[0]:typo" in text
    assert "not a series of the base scenario" in text
    assert "uncertainty.scenarios[1].series[0]" in text


def test_no_uncertainty_section_is_a_clear_error():
    sc = scenario(_given_config(), _frame(dem=[10.0]))
    with pytest.raises(suandian.ScenarioError, match="a two-stage plan needs scenarios"):
        scenario_set(sc)


def test_ar1_errors_have_the_stated_spread_and_autocorrelation():
    """20,000 seeded paths of 3 periods, sigma 0.2, rho 0.8 per hour on 30-min periods:
    each ``e_t`` has standard deviation 0.2 and ``corr(e_0, e_1) = 0.8 ** 0.5 = 0.894``,
    ``corr(e_0, e_2) = 0.8`` (stationary AR(1)); sampling error about ``1 / sqrt(20000)``."""
    e = ar1_errors(np.random.default_rng(3), 20000, 3, 0.2, 0.8, dt=0.5)
    assert e.std(axis=0) == pytest.approx([0.2, 0.2, 0.2], abs=0.005)
    assert np.corrcoef(e[:, 0], e[:, 1])[0, 1] == pytest.approx(0.8**0.5, abs=0.01)
    assert np.corrcoef(e[:, 0], e[:, 2])[0, 1] == pytest.approx(0.8, abs=0.01)
    again = ar1_errors(np.random.default_rng(3), 20000, 3, 0.2, 0.8, dt=0.5)
    assert np.array_equal(e, again)


def test_fast_forward_selection_on_a_line():
    """Points 0, 1, 10 with probabilities 0.3, 0.3, 0.4 (distance ``|a - b|``).

    First pick: ``z_u = sum_{i != u} p_i c_iu``: ``z_0 = 0.3 + 4 = 4.3``, ``z_1 = 0.3 + 3.6 =
    3.9``, ``z_2 = 3 + 2.7 = 5.7``: point 1 (``error_one`` 3.9). Second: distances to the
    nearest of (candidate, point 1): ``z_0 = 0.4 * min(10, 9) = 3.6``, ``z_2 = 0.3 * min(10,
    1) = 0.3``: point 2. Point 0 moves to its nearest kept point, 1: probabilities 0.6, 0.4;
    Kantorovich error ``0.3 * 1 = 0.3``.
    """
    points = np.array([[0.0], [1.0], [10.0]])
    kept, p, error, error_one = fast_forward(points, np.array([0.3, 0.3, 0.4]), 2)
    assert list(kept) == [1, 2]
    assert p == pytest.approx([0.6, 0.4])
    assert error == pytest.approx(0.3)
    assert error_one == pytest.approx(3.9)


def test_generated_scenarios_reduced_and_held_out():
    """40 draws of the demand (kind demand: multiplicative, sigma 0.08, rho 0.8), reduced to
    4 by fast forward selection, 5 held out: 4 members whose probabilities sum to 1, an
    error below the single best scenario's; the same seed gives the same set, whatever the
    number held out."""
    c = _given_config(3)
    c["uncertainty"] = {
        "errors": [{"series": "dem", "kind": "demand"}],
        "samples": 40,
        "reduce_to": 4,
        "held_out": 5,
        "seed": 11,
    }
    series = _frame(pd.date_range("2026-07-15", periods=3, freq="1h"), dem=[10.0, 12.0, 14.0])
    sc = scenario(c, series)
    ss = scenario_set(sc)
    assert len(ss.members) == 4 and len(ss.held_out) == 5
    assert ss.probabilities.sum() == pytest.approx(1.0)
    assert 0 < ss.reduction["error"] < ss.reduction["error_one"]
    assert ss.reduction["samples"] == 40
    demands = np.array([m.series["dem"].to_numpy() for m in ss.members])
    assert not np.allclose(demands, series["dem"].to_numpy())
    assert [m.probability for m in ss.held_out] == [1.0] * 5
    again = scenario_set(sc)
    assert np.array_equal(demands, np.array([m.series["dem"].to_numpy() for m in again.members]))
    c["uncertainty"]["held_out"] = 0  # the held-out draws come from a stream of their own
    fewer = scenario_set(scenario(c, series))
    assert np.array_equal(demands, np.array([m.series["dem"].to_numpy() for m in fewer.members]))


def test_error_model_of_an_unknown_series():
    c = _given_config()
    c["uncertainty"] = {"errors": [{"series": "pv", "kind": "pv"}], "samples": 3}
    sc = scenario(c, _frame(dem=[10.0]))
    with pytest.raises(suandian.ScenarioError, match=r"uncertainty.errors\[0\].series"):
        scenario_set(sc)


def test_a_temperature_error_clipped_by_series_period_by_period():
    """A wet-bulb forecast of 24 degC with its dew point at 23.5 and its dry-bulb at 25, an
    additive error of sigma 1.5 (the temperature kind's): unclipped, a draw falls below the dew
    point whenever ``e_t < -0.5`` (about 37 % of periods, ``P(Z < -1/3)``); with ``low: dew``
    and ``high: dry`` every draw is the unclipped one clipped to [23.5, 25] period by period
    (the same seed gives the same errors), a wet-bulb between its dew point and dry-bulb."""
    from suandian.scenario.uncertainty import ForecastError, sample_series

    index = pd.date_range("2026-07-15 00:00", periods=4, freq="1h")
    c = _given_config(4)
    frame = _frame(index, dem=[10.0] * 4, wet=[24.0] * 4, dew=[23.5] * 4, dry=[25.0, 25, 26, 26])
    sc = scenario(c, frame)
    free = ForecastError(series="wet", kind="temperature")
    bound = ForecastError(series="wet", kind="temperature", low="dew", high="dry")
    raw = sample_series(sc, [free], 2000, np.random.default_rng(5))["wet"]
    got = sample_series(sc, [bound], 2000, np.random.default_rng(5))["wet"]
    assert np.mean(raw < 23.5) == pytest.approx(0.37, abs=0.03)
    assert np.array_equal(got, np.clip(raw, 23.5, [25.0, 25, 26, 26]))
    assert got.min() == 23.5 and (got <= [25.0, 25, 26, 26]).all()
    bad = ForecastError(series="wet", kind="temperature", low="dewpoint")
    with pytest.raises(suandian.ScenarioError, match=r"uncertainty.errors\[0\].low"):
        sample_series(sc, [bad], 3, np.random.default_rng(5))


def test_scenarios_and_errors_together_are_refused():
    c = _given_config()
    c["uncertainty"] = {
        "scenarios": [{"name": "a", "probability": 1.0}],
        "errors": [{"series": "dem", "kind": "demand"}],
    }
    with pytest.raises(suandian.ScenarioError, match="not both"):
        scenario(c, _frame(dem=[10.0]))


# ------------------------------------------------------------------ spot settlement
def _spot_config(rt, tolerance: float, deviation_price: float = 50.0, periods: int = 1) -> dict:
    """Both blocks always on (``min_on: 2``), tariff 0, the node settled in the spot market at
    day-ahead 100 CNY/MWh; facility ``1.1 * (2 + 0.1 * demand)`` MW."""
    c = _given_config(periods)
    c["sites"][0]["min_on"] = 2
    c["nodes"][0]["tariff"] = 0.0
    c["spot_market"] = [
        {
            "node": "n1",
            "day_ahead_price": 100.0,
            "real_time_price": rt,
            "tolerance": tolerance,
            "deviation_price": deviation_price,
            "position_max": 10.0,
        }
    ]
    return c


@pytest.mark.parametrize(
    ("rt", "position", "cost"),
    [(80.0, 3.85 / 1.1, 378.0), (120.0, 3.85 / 0.9, 100 * 3.85 / 0.9 - 120 * (3.85 / 0.9 - 3.85))],
    ids=["real_time_cheaper", "real_time_dearer"],
)
def test_deviation_settlement_with_a_tolerance_band(rt, position, cost):
    """One hour, purchase ``P = 1.1 * (2 + 1.5) = 3.85`` MW (15 units), day-ahead ``a = 100``,
    band ``tau = 0.1``, assessment ``delta = 50`` CNY/MWh beyond it. The cost of a position
    ``x`` is ``a x + r (P - x) + delta max(|P - x| - tau x, 0)``; its slope in ``x``:

    * below ``P / (1 + tau)``: ``a - r - delta (1 + tau)``; between ``P / (1 + tau)`` and
      ``P``: ``a - r``; between ``P`` and ``P / (1 - tau)`` (sold back within the band):
      ``a - r``; above: ``a - r + delta (1 - tau)``.
    * ``r = 80``: ``-35``, then ``+20``: ``x = P / 1.1 = 3.5``; cost ``350 + 80 * 0.35 = 378``.
    * ``r = 120``: ``-75``, ``-20``, ``-20``, then ``+25``: ``x = P / 0.9 = 4.278``, the
      surplus sold back at 120: ``427.78 - 51.33 = 376.44``; no assessment in either.
    """
    r = suandian.solve(scenario(_spot_config(rt, 0.1), _frame(dem=[15.0])), mip_rel_gap=0.0)
    assert r.status == "optimal" and r.certify() == []
    assert float(r.ds["p_da"].sel(market="n1")[0]) == pytest.approx(position)
    assert float(r.ds["p_rt"].sel(market="n1")[0]) == pytest.approx(3.85 - position)
    assert r.costs["spot_deviation"] == pytest.approx(0.0, abs=1e-9)
    assert r.objective == pytest.approx(cost)


def test_a_position_that_could_be_sold_back_without_bound_is_refused():
    """Real-time 200 against day-ahead 100 with ``delta (1 - tau) = 50``: each MW of position
    sold back earns ``200 - 100 - 50 = 50`` CNY; without position_max or an import limit the
    validation names the field."""
    c = _spot_config(200.0, 0.0)
    del c["spot_market"][0]["position_max"]
    with pytest.raises(suandian.ScenarioError, match=r"spot_market\[0\].position_max"):
        scenario(c, _frame(dem=[15.0]))


def test_the_certifier_catches_a_deviation_below_its_band():
    """The ``r = 80`` plan with its assessed deviation lowered below ``|r| - tau x``."""
    r = suandian.solve(scenario(_spot_config(80.0, 0.0), _frame(dem=[15.0])), mip_rel_gap=0.0)
    ds = r.ds.copy(deep=True)
    ds["p_da"][:] = 3.0  # 0.85 MW bought in real time, no band: assessed 0 -> short
    checks = {v.check for v in suandian.certify(ds)}
    assert {"grid.deviation_up", "grid.p_rt"} <= checks


# ------------------------------------------------------------------ the two-stage plan
def _newsvendor(tmp_path, held_out: tuple[float, ...] = ()) -> suandian.Scenario:
    """Demand 5 or 15 units with probability 0.5 each; real-time 120, day-ahead 100,
    ``delta = 50`` CNY/MWh beyond a zero band: facility ``P = 2.75`` or ``3.85`` MW."""
    c = _spot_config(120.0, 0.0)
    c["uncertainty"] = {
        "scenarios": [
            {"name": "low", "probability": 0.5, "series": [_write(tmp_path / "lo.csv", dem=[5])]},
            {"name": "high", "probability": 0.5, "series": [_write(tmp_path / "hi.csv", dem=[15])]},
        ]
    }
    return suandian.load_scenario(c, series=_frame(dem=[10.0]), base_dir=tmp_path)


def test_newsvendor_position_vss_and_evpi(tmp_path):
    """The day-ahead position ``x`` is first stage; each scenario settles
    ``C_k(x) = 100 x + 120 (P_k - x) + 50 |P_k - x|`` with ``P = (2.75, 3.85)``.

    * **RP.** The slope of ``E[C]`` is ``-20 + 50 (P(P_k < x) - P(P_k > x))``: ``-70``
      below 2.75, ``-20`` between, ``+30`` above 3.85: ``x = 3.85``. ``C_low = 385 - 132 +
      55 = 308``, ``C_high = 385``: ``E = 346.5``.
    * **EV.** Mean demand 10: ``P = 3.3``; the slope is ``-70`` below and ``+30`` above it:
      ``x = 3.3``, objective 330.
    * **EEV.** ``x = 3.3`` settled: ``330 - 66 + 27.5 = 291.5`` and ``330 + 66 + 27.5 = 423.5``:
      ``E = 357.5``; **VSS** ``= 357.5 - 346.5 = 11``.
    * **WS.** Each scenario buys its own ``P_k``: ``275`` and ``385``, ``E = 330``; **EVPI**
      ``= 346.5 - 330 = 16.5``.
    * CVaR at 0.5 of (308, 385) equally likely is the dearer one, 385.
    """
    sc = _newsvendor(tmp_path)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0, alpha=0.5)
    assert rp.status == "optimal"
    assert rp.certify() == []
    assert all(r.certify() == [] for r in rp.results)
    assert rp.first_stage["grid.p_da"].values.ravel() == pytest.approx([3.85])
    assert list(rp.costs) == pytest.approx([308.0, 385.0])
    assert rp.expected_cost == pytest.approx(346.5)
    assert rp.cost_std == pytest.approx(38.5)
    assert rp.cvar == pytest.approx(385.0)
    assert [r.objective for r in rp.results] == pytest.approx([154.0, 192.5])
    value = suandian.stochastic_value(sc, rp=rp, mip_rel_gap=0.0)
    assert value.ev.objective == pytest.approx(330.0)
    assert value.eev.first_stage["grid.p_da"].values.ravel() == pytest.approx([3.3])
    assert list(value.eev.costs) == pytest.approx([291.5, 423.5])
    assert value.vss == pytest.approx(11.0)
    assert value.ws.expected_cost == pytest.approx(330.0)
    assert value.evpi == pytest.approx(16.5)
    assert value.eev.certify() == [] and value.ws.certify() == []


def test_cvar_in_the_objective_in_the_rockafellar_uryasev_form(tmp_path):
    """``E[C] + 1 * CVaR_0.5``: between 2.75 and 3.85 ``C_low = 30 x + 192.5`` and ``C_high =
    -70 x + 654.5`` (the larger there), so the objective ``-20 x + 423.5 - 70 x + 654.5``
    falls up to 3.85, and both costs rise above it: ``x = 3.85`` again; objective ``346.5 +
    385 = 731.5`` (the LP's ``eta + u / (1 - alpha)`` equals the tail's mean)."""
    rp = suandian.solve_stochastic(
        _newsvendor(tmp_path), mip_rel_gap=0.0, alpha=0.5, risk_weight=1.0
    )
    assert rp.first_stage["grid.p_da"].values.ravel() == pytest.approx([3.85])
    assert rp.info.objective == pytest.approx(731.5)
    assert rp.certify() == []


def test_a_first_stage_that_differs_between_scenarios_is_caught(tmp_path):
    """The plan above with the second scenario's position changed in its Dataset."""
    rp = suandian.solve_stochastic(_newsvendor(tmp_path), mip_rel_gap=0.0)
    rp.results[1].ds["p_da"][:] = 3.0
    checks = {v.check for v in rp.certify()}
    assert "stochastic.nonanticipativity" in checks


def test_out_of_sample_settles_the_fixed_position(tmp_path):
    """``x = 3.85`` settled on a held-out day of demand 10 (``P = 3.3``): ``385 - 120 * 0.55 +
    50 * 0.55 = 346.5``; the mean-forecast position 3.3 there costs its own 330."""
    sc = _newsvendor(tmp_path)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    day = scenario(_spot_config(120.0, 0.0), _frame(dem=[10.0]))
    out = suandian.evaluate_plan(rp, [day], mip_rel_gap=0.0)
    assert out.costs == pytest.approx([346.5])
    assert out.certify() == []
    mean = suandian.evaluate_plan(
        {
            "dc.n_on": np.array([[2.0]]),
            "grid.p_da": np.array([[3.3]]),
            "green.n_block": np.zeros(0),
        },
        [day],
        mip_rel_gap=0.0,
    )
    assert mean.costs == pytest.approx([330.0])


def _green_config(tmp_path, mode: str) -> suandian.Scenario:
    """Load 3.85 MW (15 units, grid 100 CNY/MWh), PV of 4 MW free, a 50 % green share over
    the horizon, certificates at 10 CNY/MWh; sunny (profile 1) or overcast (0), 0.5 each."""
    c = _given_config()
    c["interactive"][0]["demand"] = 15.0
    c["renewables"] = [
        {"name": "pv", "site": "s1", "capacity": 4.0, "profile": "solar", "price": 0.0}
    ]
    c["policies"] = {"green_share": {"target": 0.5}}
    c["certificates"] = {"price": 10.0}
    c["uncertainty"] = {
        "scenarios": [
            {"name": "sun", "probability": 0.5, "series": [_write(tmp_path / "s.csv", solar=[1])]},
            {"name": "dull", "probability": 0.5, "series": [_write(tmp_path / "d.csv", solar=[0])]},
        ],
        "compliance": {"green_share": mode},
    }
    return suandian.load_scenario(c, series=_frame(solar=[0.5]), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("mode", "costs"),
    [("expectation", [0.0, 385.0]), ("per_scenario", [0.0, 385.0 + 10 * 0.5 * 3.85])],
)
def test_green_share_in_expectation_or_per_scenario(tmp_path, mode, costs):
    """Sunny: the PV serves the whole load (share 1, cost 0). Overcast: the grid, 385 CNY.

    * In expectation: ``0.5 (3.85 - 0.5 * 3.85) + 0.5 (0 - 0.5 * 3.85) = 0`` holds: no
      certificate; ``E = 192.5``.
    * Per scenario: the overcast day buys ``0.5 * 3.85 = 1.925`` MWh of certificates,
      19.25 CNY; ``E = 202.125``.

    Each member certifies on its own, except the green-share row held in expectation, which
    is judged over both (``stochastic.green_expectation``).
    """
    rp = suandian.solve_stochastic(_green_config(tmp_path, mode), mip_rel_gap=0.0)
    assert rp.status == "optimal"
    assert list(rp.costs) == pytest.approx(costs)
    assert rp.certify() == []
    if mode == "expectation":
        dull = {v.check for v in rp.results[1].certify()}
        assert dull == {"green_share.share_min"}  # below target alone, met in expectation


def _corridor_site(c: dict) -> dict:
    """The spot site ``c`` without its market: grid at 300 CNY/MWh and a corridor from a second
    node, blocks of 1 MW at 100 CNY/MWh paid whether taken or not (``deviation_price_down:
    0``)."""
    del c["spot_market"]
    c["nodes"][0]["tariff"] = 300.0
    c["nodes"].append({"name": "n2", "tariff": 0.0, "emission_factor": 0.0})
    c["corridors"] = [
        {
            "name": "line",
            "from_node": "n2",
            "to_node": "n1",
            "capacity": 10.0,
            "source_price": 100.0,
            "block_mw": 1.0,
            "deviation_price_down": 0.0,
        }
    ]
    return c


def _corridor_newsvendor(tmp_path) -> suandian.Scenario:
    """Corridor blocks of 1 MW (integer, first stage) at 100 CNY/MWh paid whether taken or
    not, grid 300 CNY/MWh; load 2.75 or 3.85 MW, 0.5 each (derived in
    ``test_corridor_blocks_as_a_newsvendor``)."""
    c = _corridor_site(_spot_config(120.0, 0.0))
    c["uncertainty"] = {
        "scenarios": [
            {"name": "low", "probability": 0.5, "series": [_write(tmp_path / "lo.csv", dem=[5])]},
            {"name": "high", "probability": 0.5, "series": [_write(tmp_path / "hi.csv", dem=[15])]},
        ]
    }
    return suandian.load_scenario(c, series=_frame(dem=[10.0]), base_dir=tmp_path)


def test_corridor_blocks_as_a_newsvendor(tmp_path):
    """Corridor blocks of 1 MW (integer, first stage) at 100 CNY/MWh paid whether taken or not
    (``deviation_price_down: 0``), grid 300; load ``P = 2.75`` or ``3.85`` MW, 0.5 each.

    A scenario's cost with ``n`` blocks is ``100 n + 300 max(P - n, 0)``:

    * **RP.** ``n = 2``: ``(425 + 755) / 2 = 590``; ``n = 3``: ``(300 + 555) / 2 = 427.5``;
      ``n = 4``: ``400`` in both; ``n = 5``: 500. ``n = 4``, ``E = 400``.
    * **EV.** Mean load 3.3: ``n = 3`` costs ``300 + 90 = 390``, ``n = 4`` 400: ``n = 3``.
    * **EEV** ``= 427.5``; **VSS** ``= 27.5``.
    * **WS.** Low: ``n = 3``, 300; high: ``n = 4``, 400: ``350``; **EVPI** ``= 50``.
    """
    sc = _corridor_newsvendor(tmp_path)
    value = suandian.stochastic_value(sc, mip_rel_gap=0.0)
    assert value.rp.first_stage["green.n_block"].values == pytest.approx([4.0])
    assert value.rp.expected_cost == pytest.approx(400.0)
    assert value.ev.objective == pytest.approx(390.0)
    assert value.eev.first_stage["green.n_block"].values == pytest.approx([3.0])
    assert value.eev.expected_cost == pytest.approx(427.5)
    assert value.vss == pytest.approx(27.5)
    assert value.ws.expected_cost == pytest.approx(350.0)
    assert value.evpi == pytest.approx(50.0)
    assert value.rp.certify() == [] and value.eev.certify() == []


def test_decomposed_corridor_newsvendor_agrees_with_the_extensive_form(tmp_path):
    """The corridor newsvendor decomposed by scenario (``method="decomposed"``).

    A day's cost with ``n`` blocks is ``f(n) = 100 n + 300 max(P - n, 0)``: at ``n = 2, 3,
    4, 5`` the low day (``P = 2.75``) costs ``425, 300, 400, 500`` and the high day
    (``P = 3.85``) ``755, 555, 400, 500``. The scenarios disagree on the first stage: alone
    (wait and see) the low day holds ``n = 3``, the high day ``n = 4``.

    Priced apart, the non-anticipativity row ``n_high - n_low = 0`` with multiplier ``l``
    gives ``L(l) = min_n (0.5 f_low(n) + l n) + min_n (0.5 f_high(n) - l n)``, whose maximum
    over ``l`` is the minimum of ``0.5 (f_low + f_high)`` over the convex hulls of the two
    (each the piecewise-linear interpolation of its integer points, both convex). The sum's
    slopes are ``-325`` on ``[2, 3]``, ``100 - 155 = -55`` on ``[3, 4]``, ``100 + 100`` on
    ``[4, 5]``: the minimum is at ``n = 4``, ``0.5 (400 + 400) = 400``, reached at ``l =
    -50`` (the low day then indifferent between 3, 4 and 5 blocks, ``0.5 f_low(n) - 50 n =
    0``; the high day holding 4, ``200 + 200``), no duality gap (``l = 0`` gives the wait
    and see, 350). So the decomposed plan holds ``n = 4`` in both scenarios, expected cost
    400, as the extensive form, and its proven bound is 400.
    """
    sc = _corridor_newsvendor(tmp_path)
    ws = suandian.run.stochastic.wait_and_see(sc, mip_rel_gap=0.0)
    assert [float(r.ds["n_block"].sum()) for r in ws.results] == pytest.approx([3.0, 4.0])
    ef = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    dec = suandian.solve_stochastic(sc, mip_rel_gap=0.0, method="decomposed")
    for rp in (ef, dec):
        assert rp.status == "optimal"
        assert rp.first_stage["green.n_block"].values == pytest.approx([4.0])
        assert [float(r.ds["n_block"].sum()) for r in rp.results] == pytest.approx([4.0, 4.0])
        assert rp.expected_cost == pytest.approx(400.0)
        assert list(rp.costs) == pytest.approx([400.0, 400.0])
        assert rp.bound <= rp.info.objective + 1e-6
        assert rp.certify() == []
    assert dec.bound == pytest.approx(400.0)
    assert dec.gap == pytest.approx(0.0, abs=1e-9)
    assert dec.summary()["bound"] == pytest.approx(400.0)


def test_decomposed_newsvendor_position(tmp_path):
    """The newsvendor's day-ahead position decomposed by scenario: ``x = 3.85``, ``E = 346.5``
    (``test_newsvendor_position_vss_and_evpi``), the same as the extensive form; the bound
    at most the objective."""
    rp = suandian.solve_stochastic(_newsvendor(tmp_path), mip_rel_gap=0.0, method="decomposed")
    assert rp.status == "optimal"
    assert rp.first_stage["grid.p_da"].values.ravel() == pytest.approx([3.85])
    assert list(rp.costs) == pytest.approx([308.0, 385.0])
    assert rp.expected_cost == pytest.approx(346.5)
    assert rp.bound <= rp.info.objective + 1e-6
    assert rp.certify() == []


def test_an_unknown_method_is_a_clear_error(tmp_path):
    sc = _newsvendor(tmp_path)
    with pytest.raises(ValueError, match="method 'benders': use one of extensive, decomposed"):
        suandian.solve_stochastic(sc, method="benders")
    with pytest.raises(ValueError, match="leave mip_start on"):
        suandian.solve_stochastic(sc, method="decomposed", mip_start=False)


def test_generated_scenarios_end_to_end():
    """Demand with a forecast error (sigma 0.3), 12 draws reduced to 3, 4 held out, on the
    corridor-free newsvendor site: the plan certifies, ``VSS >= 0`` and ``EVPI >= 0`` (RP is
    the best first stage over the members, WS a relaxation of it), and the out-of-sample
    figures are settled on the 4 held-out days."""
    c = _spot_config(120.0, 0.0)
    c["uncertainty"] = {
        "errors": [{"series": "dem", "kind": "demand", "sigma": 0.3, "high": 20.0}],
        "samples": 12,
        "reduce_to": 3,
        "held_out": 4,
        "seed": 5,
    }
    sc = scenario(c, _frame(dem=[10.0]))
    value = suandian.stochastic_value(sc, mip_rel_gap=0.0)
    assert value.rp.certify() == []
    assert len(value.rp.results) == 3
    assert value.vss >= -1e-6 and value.evpi >= -1e-6
    assert set(value.out_of_sample) == {"stochastic", "mean_forecast"}
    assert len(value.out_of_sample["stochastic"].costs) == 4
    table = value.table()
    assert "VSS = EEV - RP" in set(table["figure"])


@pytest.mark.parametrize("method", ["extensive", "decomposed"])
def test_cli_stochastic_plans_values_and_writes(tmp_path, capsys, method):
    """``suandian stochastic newsvendor.yaml --value --method M``: the newsvendor of
    ``test_newsvendor_position_vss_and_evpi`` from files; prints the expected cost 346.5 and
    VSS 11, writes the tables, the first stage and each scenario's result; either method."""
    import json

    import yaml

    from suandian.cli import main

    c = _spot_config(120.0, 0.0)
    c["series"] = [_write(tmp_path / "base.csv", dem=[10])]
    c["uncertainty"] = {
        "scenarios": [
            {"name": "low", "probability": 0.5, "series": [_write(tmp_path / "lo.csv", dem=[5])]},
            {"name": "high", "probability": 0.5, "series": [_write(tmp_path / "hi.csv", dem=[15])]},
        ]
    }
    path = tmp_path / "newsvendor.yaml"
    path.write_text(yaml.safe_dump(c), encoding="utf-8")
    out = tmp_path / "plan"
    code = main(
        [
            "stochastic",
            str(path),
            "--out",
            str(out),
            "--mip-gap",
            "0",
            "--value",
            "--method",
            method,
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "VSS = EEV - RP" in text and "certifier: every scenario" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["expected_cost"] == pytest.approx(346.5)
    assert summary["bound"] <= summary["objective"] + 1e-6
    value = pd.read_csv(out / "value.csv").set_index("figure")["value"]
    assert value["VSS = EEV - RP"] == pytest.approx(11.0)
    assert json.loads((out / "first_stage.json").read_text())["grid.p_da"] == [
        [pytest.approx(3.85)]
    ]
    assert (out / "low" / "manifest.json").is_file() and (out / "high" / "kpis.json").is_file()


def test_cli_stochastic_without_scenarios_is_a_clear_error(tmp_path, capsys):
    import yaml

    from suandian.cli import main

    c = _spot_config(120.0, 0.0)
    c["series"] = [_write(tmp_path / "base.csv", dem=[10])]
    path = tmp_path / "day.yaml"
    path.write_text(yaml.safe_dump(c), encoding="utf-8")
    assert main(["stochastic", str(path), "--out", str(tmp_path / "o")]) == 1
    assert "a two-stage plan needs scenarios" in capsys.readouterr().err


# ------------------------------------------------------------------ re-plan intraday
def _two_period_newsvendor(tmp_path, corridor: bool = False) -> suandian.Scenario:
    """The newsvendor of ``test_newsvendor_position_vss_and_evpi`` on 2 hours (the same
    demand, 5 or 15, in both), or the corridor newsvendor of
    ``test_corridor_blocks_as_a_newsvendor`` with one block window over both hours."""
    c = _spot_config(120.0, 0.0, periods=2)
    if corridor:
        c = _corridor_site(c)
    c["uncertainty"] = {
        "scenarios": [
            {"name": "low", "probability": 0.5, "series": [_write(tmp_path / "l.csv", dem=[5, 5])]},
            {
                "name": "high",
                "probability": 0.5,
                "series": [_write(tmp_path / "h.csv", dem=[15, 15])],
            },
        ]
    }
    index = pd.date_range("2026-07-15 00:00", periods=2, freq="1h")
    return suandian.load_scenario(c, series=_frame(index, dem=[10.0, 10.0]), base_dir=tmp_path)


def _low_day(sc: suandian.Scenario) -> suandian.Scenario:
    """The updated forecast at 01:00: demand 5 (``P = 2.75`` MW) for the rest of the day."""
    from suandian.scenario.uncertainty import scenario_set

    return scenario_set(sc).members[0]


def test_a_replan_keeps_the_day_ahead_position(tmp_path):
    """The two-stage position is ``x_t = 3.85`` in both hours (each hour is the newsvendor).
    At 01:00 the forecast says demand 5 (``P = 2.75``) for the last hour. The re-plan from
    period 1, from the state after hour 0 of the low scenario's plan, keeps ``x_1 = 3.85``
    (committed the day before): ``385 - 120 * 1.1 + 50 * 1.1 = 308`` CNY. A plan free to
    choose it again would buy 2.75 for 275: the commitment is what the re-plan must keep."""
    sc = _two_period_newsvendor(tmp_path)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    assert rp.first_stage["grid.p_da"].values.ravel() == pytest.approx([3.85, 3.85])
    state = rp.results[0].final_state(0)
    again = suandian.replan(rp, _low_day(sc), 1, state, mip_rel_gap=0.0)
    assert again.status == "optimal" and again.certify() == []
    assert again.results[0].ds["p_da"].values.ravel() == pytest.approx([3.85])
    assert list(again.costs) == pytest.approx([308.0])
    free = suandian.solve(_low_day(sc).window(1, 1, state=state), mip_rel_gap=0.0)
    assert free.objective / 0.5 == pytest.approx(275.0)


def test_a_replan_keeps_the_corridor_blocks_of_a_cut_window(tmp_path):
    """Corridor blocks over the whole day: the two-stage plan holds ``n = 4`` (the corridor
    newsvendor). Re-planned from 01:00 on demand 5, the window cut to its last hour is still
    the same window: ``n = 4`` is kept, 400 CNY (``100 * 4``, the 1.25 MW not taken credited
    0) against ``100 * 3 = 300`` for a free choice."""
    sc = _two_period_newsvendor(tmp_path, corridor=True)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    assert rp.first_stage["green.n_block"].values == pytest.approx([4.0])
    state = rp.results[0].final_state(0)
    again = suandian.replan(rp, _low_day(sc), 1, state, mip_rel_gap=0.0)
    assert again.results[0].ds["n_block"].values == pytest.approx([4.0])
    assert list(again.costs) == pytest.approx([400.0])
    assert again.certify() == []


def test_a_replan_from_a_later_period_needs_the_state(tmp_path):
    sc = _two_period_newsvendor(tmp_path)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    with pytest.raises(ValueError, match="needs what has happened"):
        suandian.replan(rp, sc, 1)


def test_a_two_stage_plan_of_a_scenario_without_scenarios_is_a_clear_error():
    sc = scenario(_given_config(), _frame(dem=[10.0]))
    with pytest.raises(suandian.ScenarioError, match="a two-stage plan needs scenarios"):
        suandian.solve_stochastic(sc)


def _three_skies(tmp_path, **compliance) -> suandian.Scenario:
    """The green case above with three skies: sun (PV profile 1, p 0.5), dull (0, p 0.2) and
    grey (0.25: 1 MW of PV, p 0.3); one hour, load 3.85 MWh, grid 100 CNY/MWh, certificates 10.
    """
    c = _green_config(tmp_path, "per_scenario").config.model_dump(mode="json", exclude_unset=True)
    skies = {"sun": (0.5, 1.0), "dull": (0.2, 0.0), "grey": (0.3, 0.25)}
    c["uncertainty"] = {
        "scenarios": [
            {"name": n, "probability": p, "series": [_write(tmp_path / f"{n}.csv", solar=[f])]}
            for n, (p, f) in skies.items()
        ],
        "compliance": {"green_share": "chance", **compliance},
    }
    return suandian.load_scenario(c, series=_frame(solar=[0.5]), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("level", "costs"),
    [
        (0.9, [0.0, 404.25, 294.25]),
        (0.75, [0.0, 385.0, 294.25]),
        (0.65, [0.0, 385.0, 294.25]),
        (0.45, [0.0, 385.0, 285.0]),
    ],
)
def test_green_share_by_chance(tmp_path, level, costs):
    """A 50 % share of 3.85 MWh needs 1.925 MWh green. Sun: the PV serves all (share 1, 0 CNY).
    Dull: grid 385 CNY, and 1.925 MWh of certificates (19.25 CNY) to meet the share. Grey: 1 MWh
    of PV, grid 2.85 MWh (285 CNY), 0.925 MWh of certificates (9.25 CNY).

    The share may be missed in scenarios of probability at most ``1 - level``:

    * 0.9 (at most 0.1): neither dull (0.2) nor grey (0.3) may miss it: ``[0, 404.25, 294.25]``;
    * 0.75 (0.25): dull may (saves 0.2 x 19.25 = 3.85 in expectation), grey may not;
    * 0.65 (0.35): dull or grey, not both (0.5): dull saves 3.85, grey 0.3 x 9.25 = 2.775:
      dull, as above;
    * 0.45 (0.55): both: ``[0, 385, 285]``.

    Every plan certifies; ``probability_met`` counts the members that meet the share.
    """
    rp = suandian.solve_stochastic(_three_skies(tmp_path, chance_level=level), mip_rel_gap=0.0)
    assert rp.status == "optimal"
    assert list(rp.costs) == pytest.approx(costs)
    assert rp.certify() == []
    met = {0.9: 1.0, 0.75: 0.8, 0.65: 0.8, 0.45: 0.5}[level]
    assert rp.probability_met()["green_share"] == pytest.approx(met)


def test_the_certifier_catches_a_chance_bound_missed(tmp_path):
    """At level 0.75 grey must meet the share; its 0.925 MWh of certificates removed from its
    Dataset, dull and grey both miss it: probability 0.5 > 0.25."""
    rp = suandian.solve_stochastic(_three_skies(tmp_path, chance_level=0.75), mip_rel_gap=0.0)
    assert rp.certify() == []
    rp.results[2].ds["e_certificate"][:] = 0.0
    bad = [v for v in rp.certify() if v.check == "stochastic.green_chance"]
    assert len(bad) == 1 and bad[0].value == pytest.approx(0.5) and bad[0].limit == 0.25


def test_a_chance_bound_on_an_hourly_matched_share_is_refused(tmp_path):
    sc = _three_skies(tmp_path)
    c = sc.config.model_dump(mode="json", exclude_unset=True)
    c["policies"]["green_share"]["matching"] = "hour"
    with pytest.raises(ValueError, match="green_share: chance needs policies.green_share.matching"):
        suandian.solve_stochastic(
            suandian.load_scenario(c, series=_frame(solar=[0.5]), base_dir=tmp_path)
        )


def _pue_scenarios(tmp_path, mode: str, level: float = 0.9) -> suandian.Scenario:
    """One hour at the part-load site of ``test_load_dependent_pue`` (always-on IT 0.5 MW,
    fixed load 0.3 MW, losses 0.01 x 4.5 + 0.02 x IT, COP 10), demand 10 units (low) or 20
    (high), 0.5 each, a PUE cap of 1.21 over the horizon."""
    c = _given_config()
    c["sites"][0].update(loss_fraction=0.02, no_load_loss=0.01, always_on_it=0.5, fixed_load=0.3)
    c["policies"] = {"green_share": None, "pue": {"cap": 1.21}}
    c["uncertainty"] = {
        "scenarios": [
            {"name": "low", "probability": 0.5, "series": [_write(tmp_path / "lo.csv", dem=[10])]},
            {"name": "high", "probability": 0.5, "series": [_write(tmp_path / "hi.csv", dem=[20])]},
        ],
        "compliance": {"green_share": "per_scenario", "pue": mode, "chance_level": level},
    }
    return suandian.load_scenario(c, series=_frame(dem=[15.0]), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("mode", "level", "feasible"),
    [
        ("per_scenario", 0.9, False),
        ("expectation", 0.9, True),
        ("chance", 0.5, True),
        ("chance", 0.6, False),
    ],
)
def test_pue_cap_in_expectation_or_by_chance(tmp_path, mode, level, feasible):
    """The high hour needs both blocks, and the blocks on are first stage, so the low hour runs
    two blocks, one idle:

    * low: IT 0.5 + 2 + 1 = 3.5 MW, facility (3.5 + 0.045 + 0.07) x 1.1 + 0.3 = 4.2765 MW,
      PUE 1.22186 > 1.21, the row ``F - 1.21 I`` at ``4.2765 - 4.235 = +0.0415`` MWh;
    * high: IT 4.5, facility 5.3985, PUE 1.19967, ``5.3985 - 5.445 = -0.0465``.

    Per scenario the low hour misses the cap: infeasible. In expectation
    ``0.5 (0.0415 - 0.0465) = -0.0025 <= 0``: feasible. By chance the low hour (0.5) may miss
    it at level 0.5, not at 0.6. Where feasible, the costs are 100 x facility energy:
    ``[427.65, 539.85]``.
    """
    rp = suandian.solve_stochastic(_pue_scenarios(tmp_path, mode, level), mip_rel_gap=0.0)
    if not feasible:
        assert rp.status == "infeasible"
        return
    assert rp.status == "optimal"
    assert list(rp.costs) == pytest.approx([427.65, 539.85])
    assert rp.certify() == []
    assert rp.probability_met() == {"pue": pytest.approx(0.5)}
    if mode == "expectation":  # the low hour's row is judged over both, and met
        low = {v.check for v in rp.results[0].certify()}
        assert low == {"pue_cap.pue_max"}
        rp.results[1].ds["p_facility"][:] += 0.01  # high: 5.4085 - 5.445 = -0.0365; mean > 0
        assert "stochastic.pue_expectation" in {v.check for v in rp.certify()}


def test_cli_stochastic_reports_the_probability_each_target_is_met(tmp_path, capsys):
    """``test_green_share_by_chance`` at level 0.75 from a file: dull (0.2) misses the share,
    sun and grey meet it: 0.8; the default PUE cap (1.25) holds at PUE 1.1 everywhere: 1."""
    import json

    import yaml

    from suandian.cli import main

    c = _three_skies(tmp_path, chance_level=0.75).config.model_dump(mode="json", exclude_unset=True)
    c["series"] = [_write(tmp_path / "base.csv", solar=[0.5])]
    path = tmp_path / "skies.yaml"
    path.write_text(yaml.safe_dump(c), encoding="utf-8")
    out = tmp_path / "plan"
    assert main(["stochastic", str(path), "--out", str(out), "--mip-gap", "0"]) == 0
    assert "targets met with probability: green_share 0.8, pue 1" in capsys.readouterr().out
    met = json.loads((out / "targets_met.json").read_text())
    assert met == {"green_share": pytest.approx(0.8), "pue": pytest.approx(1.0)}


# ------------------------------------------------------------------ the DR baseline, two stages
def _dr_two_demands(tmp_path) -> suandian.Scenario:
    """``tests/test_demand_response.py``'s site, battery and event (periods 1-2, prices 20 /
    20, shortfall 1000, baseline ``no_event``), demand 12 or 18 units (probability 0.5 each,
    mean 15): both blocks on in every case, so the site draws ``1.1 (2 + 0.1 u)`` = 3.52 or
    4.18 MW (3.85 at the mean) when the battery idles, as it does without the event."""
    c = base_config(periods=4)
    c["interactive"] = [{"name": "web", "demand": "dem", "sites": ["s1"]}]
    c["storage"] = [
        {"name": "bat", "site": "s1", "power": 1.0, "energy": 2.0,
         "eta_charge": 0.9, "eta_discharge": 0.9}
    ]  # fmt: skip
    c["demand_response"] = [
        {"name": "ev", "node": "n1", "start": "2026-07-15 01:00", "end": "2026-07-15 03:00",
         "min_bid": 0.1, "max_reduction": 5.0, "shortfall_price": 1000.0,
         "capacity_price": 20.0, "energy_price": 20.0, "baseline": "no_event"}
    ]  # fmt: skip
    c["uncertainty"] = {
        "scenarios": [
            {"name": "low", "probability": 0.5,
             "series": [_write(tmp_path / "lo.csv", dem=[12.0] * 4)]},
            {"name": "high", "probability": 0.5,
             "series": [_write(tmp_path / "hi.csv", dem=[18.0] * 4)]},
        ]
    }  # fmt: skip
    index = pd.date_range("2026-07-15 00:00", periods=4, freq="1h")
    return suandian.load_scenario(c, series=_frame(index, dem=[15.0] * 4), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("rule", "baselines", "commit", "expected"),
    [
        ("mean_forecast", [3.85, 3.85], 0.48, 1540.0 - (60.0 - SHIFT) * 0.48),
        ("per_scenario", [3.52, 4.18], 0.81, 1540.0 - (60.0 - SHIFT) * 0.81),
    ],
)
def test_the_dr_baseline_of_a_two_stage_plan(tmp_path, rule, baselines, commit, expected):
    """Delivering ``b`` MW from the battery in both event periods costs ``SHIFT`` = 46.9136
    CNY per MW (``tests/test_demand_response.py``), ``b <= 0.81``; a commitment ``d`` earns
    20 d (capacity) + 2 x 20 d (energy) = 60 d in each scenario it is delivered in, and the
    shortfall (1000 CNY/MWh) is never worth it. Without the event the plan costs
    ``0.5 (4 x 3.52 + 4 x 4.18) x 100 = 1540``.

    * ``mean_forecast``: one baseline, the mean forecast's (15 units) plan without the event:
      3.85 MW in both members. Low draws 3.52, 0.33 below it: ``b = max(0, d - 0.33)``.
      High draws 4.18, 0.33 above it: ``b = d + 0.33 <= 0.81``, so ``d <= 0.48``. Expected
      net per ``d``: ``60 d - SHIFT/2 (d + 0.33) - SHIFT/2 max(0, d - 0.33)``, rising with
      slope ``60 - SHIFT = 13.09`` between 0.33 and 0.48 (and positive at 0.33): ``d = 0.48``,
      cost ``1540 - 13.0864 x 0.48 = 1533.72``.
    * ``per_scenario``: each member's own plan without the event, 3.52 and 4.18 MW: each
      reduces by ``b = d <= 0.81``: ``d = 0.81``, cost ``1540 - 13.0864 x 0.81 = 1529.40``.
    """
    rp = suandian.solve_stochastic(_dr_two_demands(tmp_path), mip_rel_gap=0.0, dr_baseline=rule)
    assert rp.status == "optimal"
    assert rp.certify() == []
    for r, base in zip(rp.results, baselines, strict=True):
        drawn = r.ds["dr_baseline"].sel(dr_event="ev", site="s1").values
        assert drawn == pytest.approx([0.0, base, base, 0.0], abs=1e-6)
    assert rp.first_stage["dr.p_dr_commit"].values.ravel() == pytest.approx([commit], abs=1e-6)
    assert rp.expected_cost == pytest.approx(expected, abs=1e-4)
    if rule == "mean_forecast":
        assert "plan of " in rp.results[0].ds.attrs["dr_baseline_rules"]


def test_an_unknown_dr_baseline_rule_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="dr_baseline 'mean'.*mean_forecast, per_scenario"):
        suandian.solve_stochastic(_dr_two_demands(tmp_path), dr_baseline="mean")


@pytest.mark.parametrize("free", [False, True])
def test_the_start_from_the_mean_forecasts_first_stage(tmp_path, monkeypatch, free):
    """The members of ``test_the_dr_baseline_of_a_two_stage_plan`` (mean-forecast baseline
    3.85 MW). The mean forecast (15 units) alone is that test's single day: its own baseline
    3.85, the battery delivers ``b = d <= 0.81``: it commits ``d = 0.81``, taking part.

    * That first stage settled on the members, member by member (no target ties them), is
      the start (the EEV): capacity ``-20 x 0.81``; low (3.52 MW) needs ``b = 0.48``,
      credited ``2 x 20 x 0.81``; high (4.18 MW) reduces at most ``0.81 - 0.33 = 0.48`` with
      the battery at its 0.81 (each MW of it saves 2 x 1000 of shortfall), credited
      ``2 x 20 x 0.48``, short ``2 x 1000 x 0.33``. Expected:
      ``1540 - 16.2 + 0.5 (-32.4 + 0.48 SHIFT) + 0.5 (-19.2 + 0.81 SHIFT + 660)`` = 1858.26.
    * With ``FREE_CONTINUOUS`` the start then holds that first stage's integers (taking
      part: ``u = 1``) and chooses its continuous part (the MW committed) with the recourse:
      ``d = 0.48``, the optimum of the test above, 1533.72.

    Either way the branch and bound ends at that optimum.
    """
    monkeypatch.setattr(stochastic, "FREE_CONTINUOUS", free)
    sc = _dr_two_demands(tmp_path)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    eev = 1540.0 - 16.2 + 0.5 * (-32.4 + 0.48 * SHIFT) + 0.5 * (-19.2 + 0.81 * SHIFT + 660.0)
    best = 1540.0 - (60.0 - SHIFT) * 0.48
    if free:
        assert rp.info.start["step"] == "mean_forecast+members>continuous"
        assert rp.info.start["objective"] == pytest.approx(best, abs=1e-4)
    else:
        assert rp.info.start["step"] == "mean_forecast+members"
        assert rp.info.start["objective"] == pytest.approx(eev, abs=1e-4)
    assert rp.expected_cost == pytest.approx(best, abs=1e-4)
    assert rp.certify() == []
    if free:
        return
    plan = dict(rp.first_stage)
    plan["dr.p_dr_commit"] = plan["dr.p_dr_commit"] * 0.0 + 0.81
    settled = suandian.evaluate_plan(plan, sc, mip_rel_gap=0.0)
    assert settled.expected_cost == pytest.approx(eev, abs=1e-4)
    assert settled.certify() == []
    relaxed = suandian.solve_stochastic(sc, mip_rel_gap=0.0, start="relaxation")
    assert relaxed.expected_cost == pytest.approx(best, abs=1e-4)
    assert "mean_forecast" not in relaxed.info.start.get("step", "")
