"""Realistic day-ahead portfolios of 2 to 40 sites, derived from the default day.

``make_portfolio(n_sites, seed)`` returns ``(config, series)``: a scenario dict in the
format of ``models/*.yaml`` and a positional pandas DataFrame of 96 quarter-hour series to
pass as ``series=`` to :func:`suandian.load_scenario`. Everything is derived from the
embedded default day ``models/chongqing_hami_day.yaml`` (2026-07-15, 96 x 15 min) and its
series in ``data/``; illustrative, not measurements.

Sites alternate between the two archetypes of the default day:

* **west** (even sites, Hami-like): dry, the Hami cooling plant, Xinjiang-style TOU with a
  midday solar valley, direct-connected PV (6.75-9 MW per block) and wind (5.6-7.5 MW per
  block) with their profiles shifted by up to an hour and scaled;
* **east** (odd sites, Chongqing-like): humid, the Chongqing cooling plant, industrial TOU,
  rooftop PV (0.3-0.8 MW per block), a provincial hydro green contract (2.4-3.6 MW per
  block) and a battery (0.8-1.4 MW per block, 2 h).

Per site: 4-12 blocks of 8,000 PFLOPS (H100-class figures of the default day),
``initial_on`` about half the blocks, start-up 3,000 CNY per block, losses 4 %, every
temperature series the cooling plant names (wet-bulb, dry-bulb) shifted by the same
-1.5..+1.5 K; tariffs scaled by
0.85-1.15; one inference workload per site with the default day's demand shapes scaled to
25-40 % of the site's capacity (a west site's workload may also be served at the next site).

Per site pair (0-1, 2-3, ...; an odd last site pairs with site 0): 1-3 batch jobs, each
eligible at both sites of the pair: a training-like job over the whole day (1-4 blocks,
35-60 % of its maximum rate on average) or a fine-tuning job in a 6-12 h window (1-2 blocks).

One corridor from site 0's node to site 1's node (the default day's corridor with all its
fields: 10 MW blocks in three 8-h windows, its prices, losses and green profile) and, with
four sites or more and on one seed in two, a second one from site 2 to site 3. Unbundled
certificates up to 10 %; policies: portfolio green share >= 0.8 and PUE cap 1.25 per site.
New bill fields of the schema are left at their defaults (off).

Deterministic: the same ``(n_sites, seed)`` gives the same scenario.

Usage::

    from benchmarks.portfolio import make_portfolio, load
    config, series = make_portfolio(10, seed=1)
    sc = suandian.load_scenario(config, series=series)   # or: sc = load(10, 1)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "chongqing_hami_day.yaml"
BLOCK_CAPACITY = 8000.0  # PFLOPS per block (default day)
IDLE_POWER = 2.55  # MW per block on
DYNAMIC_POWER = 0.000701  # MW per PFLOPS
#: Site fields of the default's flexibility levers left out of the portfolios, so that the
#: benchmark stays the one the solver issue defines (blocks, jobs, storage, corridors, rules).
LEVER_FIELDS = ("min_up_hours", "min_down_hours", "power_cap_curve")


def _default() -> tuple[dict, pd.DataFrame]:
    """The default day's config and its series (positional, 96 rows)."""
    config = yaml.safe_load(DEFAULT.read_text())
    frames = [
        pd.read_csv(DEFAULT.parent / p, index_col=0).reset_index(drop=True)
        for p in config["series"]
    ]
    return config, pd.concat(frames, axis=1)


def _shift(values: np.ndarray, periods: int) -> np.ndarray:
    """A daily profile shifted by ``periods`` (wrapping round the day)."""
    return np.roll(values, periods)


