"""Day-ahead portfolios of 2 to 40 sites tied together as real portfolios are (issue 21).

``make_tied(n_sites, seed, resolution, green)`` returns ``(config, series)`` like
:func:`benchmarks.portfolio.make_portfolio` (the **paired** generator, kept for comparison),
from which it starts (the same sites, blocks, tariffs, weather, renewables, batteries,
contracts, corridors and jobs for the same ``(n_sites, seed)``), and then ties the sites
together the way a real portfolio is tied, not in pairs:

* **inference within a latency class**: every site gets a place on a 3,000 x 2,000 km map
  and a round trip of 2 ms + 1 ms per 100 km to every other site [A: ~200,000 km/s in fibre,
  a path 1.5 times the straight line, both ways]; each site's inference workload may be
  served at the 2-4 nearest sites (its own first), its ``max_latency_ms`` the class (10, 20,
  30 or 50 ms) that admits them all;
* **jobs eligible at 2-4 sites anywhere**: each batch job of the paired generator keeps its
  work, window and rate and is made eligible at 2-4 sites drawn from the whole portfolio;
* **sites sharing a node**: the sites of each archetype (west, east) are grouped in runs of
  1-3 behind one node (its tariff, that of the run's first site), with an **import limit**
  over the node's sites of 0.7-0.9 times their full-load facility draw (every block on at
  full rate, PUE 1.25);
* **corridors to nodes with several sites**: the corridors of the paired generator deliver
  to the node of their receiving site, which a run of east sites shares;
* **green share** ``portfolio`` (one target of 0.8 over all sites, the paired generator's) or
  ``site`` (0.8 at every site, 0.5 at west sites [A: outside a hub node the rule is looser]);
* **resolution** ``15min`` (96 periods, the default day's) or ``1h`` (24 periods: every
  series averaged by the hour, job windows rounded outwards to whole hours).

Deterministic: the same arguments give the same scenario. Illustrative, not measurements.

Usage::

    from benchmarks.portfolio_tied import make_tied, load
    config, series = make_tied(10, seed=1, resolution="1h", green="site")
    sc = load(10, 1)                      # 15 min, portfolio green share
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from benchmarks.portfolio import BLOCK_CAPACITY, DYNAMIC_POWER, IDLE_POWER, make_portfolio

#: Latency classes of the inference workloads (ms, round trip).
CLASSES = (10.0, 20.0, 30.0, 50.0)
#: Facility-to-IT ratio assumed for the node's full-load draw (the portfolios' PUE cap).
PUE = 1.25


def make_tied(
    n_sites: int, seed: int = 0, resolution: str = "15min", green: str = "portfolio"
) -> tuple[dict, pd.DataFrame]:
    """Return ``(config, series)`` of a tied portfolio of ``n_sites`` sites.

    Parameters
    ----------
    n_sites : int
        Number of data-center sites, 2 to 40.
    seed : int
        Seed; the same arguments give the same portfolio.
    resolution : {"15min", "1h"}
        96 quarter-hours or 24 hours.
    green : {"portfolio", "site"}
        One green-share target over the portfolio, or one per site.
    """
    if resolution not in ("15min", "1h"):
        raise ValueError(f"resolution={resolution!r}: use '15min' or '1h'")
    if green not in ("portfolio", "site"):
        raise ValueError(f"green={green!r}: use 'portfolio' or 'site'")
    config, series = make_portfolio(n_sites, seed)
    rng = np.random.default_rng([seed, n_sites, 21])
    sites = config["sites"]
    names = [s["name"] for s in sites]
    blocks = {s["name"]: int(s["blocks"]) for s in sites}

    # --- sites sharing a node: runs of 1-3 sites of one archetype behind the first's node
    node_of_site: dict[str, str] = {}
    for parity in (0, 1):
        group = [s for i, s in enumerate(sites) if i % 2 == parity]
        k = 0
        while k < len(group):
            size = int(rng.integers(1, 4))
            run = group[k : k + size]
            for s in run:
                node_of_site[s["name"]] = run[0]["node"]
            k += size
    old_node = {s["name"]: s["node"] for s in sites}
    node_map = {old_node[name]: node_of_site[name] for name in names}
    for s in sites:
        s["node"] = node_of_site[s["name"]]
    used = set(node_of_site.values())
    config["nodes"] = [n for n in config["nodes"] if n["name"] in used]
    for node in config["nodes"]:
        members = [name for name in names if node_of_site[name] == node["name"]]
        full = sum(blocks[m] * (IDLE_POWER + DYNAMIC_POWER * BLOCK_CAPACITY) * PUE for m in members)
        node["import_limit"] = round(full * float(rng.uniform(0.7, 0.9)), 1)
    for contract in config["green_contracts"]:
        contract["node"] = node_map[contract["node"]]
    for corridor in config["corridors"]:
        corridor["from_node"] = node_map[corridor["from_node"]]
        corridor["to_node"] = node_map[corridor["to_node"]]

    # --- inference served at the 2-4 nearest sites, within a latency class
    where = rng.uniform((0.0, 0.0), (3000.0, 2000.0), size=(n_sites, 2))
    km = np.linalg.norm(where[:, None, :] - where[None, :, :], axis=2)
    ms = 2.0 + km / 100.0
    for workload in config["interactive"]:
        home = names.index(workload["sites"][0])
        k = int(rng.integers(2, 5))
        near = [j for j in np.argsort(ms[home], kind="stable") if j != home][: k - 1]
        chosen = [home, *near]
        latency = {names[j]: round(float(ms[home, j]), 1) for j in chosen}
        worst = max(latency.values())
        workload["sites"] = [names[j] for j in chosen]
        workload["latency_ms"] = latency
        workload["max_latency_ms"] = next((c for c in CLASSES if c >= worst), math.ceil(worst))

    # --- jobs eligible at 2-4 sites anywhere
    for job in config["batch"]:
        k = int(rng.integers(2, min(4, n_sites) + 1))
        job["sites"] = [names[j] for j in sorted(rng.choice(n_sites, size=k, replace=False))]

    # --- green share
    if green == "site":
        config["policies"]["green_share"] = {
            "target": 0.8,
            "scope": "site",
            "site_targets": {name: 0.5 for i, name in enumerate(names) if i % 2 == 0},
        }

    # --- resolution
    if resolution == "1h":
        config["horizon"] = {**config["horizon"], "periods": 24, "resolution": "1h"}
        series = series.groupby(np.arange(len(series)) // 4).mean().reset_index(drop=True)
        for job in config["batch"]:
            job["release"] = int(job["release"]) // 4
            job["deadline"] = -(-int(job["deadline"]) // 4)
    config["name"] = f"tied_{n_sites}_s{seed}_{resolution}_{green}"
    config["description"] = (
        f"Generated tied portfolio: {n_sites} sites, seed {seed}, {resolution}, green share "
        f"per {green} (benchmarks/portfolio_tied.py)."
    )
    return config, series


def load(n_sites: int, seed: int = 0, resolution: str = "15min", green: str = "portfolio"):
    """Generate and load a tied portfolio: ``suandian.load_scenario(config, series=series)``."""
    import suandian

    config, series = make_tied(n_sites, seed, resolution, green)
    return suandian.load_scenario(config, series=series)


if __name__ == "__main__":  # quick look: python benchmarks/portfolio_tied.py 10 0 1h site
    import sys

    args = sys.argv[1:]
    n = int(args[0]) if args else 5
    seed = int(args[1]) if len(args) > 1 else 0
    print(load(n, seed, *(args[2:4])))
