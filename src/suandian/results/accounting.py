"""Carbon and energy books from a result Dataset alone (pure post-processing, no model).

Each component's ``account(ds)`` recomputes its flows by carrier from the Dataset (the
mirror of its ports); this module sums them and defines every measure once, for the KPIs,
the certifier and the docs (``docs/math/accounting.md``):

* intake[s,t]  = sum of the families' ``intake`` flows                              (MW)
* consumption  = sum_t intake * dt                                                   (MWh)
* green        = sum_t green flows * dt + certificates                               (MWh)
* PUE[s]       = sum_t facility / sum_t IT (storage losses excluded)
* WUE[s]       = sum_t water * dt / sum_t IT * dt  (m3/MWh = L/kWh)
* location-based CO2 = sum_t co2 flows * dt                                          (tCO2)
* market-based CO2   = max(0, sum_t co2_market flows * dt + certificate credit) per site
* hourly CFE   = sum_h min(green_h, consumption_h) / sum_h consumption_h, certificates
  excluded, periods summed to clock hours
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import attr, site_time_zeros
from ..component import Account
from ..components import known
from ..policies.pue_cap import grade

CARRIER_FLOWS = ("power", "intake", "green", "co2", "co2_market", "it", "facility")


def accounts(ds: xr.Dataset) -> dict[str, Account]:
    """Every family's account of the Dataset."""
    return {c.name: c.account(ds) for c in known(ds) if c.account is not None}


def flows(ds: xr.Dataset, acc: dict[str, Account] | None = None) -> xr.Dataset:
    """Per-site flows by carrier, summed over the families, (site, time)."""
    acc = accounts(ds) if acc is None else acc
    zeros = site_time_zeros(ds)
    out = {}
    for carrier in CARRIER_FLOWS:
        total = zeros
        for a in acc.values():
            if carrier in a.flows:
                total = total + a.flows[carrier]
        out[carrier] = total
    return xr.Dataset(out)


def _horizon(acc: dict[str, Account], carrier: str, ds: xr.Dataset) -> xr.DataArray:
    total = xr.zeros_like(ds["site"], dtype=float)
    for a in acc.values():
        if carrier in a.horizon:
            total = total + a.horizon[carrier]
    return total


