"""Net metering at the point of connection (policy ``net_metering``, docs/math/grid.md).

The hand case: one site, 4 x 1 h, one block serving 10 units (IT 1 + 0.1 x 10 = 2 MW, facility
1.1 x 2 = 2.2 MW in every hour), a flat tariff of 100 CNY/MWh, and an owned PV of 5 MW whose
profile gives A = [0, 1, 3, 5] MW. Each MWh of PV used on site owes ``grid_charge`` 30; each
MWh exported earns ``export_price``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian
from suandian.results.certifier import certify

LOAD = 2.2  # MW facility: one block, 10 units served
AVAILABLE = [0.0, 1.0, 3.0, 5.0]  # MW of PV: 5 MW x profile
SERIES = pd.DataFrame({"pv_pu": [a / 5.0 for a in AVAILABLE]})


def _config(export_price: float, grid_charge: float = 30.0, net: bool = True) -> dict:
    c = base_config(periods=4)
    c["sites"][0]["net_metering"] = net
    c["interactive"] = [{"name": "chat", "demand": 10.0, "sites": ["s1"]}]
    c["renewables"] = [
        {
            "name": "pv",
            "site": "s1",
            "kind": "pv",
            "capacity": 5.0,
            "profile": "pv_pu",
            "contract": "owned",
            "export_price": export_price,
            "grid_charge": grid_charge,
        }
    ]
    return c


def _flows(result: suandian.Result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ds = result.ds
    grid = ds["p_grid"].sel(site="s1").values
    used = ds["p_renewable"].sel(renewable="pv").values
    export = ds["p_export"].sel(renewable="pv").values
    return grid, used, export


def _binaries(config: dict) -> int:
    """Columns of ``net_metering.u_net_export`` in the model built from ``config``."""
    lm = suandian.build_model(scenario(config, SERIES), pyomo=False).built.lm
    var = lm.vars.get("net_metering.u_net_export")
    return 0 if var is None else int((var.cols >= 0).sum())


def test_swap_that_pays_is_ruled_out_and_the_optimum_is_the_hand_one():
    """Export 100 + grid charge 30 = 130 > import 100: without the rule, selling all the PV and
    buying all the load back pays 30 per MWh swapped.

    Without the rule every hour imports 2.2 MW and exports A: cost sum(220 - 100 A) =
    880 - 900 = -20 CNY. With one connection each hour either imports (no export: use
    p = min(A, 2.2), cost 100 (2.2 - p) + 30 p = 220 - 70 p) or exports (no import: the PV
    covers the 2.2 MW, cost 30 x 2.2 - 100 (A - 2.2) = 286 - 100 A, only for A >= 2.2):

    * t0, A = 0: import 2.2, cost 220;
    * t1, A = 1: import 1.2, use 1, cost 150 (exporting is impossible: A < 2.2);
    * t2, A = 3: export mode 286 - 300 = -14 < import mode 220 - 154 = 66: use 2.2, export 0.8;
    * t3, A = 5: export mode -214 < 66: use 2.2, export 2.8.

    Optimum 220 + 150 - 14 - 214 = 142 CNY (162 above the swap plan), unique. A binary exists
    in each hour where the site can export (A > 0: t1, t2, t3), none in t0 (nothing to export).
    """
    result = solve_ok(_config(export_price=100.0), series=SERIES)
    grid, used, export = _flows(result)
    assert grid == pytest.approx([2.2, 1.2, 0.0, 0.0], abs=1e-6)
    assert used == pytest.approx([0.0, 1.0, 2.2, 2.2], abs=1e-6)
    assert export == pytest.approx([0.0, 0.0, 0.8, 2.8], abs=1e-6)
    assert result.objective == pytest.approx(142.0, abs=1e-6)
    assert not (np.minimum(grid, export) > 1e-9).any()
    assert _binaries(_config(export_price=100.0)) == 3
    ds = result.ds
    assert ds["net_binary"].sel(site="s1").values.tolist() == [False, True, True, True]
    assert ds["net_swap_value"].sel(site="s1").values == pytest.approx([130.0] * 4)
    assert ds["net_import_price"].sel(site="s1").values == pytest.approx([100.0] * 4)
    # the big-Ms: the export bound is A; the import bound the largest draw the rows imply,
    # both blocks on (2 MW idle) and the 10 units served (1 MW): 1.1 x 3 = 3.3 MW
    bound = ds["net_export_bound"].sel(site="s1").values
    assert bound[1:] == pytest.approx(AVAILABLE[1:], rel=1e-6)
    assert ds["net_import_bound"].sel(site="s1").values[1:] == pytest.approx([3.3] * 3, rel=1e-6)


def test_without_net_metering_the_site_swaps():
    """``net_metering: false`` (a separate export connection): the swap plan of the test
    above, cost 880 - 900 = -20 CNY, imports 2.2 MW and exports all of A; no binary."""
    result = solve_ok(_config(export_price=100.0, net=False), series=SERIES)
    grid, used, export = _flows(result)
    assert grid == pytest.approx([2.2] * 4, abs=1e-6)
    assert export == pytest.approx(AVAILABLE, abs=1e-6)
    assert used == pytest.approx([0.0] * 4, abs=1e-6)
    assert result.objective == pytest.approx(-20.0, abs=1e-6)
    assert _binaries(_config(export_price=100.0, net=False)) == 0


def test_swap_that_does_not_pay_needs_no_binary():
    """Export 50 + grid charge 30 = 80 < import 100: no binary, and the LP does not swap.

    A MWh of PV used saves 100 - 30 = 70, exported earns 50: use first, export the rest.
    t0: import 2.2, cost 220; t1: import 1.2, use 1, cost 150; t2: use 2.2, export 0.8,
    cost 66 - 40 = 26; t3: use 2.2, export 2.8, cost 66 - 140 = -74. Optimum 322 CNY.
    """
    assert _binaries(_config(export_price=50.0)) == 0
    model = suandian.build_model(scenario(_config(export_price=50.0), SERIES), pyomo=False)
    integer = model.built.lm.arrays()[4]
    dc_cols = model.built.lm.vars["dc.n_on"].cols
    assert int(integer.sum()) == int((dc_cols >= 0).sum())  # the block counts alone
    result = solve_ok(_config(export_price=50.0), series=SERIES)
    grid, used, export = _flows(result)
    assert grid == pytest.approx([2.2, 1.2, 0.0, 0.0], abs=1e-6)
    assert export == pytest.approx([0.0, 0.0, 0.8, 2.8], abs=1e-6)
    assert result.objective == pytest.approx(322.0, abs=1e-6)
    assert not (np.minimum(grid, export) > 1e-9).any()
    assert result.ds["net_binary"].sel(site="s1").values.tolist() == [False] * 4


def test_the_swap_value_counts_the_up_reserve_and_the_price_the_network_charge():
    """Export 60 + grid charge 30 + up reserve 20 = 110 against tariff 100 + network 5 = 105:
    pays (binary where A > 0). With the network charge at 15 (115): does not (no binary)."""
    c = _config(export_price=60.0)
    c["reserves"] = [
        {"name": "up", "direction": "up", "price": 20.0, "sites": ["s1"], "sources": ["it_load"]}
    ]
    c["nodes"][0]["network_charge"] = 5.0
    ds = solve_ok(c, series=SERIES).ds
    assert ds["net_swap_value"].sel(site="s1").values == pytest.approx([110.0] * 4)
    assert ds["net_import_price"].sel(site="s1").values == pytest.approx([105.0] * 4)
    assert ds["net_binary"].sel(site="s1").values.tolist() == [False, True, True, True]
    c["nodes"][0]["network_charge"] = 15.0
    assert _binaries(c) == 0


def test_certifier_names_a_period_with_import_and_export():
    """The plan of the first test, with 0.5 MW of t1's PV exported instead of used (and
    imported instead): t1 has a binary in import mode, so the export bound fires too."""
    result = solve_ok(_config(export_price=100.0), series=SERIES)
    ds = result.ds.copy(deep=True)
    at = {"time": ds["time"].values[1]}
    ds["p_renewable"].loc[{"renewable": "pv", **at}] -= 0.5
    ds["p_export"].loc[{"renewable": "pv", **at}] += 0.5
    ds["p_grid"].loc[{"site": "s1", **at}] += 0.5
    from suandian.results.accounting import books

    ds.attrs["objective"] = books(ds)["cost"]["total"]
    del ds["cost_period"]
    found = certify(ds)
    assert {v.check for v in found} == {"net_metering.exclusive", "net_metering.export_max"}
    assert [v.where for v in found if v.check == "net_metering.exclusive"] == [
        "site=s1 time=2026-07-15 01:00"
    ]


def test_unbounded_draw_is_refused_with_the_field_to_set():
    """Where no row bounds a site's metered draw (no family of the library leaves it open, so
    the refusal is called directly), the error names the field that gives the big-M."""
    from suandian.policies import net_metering

    sc = scenario(_config(export_price=100.0), SERIES)
    m = suandian.build_model(sc, pyomo=False)
    cells = np.zeros((1, 4), bool)
    cells[0, 2] = True
    with pytest.raises(ValueError, match=r"nodes\[0\]\.import_limit: missing; site 's1'"):
        net_metering._refuse_unbounded(m.built.ctx, cells)
