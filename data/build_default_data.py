"""Build the reference time series of the embedded default scenario (one summer day).

Writes, next to this file, four CSV files for 2026-07-15, 96 periods of 15 min::

    weather_2026-07-15.csv             dry-bulb, dew-point and wet-bulb temperatures (degC)
    renewable_profiles_2026-07-15.csv  PV and wind availability per unit of capacity (0..1) and
                                       the corridor's contracted renewable output (MW)
    compute_demand_2026-07-15.csv      interactive inference demand (PFLOPS)
    grid_cfe_2026-07-15.csv            carbon-free share of each node's grid mix (0..1), by
                                       the year's formula (build_year_data.py) from this day's
                                       renewable profiles

Every value comes from a closed-form formula below; there is no randomness and no download,
so running the script twice gives byte-identical files. The formulas, their parameters and the
sources of those parameters are documented in the ``*.provenance.md`` file next to each CSV.

Run::

    python data/build_default_data.py

Conventions
-----------
* ``time`` is the START of each 15-min period, local China time (UTC+8), no time zone.
* Every quantity is evaluated at the period's MIDPOINT (``h = hour + 0.125``), i.e. it stands
  for the period's average.
* The whole data set is illustrative reference data for a typical clear summer day, not
  measurements.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_year_data as year  # noqa: E402  (the grid's carbon-free share: one formula)

HERE = Path(__file__).resolve().parent
DAY = "2026-07-15"
PERIODS = 96
STEP_H = 24.0 / PERIODS
DECIMALS = 4

# --------------------------------------------------------------------------------------
# Sites (latitude, longitude in degrees) -- approximate city coordinates.
# --------------------------------------------------------------------------------------
SITES = {
    "chongqing": {"lat": 29.56, "lon": 106.55},
    "hami": {"lat": 42.83, "lon": 93.51},
}

# --------------------------------------------------------------------------------------
# Weather parameters (July), see weather_2026-07-15.provenance.md
#   T(h) = T_mean + A * cos(2*pi*(h - h_max)/24)        (domain-facts 3.6)
#   T_mean = (high + low)/2, A = (high - low)/2
#   h_max = the city's solar noon (UTC+8) + PEAK_LAG_H: the daily maximum follows the sun, so
#   Hami (93.5 E, solar noon 13:52) peaks about 52 min after Chongqing (106.6 E, 12:59)
#   dew point held constant over the day (assumption); wet-bulb from Stull (2011).
# --------------------------------------------------------------------------------------
WEATHER = {
    # Chongqing: July daily high ~33-34 degC [S]; low 24.5 degC and dew point 23.5 degC [R]
    "chongqing": {"high": 33.5, "low": 24.5, "dew_point": 23.5},
    # Hami: July daily high 36 degC, night low 22 degC [S]; dew point 10 degC [R] (arid)
    "hami": {"high": 36.0, "low": 22.0, "dew_point": 10.0},
}
#: hours from solar noon to the daily maximum temperature [R: 2-3 h on clear days]; 2 h puts
#: Chongqing's maximum at 14:59, the 15:00 of domain-facts 3.6, and Hami's at 15:52
PEAK_LAG_H = 2.0

# --------------------------------------------------------------------------------------
# Renewable parameters, see renewable_profiles_2026-07-15.provenance.md
# --------------------------------------------------------------------------------------
PV = {
    # target daily capacity factor on a clear summer day and bell exponent
    "hami": {"daily_cf": 0.28, "gamma": 1.5},
    "chongqing": {"daily_cf": 0.16, "gamma": 1.5},
}
#   wind(h) = CF_mean * (1 + a * cos(2*pi*(h - h_peak)/24))
WIND = {"hami": {"mean_cf": 0.27, "amplitude": 0.35, "peak_hour": 22.0}}
#: Renewable plant behind the buyer's Hami-Chongqing corridor contract at the sending end, MW
#: (assumption; see renewable_profiles_*.provenance.md): its output bounds the green part of
#: what the corridor delivers in each period.
CORRIDOR_GREEN = {"wind_mw": 30.0, "pv_mw": 40.0}

# --------------------------------------------------------------------------------------
# Interactive demand parameters (PFLOPS), see compute_demand_2026-07-15.provenance.md
# --------------------------------------------------------------------------------------
DEMAND = {
    # consumer chat / assistant traffic served from Chongqing (latency-bound)
    "inference_chongqing_pflops": {"min": 5000.0, "max": 16000.0},
    # API / enterprise inference that tolerates the Hami <-> Chongqing latency
    "inference_hami_pflops": {"min": 4000.0, "max": 10000.0},
}


# --------------------------------------------------------------------------------------
# Grid carbon-free share per node [R-derived / A], see grid_cfe_2026-07-15.provenance.md:
# the year's formula and coefficients (build_year_data.GRID_CFE), centred on the year's
# annual means (its calibration targets), applied to this day's renewable profiles.
# --------------------------------------------------------------------------------------


def grid_cfe(idx: pd.DatetimeIndex, h: np.ndarray, ren: pd.DataFrame) -> pd.DataFrame:
    """Each node's carbon-free share in each period, as the year file builds it.

    The year's terms are centred on its annual means: the seasonal cosine's mean over the
    year's 8,760 hours and the annual capacity factors, which the year's scales are solved
    for (``build_year_data.PV``, ``WIND``). The day of year is taken at the period midpoint.
    """
    year_doy = year.time_index()
    c = year.GRID_CFE["chongqing"]
    doy_year = year_doy.day_of_year.to_numpy(float) + year_doy.hour.to_numpy(float) / 24.0
    annual = {
        "swing": float(np.cos(2.0 * np.pi * (doy_year - c["peak_doy"]) / 365.0).mean()),
        "pv_chongqing_pu": year.PV["chongqing"]["annual_cf"],
        "pv_hami_pu": year.PV["hami"]["annual_cf"],
        "wind_hami_pu": year.WIND["annual_cf"],
    }
    doy = idx.day_of_year.to_numpy(float) + h / 24.0
    return pd.DataFrame(year.grid_cfe_shares(doy, ren, annual), index=idx)


def hours() -> np.ndarray:
    """Midpoint of each period in hours since local midnight."""
    return np.arange(PERIODS) * STEP_H + STEP_H / 2.0


def time_index() -> pd.DatetimeIndex:
    return pd.date_range(f"{DAY} 00:00", periods=PERIODS, freq="15min")


# ---------------------------------------------------------------------------- weather
def dry_bulb(h: np.ndarray, high: float, low: float, peak_hour: float = 15.0) -> np.ndarray:
    """T(h) = T_mean + A cos(2 pi (h - h_max)/24): maximum at h_max, minimum 12 h earlier."""
    mean, amp = (high + low) / 2.0, (high - low) / 2.0
    return mean + amp * np.cos(2.0 * np.pi * (h - peak_hour) / 24.0)


def solar_noon_local(lon: float, day_of_year: int) -> float:
    """Solar noon in China Standard Time (UTC+8, meridian 120 E), hours."""
    return 12.0 + (120.0 - lon) * 4.0 / 60.0 - equation_of_time_min(day_of_year) / 60.0


def saturation_vapour_pressure_hpa(t: np.ndarray) -> np.ndarray:
    """Magnus formula over water (WMO 2008 coefficients 6.112, 17.62, 243.12)."""
    return 6.112 * np.exp(17.62 * t / (243.12 + t))


def relative_humidity(t: np.ndarray, dew_point: float) -> np.ndarray:
    """RH in % from dry-bulb and a constant dew point."""
    return (
        100.0
        * saturation_vapour_pressure_hpa(np.full_like(t, dew_point))
        / (saturation_vapour_pressure_hpa(t))
    )


def wet_bulb_stull(t: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Stull (2011), J. Appl. Meteor. Climatol. 50:2267, sea-level pressure, RH in %."""
    return (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )


