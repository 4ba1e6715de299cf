"""Build the hourly reference time series of the year scenario (2026, 8,760 h).

Writes, next to this file, four CSV files for 2026-01-01 00:00 .. 2026-12-31 23:00 (hourly)::

    weather_2026.csv             dry-bulb, dew-point, RH and wet-bulb temperatures
    renewable_profiles_2026.csv  PV and wind availability per unit (0..1), the corridor's
                                 contracted renewable output (MW)
    compute_demand_2026.csv      interactive inference demand (PFLOPS)
    grid_cfe_2026.csv            carbon-free share of each node's grid mix (0..1)

and the generated ``batch:`` section of ``../models/chongqing_hami_year.yaml`` (between its
``# BEGIN generated batch jobs`` and ``# END generated batch jobs`` lines).

The columns have the names of the day files (``build_default_data.py``) where their meaning
is the same, so the day scenario's fields map over. Every value comes from documented
formulas (monthly climate normals, a diurnal cycle, solar geometry, a power curve) plus
seeded autoregressive weather noise (``numpy.random.default_rng(SEED)``): two runs give
byte-identical files, and nothing is downloaded. Method, parameters and sources: the
``*_2026.provenance.md`` file next to each CSV.

Run::

    python data/build_year_data.py

Conventions
-----------
* ``time`` is the START of each hour, local China time (UTC+8), no time zone.
* Quantities are evaluated at the hour's midpoint (PV: the mean of four quarter-hour
  midpoints), i.e. they stand for the hour's average.
* The whole data set is illustrative reference data, not measurements.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "models" / "chongqing_hami_year.yaml"
YEAR = 2026
SEED = 20260101
START = pd.Timestamp(f"{YEAR}-01-01 00:00")
HOURS = 8760
#: the day of the default scenario: the year's data are scaled so that this day's levels
#: (demand) match the day file's, and the comparison in the provenance notes uses it
REFERENCE_DAY = pd.Timestamp(f"{YEAR}-07-15")

SITES = {
    "chongqing": {"lat": 29.56, "lon": 106.55},
    "hami": {"lat": 42.83, "lon": 93.51},
}

# --------------------------------------------------------------------------------------
# Monthly climate normals (mid-month), see weather_2026.provenance.md.
# Anchors [S] (domain-facts 3.6, weather-and-climate.com): Chongqing January high ~12 /
# night ~6 degC, July/August highs ~33-34; Hami highs -2 (Jan) .. 36 (Jul), lows -15 .. 22.
# Other months [R] (interpolated recollection of the 1991-2020 normals). July equals the
# day file's hot July day (33.5 / 24.5 and 36 / 22) so 2026-07-15 has the day's magnitude.
# Dew points [R]: Chongqing humid all year (RH ~75-85 %), Hami arid (RH ~20-40 % in summer).
# --------------------------------------------------------------------------------------
NORMALS = {
    "chongqing": {
        "high": [12.0, 14.5, 19.0, 24.0, 27.5, 30.0, 33.5, 34.0, 28.5, 22.0, 17.0, 12.5],
        "low": [6.0, 7.8, 11.0, 15.5, 19.0, 22.0, 24.5, 24.8, 21.0, 16.5, 11.8, 7.5],
        "dew_point": [4.0, 5.5, 8.5, 13.0, 17.0, 20.5, 23.0, 22.5, 19.0, 14.5, 10.0, 5.5],
    },
    "hami": {
        "high": [-2.0, 4.0, 13.0, 22.0, 29.0, 34.0, 36.0, 34.5, 28.0, 19.0, 8.0, -0.5],
        "low": [-15.0, -10.0, -2.0, 6.0, 12.5, 18.0, 22.0, 19.5, 12.0, 3.0, -5.5, -13.0],
        "dew_point": [-19.0, -16.0, -10.0, -4.0, 1.0, 6.0, 10.0, 8.0, 2.0, -4.0, -10.0, -16.0],
    },
}
#: hours from solar noon to the daily maximum temperature [R], as in build_default_data.py
PEAK_LAG_H = 2.0
#: synoptic (day-to-day) anomaly of the daily mean temperature: AR(1) per day with lag-1
#: correlation phi; its sd (K) is larger in winter (cold-air outbreaks) than in summer
#: [R: mid-latitude day-to-day persistence ~0.6-0.8, sd ~1.5-2 K in summer, 3-4 K in winter
#: in a continental climate]; sd_winter in mid-January, sd_summer in mid-July, cosine between
SYNOPTIC = {
    "chongqing": {"sd_winter": 2.5, "sd_summer": 1.5, "phi": 0.7},
    "hami": {"sd_winter": 3.5, "sd_summer": 2.0, "phi": 0.7},
}
#: hourly temperature noise on top of the smooth daily curve, AR(1) per hour [A]
HOURLY_NOISE = {"sd": 0.5, "phi": 0.8}
#: dew point anomaly = DEW_COUPLING x temperature anomaly + own noise (sd, K) [A]
DEW_COUPLING, DEW_SD = 0.6, 1.2
#: station pressure, hPa, for the psychrometric wet-bulb: ~240 m (Chongqing, Shapingba) and
#: ~740 m (Hami) above sea level [R]
PRESSURE_HPA = {"chongqing": 985.0, "hami": 930.0}

# --------------------------------------------------------------------------------------
# PV: clear-sky irradiance on a south-facing fixed tilt [A: ~latitude - 8 deg] x a daily sky
# factor (cloud, haze, dust, snow) x a scale calibrated to the annual capacity factor. See
# renewable_profiles_2026.provenance.md.
# --------------------------------------------------------------------------------------
PV = {
    # annual CF: Xinjiang ~1,580 full-load h in 2014 (CF ~18 %) [V], Hami 18-20 % [R];
    # sky factor by month [A]: Hami clear most of the year (3,300-3,500 sunshine h [S]),
    # dust in spring; Chongqing overcast and foggy in winter (1,000-1,400 sunshine h [S])
    "hami": {
        "annual_cf": 0.19,
        "tilt": 35.0,
        "sky": [0.72, 0.76, 0.76, 0.76, 0.8, 0.83, 0.85, 0.86, 0.86, 0.82, 0.76, 0.7],
        "sky_sd": 0.12,
    },
    # Chongqing: PV CF ~10-11 % [R]
    "chongqing": {
        "annual_cf": 0.105,
        "tilt": 20.0,
        "sky": [0.3, 0.35, 0.42, 0.48, 0.52, 0.55, 0.66, 0.68, 0.55, 0.4, 0.34, 0.28],
        "sky_sd": 0.15,
    },
}
#: lag-1 correlation of the daily sky factor [A]
SKY_PHI = 0.5

# --------------------------------------------------------------------------------------
# Wind (Hami): hourly hub-height speed = V x seasonal factor x diurnal factor x exp(AR noise)
# through a generic power curve; V calibrated to the annual CF. wind_hami_pu.
# --------------------------------------------------------------------------------------
WIND = {
    # annual CF: Xinjiang ~2,272 h in 2014 (CF ~26 %) [V]; Hami 25-30 % [R]; the day file's 0.27
    "annual_cf": 0.27,
    # relative monthly mean speed [A]: windiest in spring and early summer, calmest in winter
    "season": [0.86, 0.9, 1.04, 1.14, 1.14, 1.08, 1.0, 0.96, 0.95, 0.95, 0.92, 0.86],
    # diurnal: maximum at 22:00, as the day file (amplitude on speed, not on power) [A]
    "diurnal_amplitude": 0.12,
    "peak_hour": 22.0,
    # log-speed noise: AR(1) per hour, synoptic persistence of ~1-2 days [A]
    "log_sd": 0.38,
    "phi": 0.96,
}
#: generic 3-MW-class power curve [R]: cut-in 3 m/s, rated 12 m/s, cut-out 25 m/s, cubic rise
POWER_CURVE = {"cut_in": 3.0, "rated": 12.0, "cut_out": 25.0}
#: the buyer's contracted wind and PV at the sending end of the corridor, MW [A], as the day
CORRIDOR_GREEN = {"wind_mw": 30.0, "pv_mw": 40.0}

# --------------------------------------------------------------------------------------
# Interactive demand, PFLOPS: the day file's diurnal shape and min/max on 2026-07-15 (a
# Wednesday), x a weekday factor x growth over the year x AR(1) noise [A].
# --------------------------------------------------------------------------------------
DEMAND = {
    # consumer chat: a little busier at the weekend [A]
    "inference_chongqing_pflops": {
        "min": 5000.0,
        "max": 16000.0,
        "week": [1.0, 1.0, 1.0, 1.0, 1.01, 1.05, 1.04],
    },
    # enterprise / API inference: quieter at the weekend [A]
    "inference_hami_pflops": {
        "min": 4000.0,
        "max": 10000.0,
        "week": [1.0, 1.0, 1.0, 1.0, 0.98, 0.84, 0.82],
    },
}
#: demand growth over the year, compounded: x1.10 a year [A] (+10 %/yr, i.e. ~0.95 on
#: 1 January and ~1.05 on 31 December relative to 15 July)
DEMAND_GROWTH = 0.10
DEMAND_NOISE = {"sd": 0.03, "phi": 0.9}

# --------------------------------------------------------------------------------------
# Grid carbon-free share per node [R-derived / A], see grid_cfe_2026.provenance.md
# --------------------------------------------------------------------------------------
GRID_CFE = {
    # annual mean 1 - 0.5581 / 0.85 = 0.34 (the day file's constant); hydro season (Jun-Oct)
    # higher: +-0.08 annual swing peaking in early August [A]; midday solar +0.05 x PV
    "chongqing": {"mean": 0.34, "swing": 0.08, "peak_doy": 215, "pv": 0.05},
    # annual mean 1 - 0.6021 / 0.85 = 0.29; Xinjiang's mix follows its own wind and PV: the
    # share rises with Hami's wind and PV output (coefficients per unit) [A]
    "hami": {"mean": 0.29, "wind": 0.3, "pv": 0.25},
}

DECIMALS = {"degc": 2, "pct": 1, "pu": 4, "mw": 3, "pflops": 1}


# ============================================================================ helpers
def time_index() -> pd.DatetimeIndex:
    return pd.date_range(START, periods=HOURS, freq="1h")


def ar1(rng: np.random.Generator, n: int, sd: float, phi: float) -> np.ndarray:
    """A stationary AR(1) series of length n with standard deviation sd and lag-1 phi."""
    e = rng.normal(0.0, sd * np.sqrt(1.0 - phi**2), n)
    x = np.empty(n)
    x[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def monthly_to_daily(values: list[float], days: pd.DatetimeIndex) -> np.ndarray:
    """Mid-month normals linearly interpolated to each day (periodic over the year)."""
    mids = np.array([pd.Timestamp(YEAR, m, 15).day_of_year for m in range(1, 13)], float)
    x = np.concatenate([mids - 365.0, mids, mids + 365.0])
    y = np.tile(np.asarray(values, float), 3)
    return np.interp(days.day_of_year.to_numpy(float), x, y)


def equation_of_time_min(doy: np.ndarray) -> np.ndarray:
    """Spencer-type approximation (minutes), as in build_default_data.py."""
    b = np.radians(360.0 * (doy - 81) / 364.0)
    return 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)


def declination_deg(doy: np.ndarray) -> np.ndarray:
    """Cooper (1969)."""
    return 23.45 * np.sin(np.radians(360.0 * (284 + doy) / 365.0))


def solar_noon_local(lon: float, doy: np.ndarray) -> np.ndarray:
    """Solar noon in China Standard Time (UTC+8, meridian 120 E), hours."""
    return 12.0 + (120.0 - lon) * 4.0 / 60.0 - equation_of_time_min(doy) / 60.0


def cos_zenith(lat: float, lon: float, doy: np.ndarray, clock_h: np.ndarray) -> np.ndarray:
    """cos of the solar zenith angle at local clock time (UTC+8), >= 0."""
    omega = np.radians(15.0 * (clock_h - solar_noon_local(lon, doy)))
    phi, delta = np.radians(lat), np.radians(declination_deg(doy))
    c = np.sin(phi) * np.sin(delta) + np.cos(phi) * np.cos(delta) * np.cos(omega)
    return np.clip(c, 0.0, None)


def clear_sky_poa(
    lat: float, lon: float, tilt: float, doy: np.ndarray, clock_h: np.ndarray
) -> np.ndarray:
    """Clear-sky irradiance on a south-facing plane tilted by ``tilt`` degrees, W/m2.

    Beam normal by Meinel (1976): ``DNI = 1353 x 0.7**(AM**0.678)``, air mass ``1/cosZ``;
    diffuse horizontal ``0.1 x DNI`` on an isotropic sky; ground reflection left out. The
    incidence on the plane: ``cos(theta) = sin(d) sin(phi - b) + cos(d) cos(phi - b) cos(w)``
    (northern hemisphere, facing south).
    """
    cz = cos_zenith(lat, lon, doy, clock_h)
    omega = np.radians(15.0 * (clock_h - solar_noon_local(lon, doy)))
    d, pb = np.radians(declination_deg(doy)), np.radians(lat - tilt)
    cos_inc = np.clip(np.sin(d) * np.sin(pb) + np.cos(d) * np.cos(pb) * np.cos(omega), 0, None)
    up = cz > 0.02
    dni = np.zeros_like(cz)
    dni[up] = 1353.0 * 0.7 ** ((1.0 / cz[up]) ** 0.678)
    sky = 0.1 * dni * (1.0 + np.cos(np.radians(tilt))) / 2.0
    return np.where(up, dni * cos_inc + sky, 0.0)


def saturation_vapour_pressure_hpa(t: np.ndarray) -> np.ndarray:
    """Magnus formula over water (WMO 2008 coefficients 6.112, 17.62, 243.12)."""
    return 6.112 * np.exp(17.62 * t / (243.12 + t))


def wet_bulb_psychrometric(t: np.ndarray, dew: np.ndarray, p_hpa: float) -> np.ndarray:
    """Wet-bulb (degC) solving e = e_s(Tw) - A p (T - Tw), A = 6.53e-4 (1 + 0.000944 Tw) / K.

    The psychrometer equation of a ventilated psychrometer over water (WMO guide), solved by
    bisection between the dew point and the dry-bulb; valid below freezing too, unlike the
    Stull (2011) fit of the day file (which holds for -20..50 degC, RH 5-99 %).
    """
    e = saturation_vapour_pressure_hpa(dew)
    lo, hi = dew.copy(), t.copy()
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        f = saturation_vapour_pressure_hpa(mid) - 6.53e-4 * (1 + 0.000944 * mid) * p_hpa * (t - mid)
        above = f > e
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


def power_curve(v: np.ndarray) -> np.ndarray:
    """Per-unit output of the generic power curve (cubic between cut-in and rated)."""
    c = POWER_CURVE
    p = (v**3 - c["cut_in"] ** 3) / (c["rated"] ** 3 - c["cut_in"] ** 3)
    p = np.where(v < c["cut_in"], 0.0, p)
    p = np.where(v >= c["rated"], 1.0, p)
    return np.where(v >= c["cut_out"], 0.0, p)


def inference_shape(h: np.ndarray) -> np.ndarray:
    """The day file's normalised diurnal shape (build_default_data.inference_shape)."""
    s = 0.75 * (1.0 - np.cos(2.0 * np.pi * (h - 4.0) / 24.0)) / 2.0
    s = s + 0.35 * np.exp(-0.5 * ((h - 21.0) / 1.5) ** 2)
    grid = np.linspace(0.0, 24.0, 24 * 60, endpoint=False)
    ref = 0.75 * (1.0 - np.cos(2.0 * np.pi * (grid - 4.0) / 24.0)) / 2.0
    ref = ref + 0.35 * np.exp(-0.5 * ((grid - 21.0) / 1.5) ** 2)
    return (s - ref.min()) / (ref.max() - ref.min())


