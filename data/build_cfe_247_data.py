"""Representative days of Hami's year for ``models/cfe_247_hami.yaml`` (24/7 CFE sizing).

Reads the year files (``*_2026.csv``: Hami's PV and wind profiles, grid carbon-free share,
inference demand, dry- and wet-bulb temperatures), reduces the 365 days to ``DAYS``
representative days with :func:`suandian.scenario.representative.representative_days`
(Ward clustering of the daily profiles, medoid days, weights = days represented) and writes
``cfe_247_rep_days_2026.csv``: the representative days one after the other from 2026-01-01
00:00, hourly, with the column ``rep_weight`` (days each stands for; they sum to 365), and
prints the date each representative day was taken from (listed in
``cfe_247_rep_days_2026.provenance.md``). Deterministic (no randomness).

    PYTHONPATH=src python data/build_cfe_247_data.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from suandian.scenario.representative import representative_days

HERE = Path(__file__).resolve().parent
DAYS = 24
COLUMNS = [
    "pv_hami_pu",
    "wind_hami_pu",
    "grid_cfe_hami_pu",
    "inference_hami_pflops",
    "ambient_hami_degc",
    "wetbulb_hami_degc",
]


def year() -> pd.DataFrame:
    """Hami's hourly columns of 2026 (8,760 rows)."""
    files = ["renewable_profiles", "grid_cfe", "compute_demand", "weather"]
    frames = [pd.read_csv(HERE / f"{f}_2026.csv", index_col=0, parse_dates=True) for f in files]
    out = pd.concat(frames, axis=1)[COLUMNS]
    return out.asfreq("1h")


def main() -> None:
    frame = year()
    rep = representative_days(frame, DAYS)
    out = rep.series(frame, "2026-01-01 00:00")
    out.index.name = "time"
    out.to_csv(HERE / "cfe_247_rep_days_2026.csv", float_format="%.6g")
    print(
        f"{DAYS} days: "
        + ", ".join(f"{d:%m-%d} x{w:g}" for d, w in zip(rep.days, rep.weights, strict=True))
    )


if __name__ == "__main__":
    main()