def make_portfolio(n_sites: int, seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """Return ``(config, series)`` of a portfolio of ``n_sites`` sites.

    Parameters
    ----------
    n_sites : int
        Number of data-center sites, 2 to 40 (site 0 is west, site 1 east: the corridor).
    seed : int
        Seed of the random generator; the same arguments give the same portfolio.

    Returns
    -------
    tuple of (dict, pandas.DataFrame)
        The scenario config and its 96 positional series.
    """
    if not 2 <= n_sites <= 99:
        raise ValueError(f"n_sites={n_sites!r}: use 2..99 sites")
    rng = np.random.default_rng([seed, n_sites])
    base, frame = _default()
    T = len(frame)
    nodes_by_name = {n["name"]: n for n in base["nodes"]}
    site_by_name = {s["name"]: s for s in base["sites"]}
    archetype = {
        "west": ("hami", "hm_dc", "inference_hami_pflops"),
        "east": ("chongqing", "cq_dc", "inference_chongqing_pflops"),
    }
    series: dict[str, np.ndarray] = {}
    nodes, sites, interactive, renewables, storage, contracts = [], [], [], [], [], []
    blocks_of = []
    for i in range(n_sites):
        kind = "west" if i % 2 == 0 else "east"
        node_name, site_name, demand_col = archetype[kind]
        site, node = f"dc{i:02d}", f"node{i:02d}"
        blocks = int(rng.integers(4, 13))
        blocks_of.append(blocks)

        # node: the archetype's TOU, prices scaled
        scale = float(rng.uniform(0.85, 1.15))
        src = nodes_by_name[node_name]
        nodes.append(
            {
                "name": node,
                "tariff": {
                    "prices": {k: round(v * scale, 1) for k, v in src["tariff"]["prices"].items()},
                    "periods": src["tariff"]["periods"],
                    "default": src["tariff"]["default"],
                },
                "emission_factor": round(src["emission_factor"] * float(rng.uniform(0.9, 1.1)), 4),
                "residual_emission_factor": src["residual_emission_factor"],
            }
        )

        # site: the archetype's figures, blocks drawn, wet-bulb shifted
        s = dict(site_by_name[site_name])
        shift_k = float(rng.uniform(-1.5, 1.5))
        cooling = dict(s["cooling"])
        for key, value in s["cooling"].items():  # every series the cooling names (wet-bulb, ...)
            if isinstance(value, str) and value in frame.columns:
                name = f"{value}_{site}"
                shift = shift_k if value.endswith("_degc") else 0.0
                series[name] = frame[value].to_numpy() + shift
                cooling[key] = name
        sites.append(
            {
                **{
                    k: v
                    for k, v in s.items()
                    if k not in ("cooling", "name", "node", *LEVER_FIELDS)
                    and not (isinstance(v, str) and v in frame.columns)
                },
                "name": site,
                "node": node,
                "blocks": blocks,
                "initial_on": max(1, blocks // 2 + int(rng.integers(-1, 2))),
                "cooling": cooling,
            }
        )

        # inference: the archetype's shape, scaled to 25-40 % of the capacity
        shape = frame[demand_col].to_numpy()
        level = float(rng.uniform(0.25, 0.40)) * blocks * BLOCK_CAPACITY
        noise = 1.0 + 0.03 * rng.standard_normal(T)
        series[f"demand_{site}_pflops"] = np.maximum(shape / shape.mean() * level * noise, 0.0)
        workload = {"name": f"inference_{site}", "demand": f"demand_{site}_pflops", "sites": [site]}
        if kind == "west" and i + 1 < n_sites:
            workload["sites"].append(f"dc{i + 1:02d}")
        interactive.append(workload)

        # renewables, storage, contracts
        lag = int(rng.integers(-4, 5))
        if kind == "west":
            pv = np.clip(_shift(frame["pv_hami_pu"].to_numpy(), lag) * rng.uniform(0.85, 1.1), 0, 1)
            wind = frame["wind_hami_pu"].to_numpy() * rng.uniform(0.8, 1.25)
            wind = np.clip(wind * (1.0 + 0.05 * rng.standard_normal(T)), 0, 1)
            series[f"pv_{site}_pu"], series[f"wind_{site}_pu"] = pv, wind
            renewables += [
                {
                    "name": f"pv_{site}",
                    "site": site,
                    "kind": "pv",
                    "capacity": round(blocks * 7.5 * float(rng.uniform(0.9, 1.2)), 1),
                    "profile": f"pv_{site}_pu",
                    "cost": 180.0,
                },
                {
                    "name": f"wind_{site}",
                    "site": site,
                    "kind": "wind",
                    "capacity": round(blocks * 6.25 * float(rng.uniform(0.9, 1.2)), 1),
                    "profile": f"wind_{site}_pu",
                    "cost": 200.0,
                },
            ]
        else:
            pv = np.clip(
                _shift(frame["pv_chongqing_pu"].to_numpy(), lag) * rng.uniform(0.8, 1.2), 0, 1
            )
            series[f"pv_{site}_pu"] = pv
            renewables.append(
                {
                    "name": f"pv_{site}",
                    "site": site,
                    "kind": "pv",
                    "capacity": round(blocks * float(rng.uniform(0.3, 0.8)), 1),
                    "profile": f"pv_{site}_pu",
                    "cost": 0.0,
                }
            )
            power = round(blocks * float(rng.uniform(0.8, 1.4)), 1)
            storage.append(
                {
                    "name": f"battery_{site}",
                    "site": site,
                    "power": power,
                    "energy": 2.0 * power,
                    "eta_charge": 0.95,
                    "eta_discharge": 0.95,
                    "soc_initial": 0.5,
                    "soc_final": "cyclic",
                    "throughput_cost": 40.0,
                }
            )
            contracts.append(
                {
                    "name": f"hydro_{site}",
                    "node": node,
                    "capacity": round(blocks * float(rng.uniform(1.2, 1.8)) * 2.0, 1),
                    "price": round(nodes[-1]["tariff"]["prices"]["flat"] + 30.0, 1),
                }
            )

    # batch jobs per site pair
    pairs = [(i, i + 1) for i in range(0, n_sites - 1, 2)]
    if n_sites % 2:
        pairs.append((n_sites - 1, 0))
    batch = []
    for a, b in pairs:
        room = min(blocks_of[a], blocks_of[b])
        for _ in range(int(rng.integers(1, 4))):
            k = len(batch)
            if rng.random() < 0.5:  # training-like, whole day
                release, window = 0, T
                rate = float(rng.integers(1, max(2, min(4, room - 1)) + 1)) * BLOCK_CAPACITY
                share = float(rng.uniform(0.35, 0.6))
            else:  # fine-tuning in a 6-12 h window starting 08:00-14:00
                release = int(rng.integers(32, 57))
                window = min(int(rng.integers(24, 49)), T - release)
                rate = float(rng.integers(1, 3)) * BLOCK_CAPACITY
                share = float(rng.uniform(0.4, 0.7))
            batch.append(
                {
                    "name": f"job{k:03d}",
                    "work": round(share * rate * window * 0.25, 1),
                    "release": release,
                    "deadline": release + window,
                    "max_rate": rate,
                    "sites": [f"dc{a:02d}", f"dc{b:02d}"],
                }
            )

    corridor = dict(base["corridors"][0])
    for value in base["corridors"][0].values():  # series the corridor names (its profile)
        if isinstance(value, str) and value in frame.columns:
            series[value] = frame[value].to_numpy()
    corridors = [
        {
            **corridor,
            "name": "corridor_0_1",
            "from_node": "node00",
            "to_node": "node01",
            "capacity": round(blocks_of[1] * 5.0, -1) or 10.0,
        }
    ]
    if n_sites >= 4 and rng.random() < 0.5:
        corridors.append(
            {
                **corridor,
                "name": "corridor_2_3",
                "from_node": "node02",
                "to_node": "node03",
                "capacity": round(blocks_of[3] * 5.0, -1) or 10.0,
                "source_price": round(270.0 * float(rng.uniform(0.9, 1.1)), 1),
            }
        )

    config = {
        "name": f"portfolio_{n_sites}_s{seed}",
        "description": (
            f"Generated portfolio: {n_sites} sites, seed {seed}, derived from the default day "
            "(benchmarks/portfolio.py)."
        ),
        "compute_unit": "PFLOPS",
        "horizon": dict(base["horizon"]),
        "nodes": nodes,
        "sites": sites,
        "interactive": interactive,
        "batch": batch,
        "renewables": renewables,
        "storage": storage,
        "corridors": corridors,
        "green_contracts": contracts,
        "certificates": dict(base["certificates"]),
        "policies": {
            "green_share": {"target": 0.8, "scope": "portfolio"},
            "pue": {"cap": 1.25},
            "carbon_price": 0.0,
        },
    }
    out = pd.DataFrame({k: np.round(v, 4) for k, v in series.items()})
    return config, out


def load(n_sites: int, seed: int = 0):
    """Generate and load a portfolio: ``suandian.load_scenario(config, series=series)``."""
    import suandian

    config, series = make_portfolio(n_sites, seed)
    return suandian.load_scenario(config, series=series)


if __name__ == "__main__":  # quick look: python benchmarks/portfolio.py 10 0
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    print(load(n, seed))