# ---------------------------------------------------------------------------- solar
def solar_declination_deg(day_of_year: int) -> float:
    """Cooper (1969): delta = 23.45 sin(360 (284 + n)/365)."""
    return 23.45 * np.sin(np.radians(360.0 * (284 + day_of_year) / 365.0))


def equation_of_time_min(day_of_year: int) -> float:
    """Spencer-type approximation (minutes): E = 9.87 sin 2B - 7.53 cos B - 1.5 sin B."""
    b = np.radians(360.0 * (day_of_year - 81) / 364.0)
    return 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)


def sunrise_sunset_local(lat: float, lon: float, day_of_year: int) -> tuple[float, float]:
    """Geometric sunrise and sunset in China Standard Time (UTC+8, meridian 120 E), hours."""
    delta = np.radians(solar_declination_deg(day_of_year))
    omega0 = np.degrees(np.arccos(-np.tan(np.radians(lat)) * np.tan(delta)))
    half_day = omega0 / 15.0
    solar_noon = solar_noon_local(lon, day_of_year)
    return solar_noon - half_day, solar_noon + half_day


def pv_profile(h: np.ndarray, lat: float, lon: float, daily_cf: float, gamma: float) -> np.ndarray:
    """Clear-day bell: p(h) = P * sin(pi (h - sunrise)/(sunset - sunrise))**gamma in daylight.

    The peak P is solved so that the mean over the day equals ``daily_cf``.
    """
    doy = pd.Timestamp(DAY).day_of_year
    rise, sset = sunrise_sunset_local(lat, lon, doy)
    x = np.clip((h - rise) / (sset - rise), 0.0, 1.0)
    shape = np.sin(np.pi * x) ** gamma
    peak = daily_cf / shape.mean()
    if peak > 1.0:
        raise ValueError(f"daily CF {daily_cf} needs a peak above 1 ({peak:.2f})")
    return peak * shape


