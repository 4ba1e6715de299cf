"""Shadow prices are declared by their outputs (``Output.shadow``), not listed by hand.

A Dataset built by hand, from the green-share and PUE-cap policies: ``shadow_green_share``
per scope ``[portfolio, s1] = [3.0, NaN]``, ``shadow_green_share_point`` ``[7.7, NaN]`` and
``shadow_pue`` per site ``[s1, s2] = [NaN, 12.5]``. The KPI lists each non-NaN value as
``<name>_<label>_<unit suffix>``, in build order (``green_share`` before ``pue_cap``):
``shadow_green_share_portfolio_cny_per_mwh = 3.0``,
``shadow_green_share_point_portfolio_cny_per_point = 7.7`` and
``shadow_pue_s2_cny_per_0.01 = 12.5``; the NaN entries (no row, or no duals) are left out.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from suandian.catalogue import known
from suandian.results.accounting import shadow_prices


def test_shadow_prices_come_from_the_declared_outputs():
    ds = xr.Dataset(
        {
            "shadow_green_share": ("scope", [3.0, np.nan]),
            "shadow_green_share_point": ("scope", [7.7, np.nan]),
            "shadow_pue": ("site", [np.nan, 12.5]),
        },
        coords={"scope": ["portfolio", "s1"], "site": ["s1", "s2"]},
        attrs={"components": "green_share,pue_cap"},
    )
    assert shadow_prices(ds) == {
        "shadow_green_share_portfolio_cny_per_mwh": 3.0,
        "shadow_green_share_point_portfolio_cny_per_point": 7.7,
        "shadow_pue_s2_cny_per_0.01": 12.5,
    }
    assert list(shadow_prices(ds)) == [
        "shadow_green_share_portfolio_cny_per_mwh",
        "shadow_green_share_point_portfolio_cny_per_point",
        "shadow_pue_s2_cny_per_0.01",
    ]


def test_the_declared_shadow_prices_are_the_five_duals_with_their_units():
    """The KPI keys of ``kpis.json`` as they were when the table was written by hand."""
    declared = {o.name: o.shadow for c in known(xr.Dataset()) for o in c.outputs if o.shadow}
    assert declared == {
        "shadow_green_share": "cny_per_mwh",
        "shadow_green_share_point": "cny_per_point",
        "shadow_pue": "cny_per_0.01",
        "shadow_self_consumption": "cny_per_mwh",
        "shadow_direct_supply": "cny_per_mwh",
        "shadow_cfe": "cny_per_mwh",  # the 24/7 CFE target (issue 23, docs/math/cfe.md)
        "shadow_cfe_point": "cny_per_point",
        "shadow_co2_cap": "cny_per_tco2",  # the emissions cap (issue 23, docs/math/carbon.md)
    }
    assert all(o.role == "dual" for c in known(xr.Dataset()) for o in c.outputs if o.shadow)
