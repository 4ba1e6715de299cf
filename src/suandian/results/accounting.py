"""Carbon and energy books from a result Dataset alone (pure post-processing, no model).

Each component's ``account(ds)`` recomputes its flows by carrier from the Dataset (the
mirror of its ports); this module sums them and defines every measure once, for the KPIs,
the certifier and the docs (``docs/math/accounting.md``):

* intake[s,t]  = sum of the families' ``intake`` flows                              (MW)
* consumption  = sum_t intake * dt                                                   (MWh)
* green        = sum_t green flows * dt + certificates                               (MWh)
* PUE[s]       = sum_t facility / sum_t IT (storage losses excluded)
* WUE[s]       = sum_t water * dt / sum_t IT * dt  (m3/MWh = L/kWh)
* ERF[s]       = sum_t heat recovered * dt / sum_t facility * dt (ISO/IEC 30134-6)
* location-based CO2 = sum_t co2 flows * dt                                          (tCO2)
* market-based CO2   = max(0, sum_t co2_market flows * dt + certificate credit) per site
* hourly CFE   = sum_h cfe_h / sum_h load_h per site (Google's 24/7 score): load = facility
  energy in the clock hour, cfe = the carbon-free energy that served it (green intake and the
  carbon-free part of battery discharge first, then the grid's carbon-free share
  ``grid_cfe`` of what the grid supplied); certificates excluded (:func:`cfe`)
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..catalogue import known
from ..checks import attr, node_series, site_time_zeros
from ..component import Account
from ..components.thermal import reuse_kpis
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
        ``erf`` and ``heat_reused_mwh`` (energy reuse factor, where heat is recovered),
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

    hourly = cfe(ds, f).sum("time")

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
        **reuse_kpis(ds, e_fac),  # ERF (ISO/IEC 30134-6), where heat is recovered
        **_year_kpis(ds, sites, e_fac, e_it, green, consumption),
        "emissions_tco2": {
            "location_based": float(location.sum()),
            "market_based": float(market.sum()),
            **{f"location_based_{s}": float(location.sel(site=s)) for s in sites},
            **{f"market_based_{s}": float(market.sel(site=s)) for s in sites},
        },
        "cfe_hourly": {
            "portfolio": ratio(hourly["cfe"].sum(), hourly["load"].sum()),
            **{s: ratio(hourly["cfe"].sel(site=s), hourly["load"].sel(site=s)) for s in sites},
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


# --------------------------------------------------------------------------- hourly CFE
def cfe(ds: xr.Dataset, f: xr.Dataset | None = None) -> xr.Dataset:
    """Hourly carbon-free energy per site (Google's 24/7 CFE method), from the Dataset alone.

    Periods are summed to clock hours. In each hour and site, the load (facility energy) is
    served first by the carbon-free supply at hand: green intake (own and direct renewables
    used, the green part of corridor and contract deliveries: the ``green`` carrier, which
    already holds only energy with a green attribute) and the carbon-free part of battery
    discharge. Carbon-free supply beyond the load charges the batteries. The rest of the load
    and of the charging is served by a pool of grid energy without a green attribute (grid
    import, the non-green part of deliveries), carbon-free at the node's ``grid_cfe``, and of
    battery discharge without carbon-free content; both draw on the pool pro rata. Each
    battery carries the carbon-free share of what charged it (one store per battery, losses
    in proportion; initial content counted not carbon-free). Certificates do not count.

    Parameters
    ----------
    ds : xarray.Dataset
        A result Dataset.
    f : xarray.Dataset, optional
        Its per-site flows (:func:`flows`), if already computed.

    Returns
    -------
    xarray.Dataset
        (site, time) by clock hour, MWh: ``load`` (facility energy), ``cfe`` (carbon-free
        energy that served the load), ``clean`` (carbon-free supply at hand: green intake plus
        the carbon-free part of discharge), ``grid_cfe`` (the part of ``cfe`` credited from the
        grid's carbon-free share). The score is ``cfe.sum() / load.sum()``.
    """
    f = flows(ds) if f is None else f
    dt = float(ds.attrs["dt_hours"])
    share = node_series(ds, "grid_cfe") if "grid_cfe" in ds else xr.zeros_like(f["intake"])
    other = np.maximum(f["intake"] - f["green"], 0.0)
    per_hour = xr.Dataset(
        {
            "load": f["facility"] * dt,
            "green": f["green"] * dt,
            "grid_cf": share * other * dt,
        }
    )
    h = per_hour.resample(time="1h").sum().transpose("site", "time")
    load, green, grid_cf = (h[k].values.astype(float) for k in ("load", "green", "grid_cf"))
    S, H = load.shape
    charge = np.zeros((S, H))
    discharge = np.zeros((S, H))
    discharge_cf = np.zeros((S, H))
    if ds.sizes.get("storage", 0) and "p_charge" in ds:
        charge, discharge, discharge_cf = _storage_cf(ds, h, load, green, grid_cf)
    clean = green + discharge_cf
    matched, _, residual_load, _, pool_share = _match(load, clean, grid_cf, discharge, charge)
    from_grid = pool_share * residual_load
    coords = {"site": ds["site"], "time": h["time"]}
    dims = ("site", "time")
    return xr.Dataset(
        {
            "load": (dims, load),
            "cfe": (dims, matched + from_grid),
            "clean": (dims, clean),
            "grid_cfe": (dims, from_grid),
        },
        coords=coords,
    )


def _match(load, clean, grid_cf, discharge, charge):
    """One hour's allocation (arrays of any shape, MWh).

    Returns the clean energy serving the load, the excess clean energy going into batteries,
    the residual load and residual charging served by the pool, and the pool's carbon-free
    share (grid energy at ``grid_cfe``, discharge without carbon-free content at 0).
    """
    matched = np.minimum(load, clean)
    excess = np.minimum(clean - matched, charge)
    residual_load = load - matched
    residual_charge = np.maximum(charge - excess, 0.0)
    pool = residual_load + residual_charge
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(pool > 1e-12, np.minimum(grid_cf / pool, 1.0), 0.0)
    return matched, excess, residual_load, residual_charge, share


def _storage_cf(ds, h, load, green, grid_cf):
    """Battery flows by site and hour with the carbon-free part of discharge (MWh).

    Each battery's stored energy ``E`` and its carbon-free part ``F`` follow the battery's own
    balance hour by hour (self-discharge and losses in proportion): discharge takes out the
    share ``F / E`` it held at the start of the hour, charging adds the carbon-free share of
    the site's charging in the hour. The recursion is sequential in time, so it loops over
    hours (a year: 8,760 steps on small arrays).
    """
    dt = float(ds.attrs["dt_hours"])
    flows_u = xr.Dataset({"c": ds["p_charge"] * dt, "x": ds["p_discharge"] * dt})
    hu = flows_u.resample(time="1h").sum().transpose("storage", "time")
    c_u, x_u = hu["c"].values.astype(float), hu["x"].values.astype(float)
    onehot = (ds["storage_site"].values[:, None] == ds["site"].values[None, :]).astype(float)
    eta_c = ds["eta_charge"].values.astype(float)
    eta_d = ds["eta_discharge"].values.astype(float)
    keep = 1.0 - ds["self_discharge"].values.astype(float)  # per clock hour
    energy = ds["soc_initial"].values.astype(float) * ds["storage_energy"].values.astype(float)
    carbon_free = np.zeros_like(energy)
    S, H = load.shape
    charge = onehot.T @ c_u
    discharge = onehot.T @ x_u
    discharge_cf = np.zeros((S, H))
    for k in range(H):
        frac = np.where(
            energy > 1e-12, np.clip(carbon_free / np.where(energy > 0, energy, 1.0), 0.0, 1.0), 0.0
        )
        x_cf = frac * x_u[:, k]
        discharge_cf[:, k] = onehot.T @ x_cf
        clean = green[:, k] + discharge_cf[:, k]
        _, excess, _, residual_charge, share = _match(
            load[:, k], clean, grid_cf[:, k], discharge[:, k], charge[:, k]
        )
        into = excess + share * residual_charge  # carbon-free MWh charged, per site
        with np.errstate(divide="ignore", invalid="ignore"):
            site_frac = np.where(charge[:, k] > 1e-12, into / charge[:, k], 0.0)
        cf_in = c_u[:, k] * (onehot @ site_frac)
        energy = np.maximum(keep * energy + eta_c * c_u[:, k] - x_u[:, k] / eta_d, 0.0)
        carbon_free = np.clip(keep * carbon_free + eta_c * cf_in - x_cf / eta_d, 0.0, energy)
    return charge, discharge, discharge_cf


def shadow_prices(ds: xr.Dataset) -> dict[str, float]:
    """Scalar shadow prices by name: every non-NaN value of the outputs declared ``shadow``.

    Keys are ``<output>_<label>_<shadow>`` (``shadow_pue_s1_cny_per_0.01``), in the build
    order of the components and the order of their output tables.
    """
    out: dict[str, float] = {}
    for component in known(ds):
        for o in component.outputs:
            if not o.shadow or o.name not in ds:
                continue
            da = ds[o.name]
            for label in da[da.dims[0]].values:
                value = float(da.sel({da.dims[0]: label}))
                if not np.isnan(value):
                    out[f"{o.name}_{label}_{o.shadow}"] = value
    return out