def bisect_scale(f, target: float, lo: float, hi: float) -> float:
    """The x in [lo, hi] with f(x) = target for an increasing f."""
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# ============================================================================ build
def build_weather(rng: np.random.Generator, idx: pd.DatetimeIndex) -> pd.DataFrame:
    days = pd.date_range(START, periods=HOURS // 24, freq="1D")
    day_of = np.repeat(np.arange(len(days)), 24)
    h = idx.hour.to_numpy(float) + 0.5
    doy = idx.day_of_year.to_numpy(float)
    out = pd.DataFrame(index=idx)
    for city, normals in NORMALS.items():
        high = monthly_to_daily(normals["high"], days)
        low = monthly_to_daily(normals["low"], days)
        dew = monthly_to_daily(normals["dew_point"], days)
        q = SYNOPTIC[city]
        winter = (1.0 + np.cos(2.0 * np.pi * (days.day_of_year.to_numpy(float) - 15) / 365)) / 2
        sd = q["sd_summer"] + (q["sd_winter"] - q["sd_summer"]) * winter
        syn = sd * ar1(rng, len(days), 1.0, q["phi"])
        # cloudy (cool-anomaly) days have a smaller diurnal range [A]: x (1 + 0.08 anomaly)
        amp = np.clip((high - low) / 2.0 * (1.0 + 0.08 * syn), 1.0, None)
        mean = (high + low) / 2.0 + syn
        peak = solar_noon_local(SITES[city]["lon"], doy) + PEAK_LAG_H
        t = mean[day_of] + amp[day_of] * np.cos(2.0 * np.pi * (h - peak) / 24.0)
        t = t + ar1(rng, HOURS, HOURLY_NOISE["sd"], HOURLY_NOISE["phi"])
        dp_day = dew + DEW_COUPLING * syn + ar1(rng, len(days), DEW_SD, 0.6)
        dp = np.minimum(dp_day[day_of], t - 0.3)  # never above the dry-bulb (RH <= ~98 %)
        rh = 100.0 * saturation_vapour_pressure_hpa(dp) / saturation_vapour_pressure_hpa(t)
        out[f"ambient_{city}_degc"] = t
        out[f"dewpoint_{city}_degc"] = dp
        out[f"rh_{city}_pct"] = rh
        out[f"wetbulb_{city}_degc"] = wet_bulb_psychrometric(t, dp, PRESSURE_HPA[city])
    return out


def build_pv(rng: np.random.Generator, idx: pd.DatetimeIndex, city: str) -> np.ndarray:
    """Hourly PV per unit: mean clear-sky GHI of the hour x sky factor x calibrated scale."""
    p = PV[city]
    days = pd.date_range(START, periods=HOURS // 24, freq="1D")
    day_of = np.repeat(np.arange(len(days)), 24)
    doy = idx.day_of_year.to_numpy(float)
    ghi = np.zeros(HOURS)  # plane-of-array clear-sky irradiance, hour mean
    for q in (0.125, 0.375, 0.625, 0.875):  # four quarter-hour midpoints
        clock = idx.hour.to_numpy(float) + q
        ghi += clear_sky_poa(SITES[city]["lat"], SITES[city]["lon"], p["tilt"], doy, clock) / 4
    sky_day = monthly_to_daily(p["sky"], days) + ar1(rng, len(days), p["sky_sd"], SKY_PHI)
    sky_day = np.clip(sky_day, 0.05, 1.0)
    sky = np.clip(sky_day[day_of] * np.exp(ar1(rng, HOURS, 0.1, 0.7)), 0.0, 1.0)
    raw = ghi / 1000.0 * sky

    def cf(scale: float) -> float:
        return float(np.minimum(scale * raw, 1.0).mean())

    scale = bisect_scale(cf, p["annual_cf"], 0.1, 3.0)
    return np.minimum(scale * raw, 1.0)


def build_wind(rng: np.random.Generator, idx: pd.DatetimeIndex) -> np.ndarray:
    days = pd.date_range(START, periods=HOURS // 24, freq="1D")
    day_of = np.repeat(np.arange(len(days)), 24)
    h = idx.hour.to_numpy(float) + 0.5
    season = monthly_to_daily(WIND["season"], days)[day_of]
    diurnal = 1.0 + WIND["diurnal_amplitude"] * np.cos(2.0 * np.pi * (h - WIND["peak_hour"]) / 24.0)
    x = ar1(rng, HOURS, WIND["log_sd"], WIND["phi"])
    # E[exp(x)] = exp(sd^2/2): centre the noise so the seasonal factor is the mean speed
    shape = season * diurnal * np.exp(x - WIND["log_sd"] ** 2 / 2.0)

    def cf(v_mean: float) -> float:
        return float(power_curve(v_mean * shape).mean())

    v_mean = bisect_scale(cf, WIND["annual_cf"], 2.0, 15.0)
    return power_curve(v_mean * shape)


def build_demand(rng: np.random.Generator, idx: pd.DatetimeIndex) -> pd.DataFrame:
    h = idx.hour.to_numpy(float) + 0.5
    years = (idx - (REFERENCE_DAY + pd.Timedelta(hours=12))) / pd.Timedelta(days=365)
    growth = (1.0 + DEMAND_GROWTH) ** years.to_numpy(float)
    out = pd.DataFrame(index=idx)
    shape = inference_shape(h)
    for column, p in DEMAND.items():
        week = np.asarray(p["week"])[idx.day_of_week.to_numpy()]
        noise = np.exp(ar1(rng, HOURS, DEMAND_NOISE["sd"], DEMAND_NOISE["phi"]))
        out[column] = (p["min"] + (p["max"] - p["min"]) * shape) * week * growth * noise
    return out


def grid_cfe_shares(
    doy: np.ndarray, ren: pd.DataFrame, annual: dict[str, float]
) -> dict[str, np.ndarray]:
    """The nodes' carbon-free shares from the day of year and the renewable profiles.

    ``annual`` holds the year's means the terms are centred on: ``swing`` (the mean of the
    seasonal cosine over the year's hours) and the annual capacity factors ``pv_chongqing_pu``,
    ``wind_hami_pu``, ``pv_hami_pu``. The year passes its own means; the day file
    (``build_default_data.py``) passes the year's calibration targets, which they equal, so
    both files follow one formula (grid_cfe_2026.provenance.md).
    """
    c, m = GRID_CFE["chongqing"], GRID_CFE["hami"]
    season = np.cos(2.0 * np.pi * (doy - c["peak_doy"]) / 365.0)
    cq = c["swing"] * (season - annual["swing"]) + c["pv"] * (
        ren["pv_chongqing_pu"].to_numpy() - annual["pv_chongqing_pu"]
    )
    hm = m["wind"] * (ren["wind_hami_pu"].to_numpy() - annual["wind_hami_pu"]) + m["pv"] * (
        ren["pv_hami_pu"].to_numpy() - annual["pv_hami_pu"]
    )
    return {
        "grid_cfe_chongqing_pu": c["mean"] + cq,
        "grid_cfe_hami_pu": np.clip(m["mean"] + hm, 0.05, 0.95),
    }


def build_grid_cfe(idx: pd.DatetimeIndex, ren: pd.DataFrame) -> pd.DataFrame:
    doy = idx.day_of_year.to_numpy(float) + idx.hour.to_numpy(float) / 24.0
    c = GRID_CFE["chongqing"]
    annual = {
        "swing": float(np.cos(2.0 * np.pi * (doy - c["peak_doy"]) / 365.0).mean()),
        **{
            col: float(ren[col].mean()) for col in ("pv_chongqing_pu", "wind_hami_pu", "pv_hami_pu")
        },
    }
    return pd.DataFrame(grid_cfe_shares(doy, ren, annual), index=idx)


def build() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(SEED)
    idx = time_index()
    weather = build_weather(rng, idx)
    ren = pd.DataFrame(index=idx)
    ren["pv_hami_pu"] = build_pv(rng, idx, "hami")
    ren["wind_hami_pu"] = build_wind(rng, idx)
    ren["pv_chongqing_pu"] = build_pv(rng, idx, "chongqing")
    wind, pv = CORRIDOR_GREEN["wind_mw"], CORRIDOR_GREEN["pv_mw"]
    ren["corridor_green_hami_mw"] = wind * ren["wind_hami_pu"] + pv * ren["pv_hami_pu"]
    demand = build_demand(rng, idx)
    cfe = build_grid_cfe(idx, ren)
    return {
        f"weather_{YEAR}.csv": weather,
        f"renewable_profiles_{YEAR}.csv": ren,
        f"compute_demand_{YEAR}.csv": demand,
        f"grid_cfe_{YEAR}.csv": cfe,
    }


# ============================================================================ batch jobs
def batch_jobs(rng: np.random.Generator) -> list[dict]:
    """The year's batch jobs [A], as mappings for the scenario's ``batch:`` section.

    * ``train_wNN``: a training run a week, released Monday 00:00 and due the next Monday
      00:00 (the first from 1 January, the last due at the horizon's end), 25,000 PFLOPS on
      average over its window (4.2 M PFLOPS h a full week), at most 40,000 (5 blocks);
    * ``ft_MMDD``: the day file's fine-tune on every weekday, 10:00 -> 20:00, 60,000 PFLOPS h;
    * ``ftl_NN``: a longer fine-tune about once a week, released at a random hour, 24-72 h
      window, 30-60 % of its window at 16,000 PFLOPS (seeded).
    """
    end = START + pd.Timedelta(hours=HOURS)
    jobs: list[dict] = []
    train = {
        "max_rate": 40000.0,
        "sites": ["hm_dc", "cq_dc"],
        "placement": "one_site",
        "placement_hours": 4.0,
        "checkpoint_tb": 5.0,
        "restore_hours": 0.25,
    }
    mondays = pd.date_range(START, end, freq="W-MON")
    bounds = [START, *[m for m in mondays if m > START], end]
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True), start=1):
        hours = (b - a) / pd.Timedelta(hours=1)
        jobs.append(
            {
                "name": f"train_w{k:02d}",
                "work": 25000.0 * hours,
                "release": a,
                "deadline": b,
                **train,
            }
        )
    ft = {
        "max_rate": 16000.0,
        "sites": ["cq_dc", "hm_dc"],
        "placement": "one_site",
        "placement_hours": 2.0,
        "checkpoint_tb": 0.5,
        "restore_hours": 0.25,
    }
    for day in pd.date_range(START, end - pd.Timedelta(days=1), freq="1D"):
        if day.day_of_week < 5:
            jobs.append(
                {
                    "name": f"ft_{day:%m%d}",
                    "work": 60000.0,
                    "release": day + pd.Timedelta(hours=10),
                    "deadline": day + pd.Timedelta(hours=20),
                    **ft,
                }
            )
    k = 0
    t = START + pd.Timedelta(hours=int(rng.integers(24, 120)))
    while True:
        length = int(rng.integers(24, 73))
        if t + pd.Timedelta(hours=length) > end:
            break
        k += 1
        share = float(rng.uniform(0.3, 0.6))
        jobs.append(
            {
                "name": f"ftl_{k:02d}",
                "work": round(16000.0 * length * share, -3),
                "release": t,
                "deadline": t + pd.Timedelta(hours=length),
                **ft,
            }
        )
        t = t + pd.Timedelta(hours=int(rng.integers(120, 216)))
    return jobs


def _yaml_value(v: object) -> str:
    if isinstance(v, pd.Timestamp):
        return f"'{v:%Y-%m-%d %H:%M}'"
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def batch_yaml(jobs: list[dict]) -> str:
    lines = []
    for job in jobs:
        fields = ", ".join(f"{k}: {_yaml_value(v)}" for k, v in job.items())
        lines.append(f"  - {{{fields}}}")
    return "\n".join(lines) + "\n"


def write_batch(jobs: list[dict], path: Path = SCENARIO) -> None:
    """Replace the generated block of the scenario's ``batch:`` section."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(
        r"(# BEGIN generated batch jobs[^\n]*\n)(.*?)(  # END generated batch jobs)", re.S
    )
    if not pattern.search(text):
        raise SystemExit(f"{path}: no '# BEGIN/END generated batch jobs' block")
    path.write_text(pattern.sub(lambda m: m[1] + batch_yaml(jobs) + m[3], text), encoding="utf-8")


# ============================================================================ output
def _decimals(column: str) -> int:
    return DECIMALS[column.rsplit("_", 1)[-1]]


def write(frames: dict[str, pd.DataFrame], directory: Path = HERE) -> None:
    for name, frame in frames.items():
        out = frame.copy()
        for column in out:
            out[column] = out[column].round(_decimals(column))
        out.index.name = "time"
        out.index = out.index.strftime("%Y-%m-%d %H:%M:%S")
        out.to_csv(directory / name, lineterminator="\n")


def summary(frames: dict[str, pd.DataFrame]) -> str:
    lines = []
    for name, frame in frames.items():
        lines.append(f"{name}:")
        desc = frame.agg(["min", "mean", "max"]).T.round(3)
        lines.append(desc.to_string())
        monthly = frame.groupby(frame.index.month).mean().T.round(2)
        lines.append("monthly means:\n" + monthly.to_string())
    return "\n".join(lines)


if __name__ == "__main__":
    frames = build()
    write(frames)
    write_batch(batch_jobs(np.random.default_rng(SEED + 1)))
    if "-q" not in sys.argv:
        print(summary(frames))
