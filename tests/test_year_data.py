"""The year scenario (models/chongqing_hami_year.yaml) and its hourly 2026 data files.

The data are synthetic (data/build_year_data.py, seeded): the checks are the physical ranges
and identities the construction guarantees, and that 15 July of the year has the magnitude
of the day scenario's files where a column means the same thing. No year solve: one 24-h
window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

import suandian

YEAR_SCENARIO = ROOT / "models" / "chongqing_hami_year.yaml"
DATA = ROOT / "data"
FILES = ("weather", "renewable_profiles", "compute_demand", "grid_cfe")
DAY = "2026-07-15"


def _year(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}_2026.csv", index_col="time", parse_dates=True)


def _day_hourly(name: str) -> pd.DataFrame:
    """The day file's 15-min values averaged over each hour (the year's values are hourly)."""
    day = pd.read_csv(DATA / f"{name}_{DAY}.csv", index_col="time", parse_dates=True)
    return day.resample("1h").mean()


@pytest.fixture(scope="module")
def year() -> dict[str, pd.DataFrame]:
    return {name: _year(name) for name in FILES}


def test_year_scenario_loads_with_8760_hourly_periods():
    sc = suandian.load_scenario(YEAR_SCENARIO)
    assert sc.periods == 8760
    assert sc.dt == 1.0
    assert sc.time[0] == pd.Timestamp("2026-01-01 00:00")
    assert sc.time[-1] == pd.Timestamp("2026-12-31 23:00")
    # the jobs span the year and several span more than a day
    spans = [(j.name, sc.time.get_loc(j.release)) for j in sc.config.batch]
    assert min(s for _, s in spans) == 0 and max(s for _, s in spans) > 8760 - 24 * 7
    assert sum(1 for j in sc.config.batch if j.name.startswith(("train_", "ftl_"))) >= 52


def test_time_columns_complete_and_hourly(year):
    expected = pd.date_range("2026-01-01 00:00", "2026-12-31 23:00", freq="1h")
    assert len(expected) == 8760
    for name, frame in year.items():
        assert frame.index.equals(expected), name
        assert not frame.isna().any().any(), name


def test_weather_in_physical_ranges(year):
    """Dew point <= wet-bulb <= dry-bulb holds for any moist air (the psychrometric
    ordering); RH in (0, 100]; temperatures inside the cities' records (Hami -32 / 43,
    Chongqing -1.8 / 43.0 degC, domain-facts 3.6) widened by a few K."""
    w = year["weather"]
    for city in ("chongqing", "hami"):
        t, td = w[f"ambient_{city}_degc"], w[f"dewpoint_{city}_degc"]
        tw, rh = w[f"wetbulb_{city}_degc"], w[f"rh_{city}_pct"]
        assert (td <= tw + 0.01).all() and (tw <= t + 0.01).all(), city
        assert rh.between(0.0, 100.0, inclusive="right").all(), city
    assert w["ambient_chongqing_degc"].between(-5.0, 45.0).all()
    assert w["ambient_hami_degc"].between(-35.0, 46.0).all()
    # seasons: July warmer than January by more than 15 K at both sites
    for city in ("chongqing", "hami"):
        col = w[f"ambient_{city}_degc"]
        assert col.loc["2026-07"].mean() - col.loc["2026-01"].mean() > 15.0, city


def test_renewables_in_physical_ranges(year):
    """Per-unit profiles lie in [0, 1], PV is zero at night (00:00-04:00 China time is before
    dawn at both sites all year), the annual capacity factors are the calibration targets
    (Hami PV 0.19, wind 0.27, Chongqing PV 0.105: the scale is solved for them, so they hold
    up to the CSV rounding), and the corridor profile is 30 MW wind + 40 MW PV."""
    r = year["renewable_profiles"]
    for col in ("pv_hami_pu", "wind_hami_pu", "pv_chongqing_pu"):
        assert r[col].between(0.0, 1.0).all(), col
    night = r.index.hour < 4
    assert (r.loc[night, ["pv_hami_pu", "pv_chongqing_pu"]] == 0.0).all().all()
    assert r["pv_hami_pu"].mean() == pytest.approx(0.19, abs=1e-3)
    assert r["wind_hami_pu"].mean() == pytest.approx(0.27, abs=1e-3)
    assert r["pv_chongqing_pu"].mean() == pytest.approx(0.105, abs=1e-3)
    corridor = 30.0 * r["wind_hami_pu"] + 40.0 * r["pv_hami_pu"]
    assert np.allclose(r["corridor_green_hami_mw"], corridor, atol=0.01)


def test_demand_and_grid_cfe_in_ranges(year):
    """Demand positive and within the blocks (6 x 8,000 PFLOPS at cq_dc); the grid's
    carbon-free shares in [0, 1] with the annual estimates (1 - factor / 0.85, the day's former
    constants) as their annual means, and Chongqing's hydro season (Jun-Sep) above its dry
    season (Dec-Feb)."""
    d = year["compute_demand"]
    assert (d > 0).all().all()
    assert d["inference_chongqing_pflops"].max() < 6 * 8000.0
    c = year["grid_cfe"]
    assert c.ge(0.0).all().all() and c.le(1.0).all().all()
    assert c["grid_cfe_chongqing_pu"].mean() == pytest.approx(0.34, abs=2e-3)
    assert c["grid_cfe_hami_pu"].mean() == pytest.approx(0.29, abs=2e-3)
    cq = c["grid_cfe_chongqing_pu"]
    wet = cq[cq.index.month.isin([6, 7, 8, 9])].mean()
    dry = cq[cq.index.month.isin([12, 1, 2])].mean()
    assert wet > dry + 0.1


def test_day_of_the_year_matches_the_day_files(year):
    """2026-07-15 of the year against the day files (15-min values averaged per hour).

    Tolerances, from how the year is built (data/build_year_data.py):

    * demand: the day file's shape and levels x weekday 1 (a Wednesday) x growth 1 at noon
      (x1.10^(+-0.5 d / 365) = +-0.01 %) x AR(1) noise of sd 3 %: the daily mean within 5 %
      and every hour within 15 % (5 sd);
    * temperatures: the July normals are the day file's (33.5 / 24.5 and 36 / 22 degC) plus a
      synoptic anomaly of sd 1.5 (Chongqing) / 2.0 K (Hami) in July: the daily mean within
      2 sd of the larger, 4 K; the wet-bulb (which moves with the dew point as well) within
      4 K too, and the diurnal range within 5 K;
    * PV: the day file is a clear day; the year's day has a sky factor <= 1 around the same
      clear-sky curve: the daily CF between 0.5 and 1.15 x the day's;
    * wind: one day of wind is weather (calm days occur), so the July mean CF within 0.08 of
      the day file's 0.27 (the day file's value is a July mean).
    """
    demand = year["compute_demand"].loc[DAY]
    day = _day_hourly("compute_demand")
    for col in day:
        assert demand[col].mean() == pytest.approx(day[col].mean(), rel=0.05), col
        rel = (demand[col].to_numpy() / day[col].to_numpy()) - 1.0
        assert np.abs(rel).max() < 0.15, col
    w, wd = year["weather"].loc[DAY], _day_hourly("weather")
    for col in ("ambient_chongqing_degc", "ambient_hami_degc"):
        assert abs(w[col].mean() - wd[col].mean()) < 4.0, col
        assert abs(np.ptp(w[col]) - np.ptp(wd[col])) < 5.0, col
    for col in ("wetbulb_chongqing_degc", "wetbulb_hami_degc"):
        assert abs(w[col].mean() - wd[col].mean()) < 4.0, col
    r, rd = year["renewable_profiles"].loc[DAY], _day_hourly("renewable_profiles")
    for col in ("pv_hami_pu", "pv_chongqing_pu"):
        assert 0.5 * rd[col].mean() <= r[col].mean() <= 1.15 * rd[col].mean(), col
    july_wind = year["renewable_profiles"].loc["2026-07", "wind_hami_pu"].mean()
    assert abs(july_wind - rd["wind_hami_pu"].mean()) < 0.08


def test_first_day_window_solves_and_certifies():
    """The year's first 24 h as a window: no job was released before it, so the cut needs
    no state; optimal and certified."""
    sc = suandian.load_scenario(YEAR_SCENARIO)
    result = suandian.solve(sc.window(0, 24))
    assert result.status == "optimal"
    assert result.certify() == []


def test_day_grid_cfe_is_the_year_formula_on_the_day_profiles():
    """The day file's grid carbon-free shares are the year file's function applied to the
    day's own renewable profiles (data/grid_cfe_2026-07-15.provenance.md).

    By hand for the first period (00:00-00:15, midpoint 0.125 h, doy 196.0052; no PV):
    Chongqing 0.34 + 0.08 (cos(2 pi (196.0052 - 215)/365) - 0) + 0.05 (0 - 0.105)
    = 0.34 + 0.08 x 0.94693 - 0.00525 = 0.41050; Hami 0.29 + 0.30 (wind - 0.27)
    + 0.25 (0 - 0.19) with the day's wind at 00:07:30. The year's 15 July sits in the same
    hydro season: Chongqing's daily means agree within 0.01.
    """
    import importlib.util
    import math

    spec = importlib.util.spec_from_file_location("build_year_data", DATA / "build_year_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    day = pd.read_csv(DATA / f"grid_cfe_{DAY}.csv", index_col="time", parse_dates=True)
    ren = pd.read_csv(DATA / f"renewable_profiles_{DAY}.csv", index_col="time", parse_dates=True)
    assert len(day) == 96 and day.index.equals(ren.index)
    doy = (
        day.index.day_of_year.to_numpy(float)
        + (day.index.hour + day.index.minute / 60.0 + 0.125) / 24.0
    )
    annual = {"swing": 0.0, "pv_chongqing_pu": 0.105, "wind_hami_pu": 0.27, "pv_hami_pu": 0.19}
    expected = module.grid_cfe_shares(doy, ren, annual)
    for col, values in expected.items():
        assert np.allclose(day[col].to_numpy(), values, atol=1e-4), col  # CSV rounding
    first = 0.34 + 0.08 * math.cos(2 * math.pi * (196 + 0.125 / 24 - 215) / 365) - 0.05 * 0.105
    assert day["grid_cfe_chongqing_pu"].iloc[0] == pytest.approx(first, abs=6e-5)
    hami0 = 0.29 + 0.30 * (ren["wind_hami_pu"].iloc[0] - 0.27) - 0.25 * 0.19
    assert day["grid_cfe_hami_pu"].iloc[0] == pytest.approx(hami0, abs=1e-4)
    year_day = _year("grid_cfe").loc[DAY]
    assert (
        abs(year_day["grid_cfe_chongqing_pu"].mean() - day["grid_cfe_chongqing_pu"].mean()) < 0.01
    )