def wind_profile(h: np.ndarray, mean_cf: float, amplitude: float, peak_hour: float) -> np.ndarray:
    """Smooth diurnal cycle CF_mean (1 + a cos(2 pi (h - h_peak)/24)), daily mean CF_mean."""
    return mean_cf * (1.0 + amplitude * np.cos(2.0 * np.pi * (h - peak_hour) / 24.0))


# ---------------------------------------------------------------------------- demand
def inference_shape(h: np.ndarray) -> np.ndarray:
    """Normalised (0..1) diurnal interactive load.

    s(h) = 0.75 (1 - cos(2 pi (h - 4)/24))/2 + 0.35 exp(-((h - 21)/1.5)^2 / 2),
    rescaled to min 0 and max 1: night trough near 04:00, daytime plateau, evening peak ~21:00.
    """
    s = 0.75 * (1.0 - np.cos(2.0 * np.pi * (h - 4.0) / 24.0)) / 2.0
    s = s + 0.35 * np.exp(-0.5 * ((h - 21.0) / 1.5) ** 2)
    return (s - s.min()) / (s.max() - s.min())


# ---------------------------------------------------------------------------- build
def build() -> dict[str, pd.DataFrame]:
    h = hours()
    idx = time_index()

    weather = pd.DataFrame(index=idx)
    doy = pd.Timestamp(DAY).day_of_year
    for city, p in WEATHER.items():
        peak = solar_noon_local(SITES[city]["lon"], doy) + PEAK_LAG_H
        t = dry_bulb(h, p["high"], p["low"], peak)
        rh = relative_humidity(t, p["dew_point"])
        weather[f"ambient_{city}_degc"] = t
        weather[f"dewpoint_{city}_degc"] = np.full_like(t, p["dew_point"])
        weather[f"rh_{city}_pct"] = rh
        weather[f"wetbulb_{city}_degc"] = wet_bulb_stull(t, rh)

    ren = pd.DataFrame(index=idx)
    ren["pv_hami_pu"] = pv_profile(h, **SITES["hami"], **PV["hami"])
    ren["wind_hami_pu"] = wind_profile(h, **WIND["hami"])
    ren["pv_chongqing_pu"] = pv_profile(h, **SITES["chongqing"], **PV["chongqing"])
    wind, pv = CORRIDOR_GREEN["wind_mw"], CORRIDOR_GREEN["pv_mw"]
    ren["corridor_green_hami_mw"] = wind * ren["wind_hami_pu"] + pv * ren["pv_hami_pu"]

    demand = pd.DataFrame(index=idx)
    shape = inference_shape(h)
    for column, p in DEMAND.items():
        demand[column] = p["min"] + (p["max"] - p["min"]) * shape

    return {
        f"weather_{DAY}.csv": weather,
        f"renewable_profiles_{DAY}.csv": ren,
        f"compute_demand_{DAY}.csv": demand,
        f"grid_cfe_{DAY}.csv": grid_cfe(idx, h, ren),
    }


def write(frames: dict[str, pd.DataFrame], directory: Path = HERE) -> None:
    for name, frame in frames.items():
        out = frame.round(DECIMALS)
        out.index.name = "time"
        out.index = out.index.strftime("%Y-%m-%d %H:%M:%S")
        out.to_csv(directory / name, lineterminator="\n")


def summary(frames: dict[str, pd.DataFrame]) -> str:
    lines = []
    doy = pd.Timestamp(DAY).day_of_year
    for city, s in SITES.items():
        rise, sset = sunrise_sunset_local(s["lat"], s["lon"], doy)
        noon = solar_noon_local(s["lon"], doy)
        lines.append(
            f"{city}: sunrise {rise:.2f} h, sunset {sset:.2f} h, solar noon {noon:.2f} h, "
            f"temperature maximum {noon + PEAK_LAG_H:.2f} h (UTC+8)"
        )
    for name, frame in frames.items():
        lines.append(f"{name}:")
        desc = frame.agg(["min", "mean", "max"]).T.round(3)
        lines.append(desc.to_string())
    return "\n".join(lines)


if __name__ == "__main__":
    frames = build()
    write(frames)
    print(summary(frames))
