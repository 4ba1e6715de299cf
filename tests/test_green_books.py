"""Green books on certificates: contracts' certificate status, certificates tied to the site
that uses them, targets per data center (scope 'site' by default, site_targets).

Base (test_policies.loaded): one site drawing 3.85 MW for 2 h (7.7 MWh), grid 100 CNY/MWh.
Every expected value is derived by hand in the docstrings.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import solve_ok
from test_policies import add_site, contract, loaded

import suandian


def test_contract_without_certificates_is_not_green():
    """Target 60 %: 4.62 MWh green needed. A 90 CNY/MWh contract without certificates
    (gec none) is cheaper than the grid but not green, so it replaces grid energy only:
    3.08 MWh x 90 + 4.62 MWh x 150 (bundled contract) = 277.2 + 693 = 970.2 CNY, share 0.6.
    (Counted green it would supply all 7.7 MWh: 693 CNY at 100 %.)"""
    cfg = loaded()
    cfg["policies"]["green_share"] = {"target": 0.6}
    cheap = contract(price=90.0) | {"name": "plain", "gec": "none"}
    cfg["green_contracts"] = [contract(), cheap]
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(970.2)
    assert r.kpis["green_share"]["s1"] == pytest.approx(0.6)
    used = r.ds["p_contract"].sum(("site", "time")) * r.ds.attrs["dt_hours"]
    assert float(used.sel(contract="plain")) == pytest.approx(3.08)


def _two_sites() -> dict:
    """s1 has a free 10 MW PV (its load fully green, no export); s2 at node n2 draws the same."""
    cfg = loaded()
    add_site(cfg, "s2", "n2")
    cfg["interactive"].append({"name": "web2", "demand": 15.0, "sites": ["s2"]})
    cfg["renewables"] = [{"name": "pv", "site": "s1", "capacity": 10.0, "profile": 1.0}]
    return cfg


def test_certificates_cover_only_the_sites_own_non_green_energy():
    """Portfolio target 60 % of 15.4 MWh = 9.24; s1's PV gives 7.7 -> 1.54 MWh of certificates
    at 5 CNY. s1 has no non-green energy, so they must sit at s2 (certificate_own_use):
    cost 770 (s2's grid) + 7.7 = 777.7 CNY; shares s1 100 %, s2 1.54 / 7.7 = 20 %."""
    cfg = _two_sites()
    cfg["certificates"] = {"price": 5.0}
    cfg["policies"]["green_share"] = {"target": 0.6, "scope": "portfolio"}
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(777.7)
    cert = r.ds["e_certificate"]
    assert float(cert.sel(site="s1")) == pytest.approx(0.0, abs=1e-9)
    assert float(cert.sel(site="s2")) == pytest.approx(1.54)
    assert r.kpis["green_share"]["s1"] == pytest.approx(1.0)
    assert r.kpis["green_share"]["s2"] == pytest.approx(0.2)


def test_certificate_moved_to_a_fully_green_site_is_caught():
    cfg = _two_sites()
    cfg["certificates"] = {"price": 5.0}
    cfg["policies"]["green_share"] = {"target": 0.6, "scope": "portfolio"}
    ds = solve_ok(cfg).ds.copy()
    ds["e_certificate"][:] = [1.54, 0.0]  # same total, now at s1 (101.54 / 77 % of 7.7)
    found = {(v.check, v.where) for v in suandian.certify(ds)}
    assert ("green_share.certificate_own_use", "site=s1") in found


def test_site_scope_is_the_default_and_site_targets_override():
    """Default scope 'site': s2 alone needs 0.6 x 7.7 = 4.62 MWh from the 150 contract:
    s1 770 is free PV (0), s2 3.08 x 100 + 4.62 x 150 = 1001 CNY. With site_targets
    {s2: null} nothing is needed: 770 CNY (s2 all grid); s2 has no row (target NaN)."""
    cfg = _two_sites()
    cfg["green_contracts"] = [contract("n2")]
    cfg["policies"]["green_share"] = {"target": 0.6}
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(1001.0)
    assert list(r.ds["scope"].values) == ["s1", "s2"]
    cfg["policies"]["green_share"]["site_targets"] = {"s2": None}
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(770.0)
    assert np.isnan(float(r.ds["green_target"].sel(scope="s2")))
    assert float(r.ds["green_target"].sel(scope="s1")) == pytest.approx(0.6)


def test_site_targets_need_site_scope_and_known_sites():
    cfg = _two_sites()
    cfg["policies"]["green_share"] = {"target": 0.6, "site_targets": {"s9": 0.5}}
    with pytest.raises(suandian.ScenarioError, match=r"site_targets\.s9"):
        suandian.load_scenario(cfg)
    cfg["policies"]["green_share"] = {
        "target": 0.6,
        "scope": "portfolio",
        "site_targets": {"s1": 0.5},
    }
    with pytest.raises(suandian.ScenarioError, match="apply to scope 'site' only"):
        suandian.load_scenario(cfg)
