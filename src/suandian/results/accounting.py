"""Carbon and energy books from a result Dataset alone (pure post-processing, no Pyomo).

Every measure is defined once here and used by the KPIs, the certifier and the docs
(``docs/math/accounting.md``):

* intake[s,t]  = grid + renewables used + corridor delivered + contract delivered   (MW)
* consumption  = sum_t intake * dt                                                   (MWh)
* green        = sum_t (renewables used + green part of corridor delivered
                 + contract delivered) * dt + certificates                           (MWh)
* PUE[s]       = sum_t p_facility / sum_t p_it (storage losses excluded)
* location-based CO2 = sum_t EF_node * (intake - renewables used) * dt               (tCO2)
* market-based CO2   = max(0, sum_t EF_residual * brown * dt - certificates * mean_t EF_residual)
  per site, with brown = grid + non-green part of corridor delivered                (tCO2)
* hourly CFE   = sum_h min(green_h, consumption_h) / sum_h consumption_h, certificates
  excluded, periods summed to clock hours
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def _dt(ds: xr.Dataset) -> float:
    return float(ds.attrs["dt_hours"])


def _by_site(da: xr.DataArray, site_of: xr.DataArray, sites: xr.DataArray) -> xr.DataArray:
    """Sum an (asset, time) array over the assets of each site -> (site, time)."""
    dim = da.dims[0]
    out = [da.where(site_of == s, 0.0).sum(dim) for s in sites.values]
    return xr.concat(out, dim="site").assign_coords(site=sites) if out else da


def flows(ds: xr.Dataset) -> xr.Dataset:
    """Per-site power flows (MW): grid, renewables, delivered purchases, green, brown, intake."""
    sites = ds["site"]
    zeros = xr.zeros_like(ds["p_grid"])
    renew = (
        _by_site(ds["p_renewable"], ds["renewable_site"], sites) if ds.sizes["renewable"] else zeros
    )
    keep = 1.0 - ds["corridor_loss"]
    if ds.sizes["corridor"]:
        corridor = (ds["p_send"] * keep).sum("corridor")
        corridor_green = (ds["p_send"] * keep * ds["corridor_green_fraction"]).sum("corridor")
    else:
        corridor = corridor_green = zeros
    contract = ds["p_contract"].sum("contract") if ds.sizes["contract"] else zeros
    if ds.sizes["storage"]:
        charge = _by_site(ds["p_charge"], ds["storage_site"], sites)
        discharge = _by_site(ds["p_discharge"], ds["storage_site"], sites)
    else:
        charge = discharge = zeros
    intake = ds["p_grid"] + renew + corridor + contract
    return xr.Dataset(
        {
            "grid": ds["p_grid"],
            "renewables": renew,
            "corridor": corridor,
            "corridor_green": corridor_green,
            "contract": contract,
            "charge": charge,
            "discharge": discharge,
            "intake": intake,
            "green": renew + corridor_green + contract,
            "brown": ds["p_grid"] + corridor - corridor_green,
        }
    )


def node_series(ds: xr.Dataset, name: str) -> xr.DataArray:
    """A node input (node, time) mapped to each site -> (site, time)."""
    return ds[name].sel(node=ds["site_node"]).drop_vars("node")


def books(ds: xr.Dataset) -> dict:
    """Compute the KPIs of a result Dataset.

    Returns
    -------
    dict
        ``cost`` (CNY by term and total), ``energy_mwh`` (by source), ``consumption_mwh``,
        ``green_mwh``, ``green_share`` (portfolio and per site), ``pue`` per site,
        ``emissions_tco2`` (location- and market-based), ``cfe_hourly``, ``cue_kg_per_kwh``,
        ``co2_per_compute`` (tCO2 per compute unit x hour).
    """
    dt = _dt(ds)
    f = flows(ds)
    sites = [str(s) for s in ds["site"].values]
    cert = ds["e_certificate"]
    consumption = f["intake"].sum("time") * dt
    green = f["green"].sum("time") * dt + cert
    e_it = ds["p_it"].sum("time") * dt
    e_fac = ds["p_facility"].sum("time") * dt
    ef = node_series(ds, "emission_factor")
    ef_res = node_series(ds, "residual_emission_factor")
    location = ((f["intake"] - f["renewables"]) * ef).sum("time") * dt
    brown_co2 = (f["brown"] * ef_res).sum("time") * dt
    market = np.maximum(brown_co2 - cert * ef_res.mean("time"), 0.0)
    compute = (ds["x_serve"].sum(("workload", "time")) + ds["x_run"].sum(("job", "time"))) * dt

    hourly_green = f["green"].resample(time="1h").sum() * dt
    hourly_cons = f["intake"].resample(time="1h").sum() * dt
    matched = np.minimum(hourly_green, hourly_cons).sum("time")

    def ratio(a, b):
        a, b = float(a), float(b)
        return a / b if b > 0 else float("nan")

    tariff = node_series(ds, "tariff")
    cost = {
        "grid_energy": float((ds["p_grid"] * tariff).sum() * dt),
        "renewables": float((ds["p_renewable"] * ds["renewable_cost"]).sum() * dt),
        "storage_wear": float(
            ((ds["p_charge"] + ds["p_discharge"]) * ds["throughput_cost"]).sum() * dt
        ),
        "corridor": float((ds["p_send"] * ds["corridor_price"]).sum() * dt),
        "green_contract": float((ds["p_contract"] * ds["contract_price"]).sum() * dt),
        "certificates": float(cert.sum()) * _zero_nan(ds.attrs.get("certificate_price")),
        "startup": float((ds["n_start"] * ds["startup_cost"]).sum()),
        "carbon": float(
            market.sum() if ds.attrs.get("carbon_basis") == "market" else location.sum()
        )
        * float(ds.attrs.get("carbon_price", 0.0)),
    }
    penalty = _zero_nan(ds.attrs.get("shortfall_penalty"))
    if penalty and "e_green_shortfall" in ds:
        cost["shortfall_policy"] = penalty * float(
            ds["e_green_shortfall"].sum() + ds["e_pue_excess"].sum()
        )
    penalty = _zero_nan(ds.attrs.get("compute_shortfall_penalty"))
    if penalty and "x_unserved" in ds:
        cost["shortfall_compute"] = penalty * float(
            ds["x_unserved"].sum() * dt + ds["x_unfinished"].sum()
        )
    cost["total"] = sum(cost.values())

    return {
        "cost": cost,
        "energy_mwh": {
            "facility": float(e_fac.sum()),
            "it": float(e_it.sum()),
            "grid": float(f["grid"].sum() * dt),
            "renewables_used": float(f["renewables"].sum() * dt),
            "renewables_curtailed": float(
                (ds["p_renewable_available"] - ds["p_renewable"]).sum() * dt
            ),
            "corridor_sent": float(ds["p_send"].sum() * dt),
            "corridor_delivered": float(f["corridor"].sum() * dt),
            "green_contract": float(f["contract"].sum() * dt),
            "certificates": float(cert.sum()),
            "storage_charge": float(f["charge"].sum() * dt),
            "storage_discharge": float(f["discharge"].sum() * dt),
        },
        "consumption_mwh": {s: float(consumption.sel(site=s)) for s in sites},
        "green_mwh": {s: float(green.sel(site=s)) for s in sites},
        "green_share": {
            "portfolio": ratio(green.sum(), consumption.sum()),
            **{s: ratio(green.sel(site=s), consumption.sel(site=s)) for s in sites},
        },
        "pue": {s: ratio(e_fac.sel(site=s), e_it.sel(site=s)) for s in sites},
        "emissions_tco2": {
            "location_based": float(location.sum()),
            "market_based": float(market.sum()),
            **{f"location_based_{s}": float(location.sel(site=s)) for s in sites},
        },
        "cfe_hourly": {
            "portfolio": ratio(matched.sum(), hourly_cons.sum()),
            **{s: ratio(matched.sel(site=s), hourly_cons.sum("time").sel(site=s)) for s in sites},
        },
        "cue_kg_per_kwh": ratio(location.sum(), e_it.sum()),
        "co2_per_compute": ratio(location.sum(), compute.sum()),
    }


def _zero_nan(value) -> float:
    value = float(value) if value is not None else 0.0
    return 0.0 if np.isnan(value) else value
