"""Build the realised day of the default scenario: one draw of its forecast-error model.

Writes, next to this file::

    realised_2026-07-15.csv        the default day's six uncertain series as they "happened"
    realised_price_2026-07-15.csv  the real-time price ``rt_cq`` (CNY/MWh) of the spot-market
                                   variant of the default day (benchmarks/stochastic.py)

**Synthetic.** The day is one draw, seed :data:`SEED`, of the forecast-error model of
``docs/math/stochastic.md`` (kinds' defaults, all [A]) around the default day's forecast
series: a stationary AR(1) error per series, multiplicative or additive, clipped as the kind
says. It is what the model says a day could look like, not a measured day. The draw is made
on the spot-market variant of the default (``benchmarks/stochastic.day_with_uncertainty``:
the default day plus a spot market at Chongqing whose real-time price ``rt_cq`` carries a
price error), the seven series in the order of its ``uncertainty.errors``, from
``numpy.random.default_rng(SEED)``: a stream of its own, not one of those the scenario sets
draw from (``[seed, 0]`` members, ``[seed, 1]`` held out). Provenance:
``realised_2026-07-15.provenance.md``.

Run::

    PYTHONPATH=src python data/build_realised_day.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))
from stochastic import day_with_uncertainty  # noqa: E402

from suandian.scenario.uncertainty import sample_series  # noqa: E402

#: the seed of the realised day (its date)
SEED = 20260715
#: the default scenario's series the realised day replaces (the price goes to its own file)
DEFAULT_SERIES = [
    "pv_hami_pu",
    "wind_hami_pu",
    "pv_chongqing_pu",
    "inference_chongqing_pflops",
    "inference_hami_pflops",
    "wetbulb_chongqing_degc",
]


def main() -> None:
    """Draw the day and write both files (6 significant digits, as the other data files)."""
    sc = day_with_uncertainty(samples=1, keep=1, held_out=0, seed=0)
    errors = sc.config.uncertainty.errors
    draw = sample_series(sc, errors, 1, np.random.default_rng(SEED))
    index = pd.Index(sc.time, name="time")
    day = pd.DataFrame({c: draw[c][0] for c in DEFAULT_SERIES}, index=index)
    day.round(4).to_csv(HERE / "realised_2026-07-15.csv")
    price = pd.DataFrame({"rt_cq": draw["rt_cq"][0]}, index=index)
    price.round(4).to_csv(HERE / "realised_price_2026-07-15.csv")
    for c in DEFAULT_SERIES:
        f = sc.series[c].to_numpy(float)
        r = day[c].to_numpy(float)
        change = r.sum() / f.sum() - 1
        print(f"{c}: forecast sum {f.sum():.1f}, realised {r.sum():.1f} ({change:+.1%})")


if __name__ == "__main__":
    main()