def books(ds: xr.Dataset, acc: dict[str, Account] | None = None) -> dict:
    """Compute the KPIs of a result Dataset.

    Returns
    -------
    dict
        ``cost`` (CNY by term and total), ``energy_mwh`` (by source), ``consumption_mwh``,
        ``green_mwh``, ``green_share`` (portfolio and per site) and its certificate part
        ``green_share_certificates``, ``pue`` per site and its
        GB 40879 grade ``pue_grade``, ``pue_year`` and ``green_share_year`` (the year's
        figures, with year-to-date and forecast energies; only where given),
        ``wue_l_per_kwh`` (cooling water per IT energy, per site and portfolio),
        ``emissions_tco2`` (location- and market-based), ``cfe_hourly``, ``cue_kg_per_kwh``,
        ``co2_per_compute`` (tCO2 per compute unit x hour).
    """
    from ..components.datacenter import compute_served

    acc = accounts(ds) if acc is None else acc
    dt = float(ds.attrs["dt_hours"])
    f = flows(ds, acc)
    sites = [str(s) for s in ds["site"].values]
    consumption = f["intake"].sum("time") * dt
    certificates = _horizon(acc, "certificates", ds)
    green = f["green"].sum("time") * dt + certificates
    e_it = f["it"].sum("time") * dt
    e_fac = f["facility"].sum("time") * dt
    location = f["co2"].sum("time") * dt
    market = np.maximum(f["co2_market"].sum("time") * dt + _horizon(acc, "co2_market", ds), 0.0)
    compute = compute_served(ds).sum("time") * dt

    hourly_green = f["green"].resample(time="1h").sum() * dt
    hourly_cons = f["intake"].resample(time="1h").sum() * dt
    matched = np.minimum(hourly_green, hourly_cons).sum("time")

    def ratio(a, b):
        a, b = float(a), float(b)
        return a / b if b > 0 else float("nan")

    cost: dict[str, float] = {}
    energy: dict[str, float] = {}
    for a in acc.values():
        cost.update(a.cost)
        energy.update(a.energy)
    price = attr(ds, "carbon_price")
    if price and not np.isnan(price):
        basis = market if ds.attrs.get("carbon_basis") == "market" else location
        cost["carbon"] = float(basis.sum()) * price
    penalty = attr(ds, "shortfall_penalty")
    if not np.isnan(penalty):
        if "e_green_shortfall" in ds:
            cost["shortfall_green"] = penalty * float(ds["e_green_shortfall"].sum())
        if "e_pue_excess" in ds:
            cost["shortfall_pue"] = penalty * float(ds["e_pue_excess"].sum())
    cost["total"] = sum(cost.values())
    pue = {s: ratio(e_fac.sel(site=s), e_it.sel(site=s)) for s in sites}
    return {
        "cost": cost,
        "energy_mwh": energy,
        "consumption_mwh": {s: float(consumption.sel(site=s)) for s in sites},
        "green_mwh": {s: float(green.sel(site=s)) for s in sites},
        "green_share": {
            "portfolio": ratio(green.sum(), consumption.sum()),
            **{s: ratio(green.sel(site=s), consumption.sel(site=s)) for s in sites},
        },
        "green_share_certificates": {
            "portfolio": ratio(certificates.sum(), consumption.sum()),
            **{s: ratio(certificates.sel(site=s), consumption.sel(site=s)) for s in sites},
        },
        "pue": pue,
        "pue_grade": {s: grade(value) for s, value in pue.items()},
        **_wue(ds, sites, e_it, dt),
        **_year_kpis(ds, sites, e_fac, e_it, green, consumption),
        "emissions_tco2": {
            "location_based": float(location.sum()),
            "market_based": float(market.sum()),
            **{f"location_based_{s}": float(location.sel(site=s)) for s in sites},
            **{f"market_based_{s}": float(market.sel(site=s)) for s in sites},
        },
        "cfe_hourly": {
            "portfolio": ratio(matched.sum(), hourly_cons.sum()),
            **{s: ratio(matched.sel(site=s), hourly_cons.sum("time").sel(site=s)) for s in sites},
        },
        "cue_kg_per_kwh": ratio(location.sum(), e_it.sum()),
        "co2_per_compute": ratio(location.sum(), compute.sum()),
    }


def _wue(ds: xr.Dataset, sites: list[str], e_it: xr.DataArray, dt: float) -> dict:
    """Water usage effectiveness, L/kWh of IT energy (= m3/MWh), where water is modelled."""
    if "water" not in ds:
        return {}
    water = ds["water"].sum("time") * dt
    total = float(e_it.sum())
    out = {"portfolio": float(water.sum()) / total if total > 0 else float("nan")}
    for s in sites:
        it = float(e_it.sel(site=s))
        out[s] = float(water.sel(site=s)) / it if it > 0 else float("nan")
    return {"wue_l_per_kwh": out}


def _year_kpis(ds, sites, e_fac, e_it, green, consumption) -> dict:
    """The year's PUE per site and green share per scope, where year data were given."""
    out: dict[str, dict[str, float]] = {}
    if "pue_it_other" in ds:
        year = {}
        for s in sites:
            i_other = float(ds["pue_it_other"].sel(site=s))
            it = float(e_it.sel(site=s)) + i_other
            if not np.isnan(i_other) and it > 0:
                fac = float(e_fac.sel(site=s)) + float(ds["pue_facility_other"].sel(site=s))
                year[s] = fac / it
        if year:
            out["pue_year"] = year
    if "consumption_other" in ds:
        year = {}
        for g in (str(g) for g in ds["scope"].values):
            members = sites if g == "portfolio" else [g]
            c_other = float(ds["consumption_other"].sel(scope=g))
            c = float(consumption.sel(site=members).sum()) + c_other
            if not np.isnan(c_other) and c > 0:
                got = float(green.sel(site=members).sum()) + float(ds["green_other"].sel(scope=g))
                year[g] = got / c
        if year:
            out["green_share_year"] = year
    return out
