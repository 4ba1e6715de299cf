"""Synthetic, deterministic scenarios for benchmarking suandian at any size.

``make_scenario(n_sites, periods)`` returns ``(config, series)``: a scenario dict in the
format of ``models/*.yaml`` and a pandas DataFrame of hourly time series (positional, one row
per period) to pass as ``series=`` to :func:`suandian.load_scenario`.

What is generated (all illustrative, not measurements), for site ``i`` of ``n_sites``:

* one grid node per site ("province"), a time-of-use tariff whose level and bands vary by
  site, a constant grid emission factor 0.50-0.65 tCO2/MWh;
* a data center with 6-9 blocks of 8,000 PFLOPS (H100-class figures of the default scenario),
  cooling from a wet-bulb temperature series (seasonal + diurnal + AR(1) weather);
* PV and wind (direct-connected, curtailable) sized from the site's mean load, profiles from a
  clear-sky shape times a daily cloudiness factor and an AR(1) wind speed through a power curve;
* one battery per site (0.3 x mean load, 4 h);
* one interactive workload per site (diurnal + weekly shape + noise), eligible at its own
  site and, for every second site, the next one too;
* ``jobs_per_site_week`` batch jobs per site and week, windows of 1-4 days, each eligible at
  two sites;
* one corridor (site 0's node -> site 1's node, 10 MW blocks in 3 daily windows), one local
  green contract, unbundled certificates (<= 10 % of consumption);
* policies: portfolio green share >= 0.8, PUE cap 1.25.

Deterministic: the same arguments give the same scenario (``numpy.random.default_rng(seed)``).

Usage::

    from benchmarks.generate import make_scenario, load
    config, series = make_scenario(4, 168)
    sc = suandian.load_scenario(config, series=series)   # or: sc = load(4, 168)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Block figures of the default scenario (models/chongqing_hami_day.yaml).
BLOCK_CAPACITY = 8000.0  # PFLOPS per block
IDLE_POWER = 2.55  # MW per block switched on
DYNAMIC_POWER = 0.000701  # MW per PFLOPS served


def _ar1(rng: np.random.Generator, n: int, rho: float, sigma: float) -> np.ndarray:
    """Stationary AR(1) noise with lag-1 correlation ``rho`` and standard deviation ``sigma``."""
    eps = rng.normal(0.0, sigma * math.sqrt(1.0 - rho * rho), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    for k in range(1, n):
        out[k] = rho * out[k - 1] + eps[k]
    return out


def _daily(rng: np.random.Generator, days: int, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, days)


def make_scenario(
    n_sites: int,
    periods: int,
    seed: int = 0,
    start: str = "2026-07-13 00:00",
    jobs_per_site_week: float = 2.0,
    name: str | None = None,
) -> tuple[dict, pd.DataFrame]:
    """Return ``(config, series)`` for ``n_sites`` sites and ``periods`` hourly periods.

    Parameters
    ----------
    n_sites : int
        Number of data-center sites (>= 2: the corridor links site 0 to site 1).
    periods : int
        Number of hourly periods (168 = a week, 8760 = a year).
    seed : int
        Seed of the random generator; same arguments, same scenario.
    start : str
        First period's start; the season of the temperatures and PV follows it.
    jobs_per_site_week : float
        Batch jobs per site and week of horizon (at least 2 jobs in total).
    name : str, optional
        Scenario name; default ``synthetic_<n_sites>x<periods>``.
    """
    if n_sites < 2:
        raise ValueError("n_sites must be >= 2 (the corridor links site 0 to site 1)")
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start)
    time = pd.date_range(t0, periods=periods, freq="1h")
    hour = time.hour.to_numpy().astype(float)
    doy = time.day_of_year.to_numpy().astype(float)
    weekday = time.day_of_week.to_numpy()
    day_index = ((time.normalize() - t0.normalize()).days).to_numpy()
    days = int(day_index[-1]) + 1
    series: dict[str, np.ndarray] = {}

    nodes, sites, interactive, renewables, storage = [], [], [], [], []
    mean_loads = []
    for i in range(n_sites):
        site, node = f"dc{i:02d}", f"node{i:02d}"
        lat = 22.0 + 22.0 * i / max(n_sites - 1, 1)  # south (humid, hot) -> north (dry, cool)
        west = i % 2 == 0  # even sites: windy, sunny, cheap power

        # -------------------------------------------------------------- weather
        season = -np.cos(2 * np.pi * (doy - 20.0) / 365.0)  # -1 mid-January, +1 mid-July
        mean_wb = 27.0 - 0.5 * lat + (9.0 if not west else 7.0) * season
        diurnal = (2.0 if not west else 4.0) * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
        wetbulb = mean_wb + diurnal + _ar1(rng, periods, 0.97, 2.0)
        series[f"wetbulb_{site}_degc"] = np.clip(wetbulb, -30.0, 30.0)

        # ----------------------------------------------------------------- PV
        day_len = 12.0 + (2.0 + 0.08 * lat) * season  # hours of daylight
        sunrise = 12.5 - day_len / 2.0
        phase = np.clip((hour + 0.5 - sunrise) / day_len, 0.0, 1.0)
        clear = np.sin(np.pi * phase) ** 1.3 * (0.75 + 0.15 * season)
        cloud = _daily(rng, days, 0.35 if not west else 0.6, 1.0)[day_index]
        series[f"pv_{site}_pu"] = np.clip(clear * cloud, 0.0, 1.0)

        # --------------------------------------------------------------- wind
        speed = (7.5 if west else 6.0) + 0.8 * np.cos(2 * np.pi * (hour - 3.0) / 24.0)
        speed = np.maximum(speed + _ar1(rng, periods, 0.96, 2.6), 0.0)
        power = np.clip((speed**3 - 3.0**3) / (12.0**3 - 3.0**3), 0.0, 1.0)
        series[f"wind_{site}_pu"] = np.where(speed > 25.0, 0.0, power)

        # --------------------------------------------------------------- demand
        blocks = int(rng.integers(6, 10))
        capacity = blocks * BLOCK_CAPACITY
        level = rng.uniform(0.30, 0.42) * capacity
        shape = 1.0 + 0.22 * np.cos(2 * np.pi * (hour - 20.0) / 24.0)
        week = np.where(weekday >= 5, 0.9, 1.0)
        noise = 1.0 + _ar1(rng, periods, 0.8, 0.04)
        series[f"demand_{site}_pflops"] = np.maximum(level * shape * week * noise, 0.0)
        workload = {"name": f"inference_{site}", "demand": f"demand_{site}_pflops", "sites": [site]}
        if i % 2 == 0 and i + 1 < n_sites:
            workload["sites"].append(f"dc{i + 1:02d}")
        interactive.append(workload)

        # Mean facility load (MW) used to size the green assets: about 70 % of the blocks on.
        busy = 0.7 * blocks
        mean_it = busy * IDLE_POWER + (level + 0.15 * capacity) * DYNAMIC_POWER
        mean_load = 1.12 * mean_it
        mean_loads.append(mean_load)

        scale = rng.uniform(0.85, 1.15)
        nodes.append(
            {
                "name": node,
                "tariff": {
                    "prices": {
                        "peak": round(1000.0 * scale, 1),
                        "flat": round(620.0 * scale, 1),
                        "valley": round(260.0 * scale, 1),
                    },
                    "periods": {
                        "peak": ["10:00-15:00", "18:00-21:00"]
                        if not west
                        else ["07:00-09:00", "19:00-24:00"],
                        "valley": ["00:00-07:00", "23:00-24:00"] if not west else ["10:00-16:00"],
                    },
                    "default": "flat",
                },
                "emission_factor": round(float(rng.uniform(0.50, 0.65)), 4),
            }
        )
        sites.append(
            {
                "name": site,
                "node": node,
                "blocks": blocks,
                "block_capacity": BLOCK_CAPACITY,
                "idle_power": IDLE_POWER,
                "dynamic_power": DYNAMIC_POWER,
                "startup_cost": 3000.0,
                "initial_on": blocks // 2,
                "loss_fraction": 0.04,
                "cooling": {
                    "ambient": f"wetbulb_{site}_degc",
                    "t_free": 14.0,
                    "t_mech": 21.0,
                    "cop_free": 25.0,
                    "cop_ref": 7.0,
                    "t_ref": 25.0,
                    "cop_slope": 0.025,
                    "cop_min": 2.0,
                },
            }
        )
        renewables += [
            {
                "name": f"pv_{site}",
                "site": site,
                "kind": "pv",
                "capacity": round((2.2 if west else 1.2) * mean_load, 1),
                "profile": f"pv_{site}_pu",
                "cost": 180.0 if west else 0.0,
            },
            {
                "name": f"wind_{site}",
                "site": site,
                "kind": "wind",
                "capacity": round((1.6 if west else 0.6) * mean_load, 1),
                "profile": f"wind_{site}_pu",
                "cost": 200.0,
            },
        ]
        storage.append(
            {
                "name": f"battery_{site}",
                "site": site,
                "power": round(0.3 * mean_load, 1),
                "energy": round(1.2 * mean_load, 1),
                "eta_charge": 0.95,
                "eta_discharge": 0.95,
                "soc_initial": 0.5,
                "soc_final": "cyclic",
                "throughput_cost": 40.0,
            }
        )

    # ------------------------------------------------------------------ batch jobs
    n_jobs = max(2, round(jobs_per_site_week * n_sites * periods / 168.0))
    batch = []
    for k in range(n_jobs):
        window = int(rng.integers(24, 97))  # 1-4 days
        window = min(window, periods)
        release = int(rng.integers(0, periods - window + 1))
        first = int(rng.integers(0, n_sites))
        second = (first + 1 + int(rng.integers(0, n_sites - 1))) % n_sites
        max_rate = float(rng.integers(1, 3)) * BLOCK_CAPACITY
        work = round(float(rng.uniform(0.3, 0.6)) * max_rate * window, 1)
        batch.append(
            {
                "name": f"job{k:04d}",
                "work": work,
                "release": release,
                "deadline": release + window,
                "max_rate": max_rate,
                "sites": [f"dc{first:02d}", f"dc{second:02d}"],
            }
        )

    config = {
        "name": name or f"synthetic_{n_sites}x{periods}",
        "description": f"Synthetic benchmark scenario: {n_sites} sites x {periods} h, seed {seed}.",
        "compute_unit": "PFLOPS",
        "horizon": {"start": str(t0), "periods": periods, "resolution": "1h"},
        "nodes": nodes,
        "sites": sites,
        "interactive": interactive,
        "batch": batch,
        "renewables": renewables,
        "storage": storage,
        "corridors": [
            {
                "name": "west_east",
                "from_node": "node00",
                "to_node": "node01",
                "capacity": round(0.8 * mean_loads[1], 1),
                "source_price": 270.0,
                "tariff": 60.0,
                "loss": 0.06,
                "green_fraction": 1.0,
                "block_mw": 10.0,
                "windows": ["00:00-08:00", "08:00-16:00", "16:00-24:00"],
            }
        ],
        "green_contracts": [
            {
                "name": "hydro_contract",
                "node": f"node{n_sites - 1:02d}",
                "capacity": round(0.3 * mean_loads[-1], 1),
                "price": 680.0,
            }
        ],
        "certificates": {"price": 5.0, "max_share": 0.1},
        "policies": {
            "green_share": {"target": 0.8, "scope": "portfolio"},
            "pue": {"cap": 1.25},
            "carbon_price": 0.0,
        },
    }
    frame = pd.DataFrame({k: np.round(v, 4) for k, v in series.items()})
    return config, frame


def load(n_sites: int, periods: int, seed: int = 0, **kwargs):
    """Generate and load a scenario: ``suandian.load_scenario(config, series=series)``."""
    import suandian

    config, series = make_scenario(n_sites, periods, seed=seed, **kwargs)
    return suandian.load_scenario(config, series=series)


if __name__ == "__main__":  # quick look: python benchmarks/generate.py 4 168
    import sys

    n, t = (int(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else (4, 168)))
    cfg, frame = make_scenario(n, t)
    print(load(n, t))
    print(frame.describe().T.round(3).to_string())
