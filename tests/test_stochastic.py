"""Two-stage stochastic day-ahead plans (``docs/math/stochastic.md``).

Scenarios of tomorrow (user-given, generated, reduced), the spot settlement of a day-ahead
position, the two-stage plan, and the numbers an operator checks it by (VSS, EVPI, out of
sample). Every case is the base site of ``conftest.base_config``: 2 blocks of 10 units, IT
``idle 1 + 0.1 x units`` per block on, facility ``1.1 x IT``.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario

import suandian
from suandian.scenario.uncertainty import ar1_errors, fast_forward, scenario_set

INDEX1 = pd.date_range("2026-07-15 00:00", periods=1, freq="1h")


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
    4 by fast forward selection, 5 held out: 4 members whose probabilities sum to 1, each
    demand within the draws' range, an error below the single best scenario's; the same
    seed gives the same set."""
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


def test_error_model_of_an_unknown_series():
    c = _given_config()
    c["uncertainty"] = {"errors": [{"series": "pv", "kind": "pv"}], "samples": 3}
    sc = scenario(c, _frame(dem=[10.0]))
    with pytest.raises(suandian.ScenarioError, match=r"uncertainty.errors\[0\].series"):
        scenario_set(sc)


def test_scenarios_and_errors_together_are_refused():
    c = _given_config()
    c["uncertainty"] = {
        "scenarios": [{"name": "a", "probability": 1.0}],
        "errors": [{"series": "dem", "kind": "demand"}],
    }
    with pytest.raises(suandian.ScenarioError, match="not both"):
        scenario(c, _frame(dem=[10.0]))


def _copy(c: dict) -> dict:
    return copy.deepcopy(c)
