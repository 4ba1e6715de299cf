"""Solved Pyomo model -> ``xarray.Dataset`` with the schedule, the inputs and the duals.

The Dataset is self-contained: it carries every input the certifier and the carbon books
need, so a saved result can be re-checked without the scenario (``role`` attribute:
``decision``, ``input`` or ``dual``; ``units`` attribute on every variable).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from ..scenario import Scenario

NAN = float("nan")


def _grid(var, keys_a, keys_b, T: int) -> np.ndarray:
    """Values of ``var[a, b, t]`` as an (A, B, T) array; missing indices are 0."""
    out = np.zeros((len(keys_a), len(keys_b), T))
    ia = {k: i for i, k in enumerate(keys_a)}
    ib = {k: i for i, k in enumerate(keys_b)}
    for (a, b_, t), v in var.items():
        out[ia[a], ib[b_], t] = v.value
    return out


def _pair(var, keys, T: int) -> np.ndarray:
    """Values of ``var[k, t]`` as a (K, T) array."""
    out = np.zeros((len(keys), T))
    ik = {k: i for i, k in enumerate(keys)}
    for (k, t), v in var.items():
        out[ik[k], t] = v.value
    return out


def _da(data, dims, units: str, role: str, doc: str) -> xr.DataArray:
    return xr.DataArray(
        np.asarray(data), dims=dims, attrs={"units": units, "role": role, "description": doc}
    )


def _text(values) -> np.ndarray:
    return np.asarray(list(values), dtype=object)


def build_dataset(m: pyo.ConcreteModel) -> xr.Dataset:
    """Return the schedule, inputs and duals of a solved model as a Dataset."""
    sc: Scenario = m.scenario
    c = sc.config
    T = sc.periods
    unit = c.compute_unit
    sites = [s.name for s in c.sites]
    nodes = [n.name for n in c.nodes]
    wls = [w.name for w in c.interactive]
    jobs = [j.name for j in c.batch]
    stors = [u.name for u in c.storage]
    ress = [r.name for r in c.renewables]
    cors = [k.name for k in c.corridors]
    cons = [g.name for g in c.green_contracts]
    dc, grid, res, stor, green = m.dc, m.grid, m.res, m.stor, m.green
    site_time = ("site", "time")
    v: dict[str, xr.DataArray] = {}

    # --------------------------------------------------------------- decisions
    for name, var, units, doc in [
        ("n_on", dc.n_on, "blocks", "cluster blocks switched on"),
        ("n_start", dc.n_start, "blocks", "cluster blocks started"),
        ("p_it", dc.p_it, "MW", "IT power"),
        ("p_loss", dc.p_loss, "MW", "electrical losses"),
        ("p_cool", dc.p_cool, "MW", "cooling electricity"),
        ("p_facility", dc.p_facility, "MW", "facility power = IT + losses + cooling"),
        ("p_grid", grid.p_grid, "MW", "grid import"),
    ]:
        v[name] = _da(_pair(var, sites, T), site_time, units, "decision", doc)
    v["n_start"].values = _reported_starts(v["n_on"].values, v["n_start"].values, c.sites)
    S = dc.compute_scale
    v["x_serve"] = _da(
        S * _grid(dc.x_serve, wls, sites, T),
        ("workload", "site", "time"),
        unit,
        "decision",
        "interactive compute served",
    )
    v["x_run"] = _da(
        S * _grid(dc.x_run, jobs, sites, T),
        ("job", "site", "time"),
        unit,
        "decision",
        "batch compute run",
    )
    v["p_renewable"] = _da(
        _pair(res.p_used, ress, T), ("renewable", "time"), "MW", "decision", "renewable power used"
    )
    for name, var, units, doc in [
        ("p_charge", stor.p_charge, "MW", "battery charging"),
        ("p_discharge", stor.p_discharge, "MW", "battery discharging"),
        ("e_soc", stor.e_soc, "MWh", "state of charge at the end of the period"),
    ]:
        v[name] = _da(_pair(var, stors, T), ("storage", "time"), units, "decision", doc)
    v["p_send"] = _da(
        _grid(green.p_send, cors, sites, T),
        ("corridor", "site", "time"),
        "MW",
        "decision",
        "corridor purchase at the sending end, per receiving site",
    )
    v["p_contract"] = _da(
        _grid(green.p_contract, cons, sites, T),
        ("contract", "site", "time"),
        "MW",
        "decision",
        "green contract delivery",
    )
    v["e_certificate"] = _da(
        [green.e_certificate[s].value for s in sites],
        ("site",),
        "MWh",
        "decision",
        "green certificates bought",
    )
    if m.compute_shortfall_penalty is not None:
        v["x_unserved"] = _da(
            S * _pair(dc.x_unserved, wls, T),
            ("workload", "time"),
            unit,
            "decision",
            "interactive demand not served (diagnosis)",
        )
        v["x_unfinished"] = _da(
            [S * dc.x_unfinished[j].value for j in jobs],
            ("job",),
            f"{unit} h",
            "decision",
            "batch work not done (diagnosis)",
        )
    if m.shortfall_penalty is not None:
        v["e_green_shortfall"] = _da(
            [m.green_share.e_shortfall[g].value for g in m.green_share.SCOPE],
            ("scope",),
            "MWh",
            "decision",
            "green energy missing for the target (diagnosis)",
        )
        v["e_pue_excess"] = _da(
            [m.pue_cap.e_excess[s].value if s in m.pue_cap.CAPPED else 0.0 for s in sites],
            ("site",),
            "MWh",
            "decision",
            "facility energy above the PUE cap (diagnosis)",
        )

    # ------------------------------------------------------------------ inputs
    def inp(name, data, dims, units, doc):
        v[name] = _da(data, dims, units, "input", doc)

    inp(
        "demand",
        [sc.profile(w.demand) for w in c.interactive] or np.zeros((0, T)),
        ("workload", "time"),
        unit,
        "interactive demand",
    )
    inp(
        "serve_eligible",
        [[s in w.sites for s in sites] for w in c.interactive] or np.zeros((0, len(sites)), bool),
        ("workload", "site"),
        "1",
        "eligible sites",
    )
    inp("job_work", [j.work for j in c.batch], ("job",), f"{unit} h", "work to complete")
    inp(
        "job_release",
        [sc.period(j.release, 0) for j in c.batch],
        ("job",),
        "period",
        "first period the job may run",
    )
    inp(
        "job_deadline",
        [sc.period(j.deadline, T) for j in c.batch],
        ("job",),
        "period",
        "end of the job's window (exclusive)",
    )
    inp("job_max_rate", [j.max_rate for j in c.batch], ("job",), unit, "maximum rate")
    inp(
        "run_eligible",
        [[s in j.sites for s in sites] for j in c.batch] or np.zeros((0, len(sites)), bool),
        ("job", "site"),
        "1",
        "eligible sites",
    )
    inp("site_node", _text(s.node for s in c.sites), ("site",), "", "grid node of the site")
    for name, attr, units, doc in [
        ("blocks", "blocks", "blocks", "cluster blocks K"),
        ("block_capacity", "block_capacity", unit, "compute per block"),
        ("idle_power", "idle_power", "MW", "IT power per block on"),
        ("dynamic_power", "dynamic_power", f"MW/{unit}", "IT power per compute unit"),
        ("startup_cost", "startup_cost", "CNY", "cost per block start"),
        ("loss_fraction", "loss_fraction", "1", "electrical losses per MW IT"),
        ("min_on", "min_on", "blocks", "blocks always on"),
    ]:
        inp(name, [float(getattr(s, attr)) for s in c.sites], ("site",), units, doc)
    inp(
        "initial_on",
        [NAN if s.initial_on is None else float(s.initial_on) for s in c.sites],
        ("site",),
        "blocks",
        "blocks on before the horizon (NaN: free)",
    )
    inp("cop", [dc.cop[s] for s in sites], site_time, "1", "cooling COP")
    inp(
        "pue_cap",
        [NAN if sc.pue_cap(s) is None else sc.pue_cap(s) for s in c.sites],
        ("site",),
        "1",
        "PUE cap (NaN: none)",
    )
    inp(
        "tariff",
        [sc.profile(n.tariff) for n in c.nodes],
        ("node", "time"),
        "CNY/MWh",
        "grid energy price",
    )
    inp(
        "emission_factor",
        [sc.profile(n.emission_factor) for n in c.nodes],
        ("node", "time"),
        "tCO2/MWh",
        "location-based grid factor",
    )
    inp(
        "residual_emission_factor",
        [
            sc.profile(
                n.residual_emission_factor
                if n.residual_emission_factor is not None
                else n.emission_factor
            )
            for n in c.nodes
        ],
        ("node", "time"),
        "tCO2/MWh",
        "market-based residual-mix factor",
    )
    inp(
        "import_limit",
        [NAN if n.import_limit is None else n.import_limit for n in c.nodes],
        ("node",),
        "MW",
        "import limit (NaN: none)",
    )
    inp("renewable_site", _text(r.site for r in c.renewables), ("renewable",), "", "site")
    inp("renewable_kind", _text(r.kind for r in c.renewables), ("renewable",), "", "kind")
    inp(
        "p_renewable_available",
        [res.p_available[r] for r in ress] or np.zeros((0, T)),
        ("renewable", "time"),
        "MW",
        "available renewable power",
    )
    inp(
        "renewable_cost",
        [r.cost for r in c.renewables],
        ("renewable",),
        "CNY/MWh",
        "price of renewable energy used",
    )
    inp("storage_site", _text(u.site for u in c.storage), ("storage",), "", "site")
    for name, attr, units, doc in [
        ("storage_power", "power", "MW", "charge/discharge limit"),
        ("storage_energy", "energy", "MWh", "energy capacity"),
        ("eta_charge", "eta_charge", "1", "charge efficiency"),
        ("eta_discharge", "eta_discharge", "1", "discharge efficiency"),
        ("self_discharge", "self_discharge", "1/h", "self-discharge per hour"),
        ("soc_initial", "soc_initial", "1", "initial state of charge (fraction)"),
        ("throughput_cost", "throughput_cost", "CNY/MWh", "wear cost per MWh in or out"),
    ]:
        inp(name, [float(getattr(u, attr)) for u in c.storage], ("storage",), units, doc)
    inp(
        "soc_final_min",
        [
            NAN
            if u.soc_final == "free"
            else (u.soc_initial if u.soc_final == "cyclic" else float(u.soc_final))
            for u in c.storage
        ],
        ("storage",),
        "1",
        "minimum final state of charge (fraction; NaN: free)",
    )
    inp(
        "storage_exclusive",
        [u.no_simultaneous for u in c.storage],
        ("storage",),
        "1",
        "charge and discharge exclusive",
    )
    inp(
        "corridor_to_node",
        _text(k.to_node for k in c.corridors),
        ("corridor",),
        "",
        "receiving node",
    )
    inp(
        "corridor_from_node",
        _text(k.from_node for k in c.corridors),
        ("corridor",),
        "",
        "sending node",
    )
    inp(
        "corridor_capacity",
        [sc.profile(k.capacity) for k in c.corridors] or np.zeros((0, T)),
        ("corridor", "time"),
        "MW",
        "capacity available at the sending end",
    )
    inp(
        "corridor_price",
        [sc.profile(k.source_price) + k.tariff for k in c.corridors] or np.zeros((0, T)),
        ("corridor", "time"),
        "CNY/MWh",
        "source price + transmission tariff, per MWh sent",
    )
    inp("corridor_loss", [k.loss for k in c.corridors], ("corridor",), "1", "loss factor")
    inp(
        "corridor_green_fraction",
        [k.green_fraction for k in c.corridors],
        ("corridor",),
        "1",
        "green share of delivered energy",
    )
    inp("corridor_min", [k.min_mw for k in c.corridors], ("corridor",), "MW", "minimum purchase")
    inp(
        "corridor_block_mw",
        [NAN if k.block_mw is None else k.block_mw for k in c.corridors],
        ("corridor",),
        "MW",
        "block size (NaN: continuous)",
    )
    inp(
        "corridor_window",
        [sc.window_ids(k.windows) for k in c.corridors] or np.zeros((0, T), int),
        ("corridor", "time"),
        "1",
        "contract window id (-1: none)",
    )
    inp("contract_node", _text(g.node for g in c.green_contracts), ("contract",), "", "node")
    inp(
        "contract_capacity",
        [sc.profile(g.capacity) for g in c.green_contracts] or np.zeros((0, T)),
        ("contract", "time"),
        "MW",
        "deliverable power",
    )
    inp(
        "contract_price",
        [sc.profile(g.price) for g in c.green_contracts] or np.zeros((0, T)),
        ("contract", "time"),
        "CNY/MWh",
        "contract energy price",
    )

    # -------------------------------------------------------------------- duals
    dual = getattr(m, "dual", None)
    if dual is not None and len(dual):
        balance = m.ledger.balance
        v["energy_price"] = _da(
            [[dual.get(balance[s, t], NAN) / sc.dt for t in range(T)] for s in sites],
            site_time,
            "CNY/MWh",
            "dual",
            "marginal cost of one more MWh consumed at the site in the period",
        )

    coords = {
        "time": sc.time.values,
        "site": _text(sites),
        "node": _text(nodes),
        "workload": _text(wls),
        "job": _text(jobs),
        "storage": _text(stors),
        "renewable": _text(ress),
        "corridor": _text(cors),
        "contract": _text(cons),
    }
    if m.shortfall_penalty is not None:
        coords["scope"] = _text(m.green_share.SCOPE)
    ds = xr.Dataset(v, coords=coords)
    policy = c.policies
    ds.attrs.update(
        scenario=c.name,
        compute_unit=unit,
        dt_hours=sc.dt,
        resolution=c.horizon.resolution,
        green_share_target=NAN if policy.green_share is None else policy.green_share.target,
        green_share_scope="none" if policy.green_share is None else policy.green_share.scope,
        certificate_price=NAN if c.certificates is None else c.certificates.price,
        certificate_max_share=NAN
        if c.certificates is None or c.certificates.max_share is None
        else c.certificates.max_share,
        carbon_price=policy.carbon_price,
        carbon_basis=policy.carbon_basis,
        shortfall_penalty=NAN if m.shortfall_penalty is None else m.shortfall_penalty,
        compute_shortfall_penalty=NAN
        if m.compute_shortfall_penalty is None
        else m.compute_shortfall_penalty,
    )
    if dual is not None and len(dual):
        ds.attrs.update(_policy_duals(m, dual))
    return ds


def _reported_starts(n_on: np.ndarray, n_start: np.ndarray, sites) -> np.ndarray:
    """Start-ups to report: the model's, except where a start costs nothing.

    With ``startup_cost = 0`` the model's ``n_start`` is only bounded below, so any larger
    value is equally optimal; report the fewest starts consistent with ``n_on`` there.
    """
    out = n_start.copy()
    for i, site in enumerate(sites):
        if site.startup_cost > 0:
            continue
        before = np.concatenate(
            ([n_on[i, 0] if site.initial_on is None else site.initial_on], n_on[i, :-1])
        )
        out[i] = np.maximum(n_on[i] - before, 0.0)
    return out


def _policy_duals(m: pyo.ConcreteModel, dual) -> dict[str, float]:
    """Shadow prices of the policies, in user units (see docs/math/green_share.md, pue_cap.md)."""
    out: dict[str, float] = {}
    gs = m.green_share
    if hasattr(gs, "share_min"):
        for g in gs.SCOPE:
            y = dual.get(gs.share_min[g], NAN)
            consumption = pyo.value(sum(m.ledger.consumption[s] for s in _scope_sites(m, g)))
            out[f"shadow_green_share_{g}_cny_per_mwh"] = y
            out[f"shadow_green_share_{g}_cny_per_point"] = y * consumption / 100.0
    for s in m.pue_cap.CAPPED:
        y = dual.get(m.pue_cap.pue_max[s], NAN)
        it = pyo.value(m.dt * sum(m.dc.p_it[s, t] for t in m.TIME))
        out[f"shadow_pue_{s}_cny_per_0.01"] = 0.0 - y * it * 0.01
    return out


def _scope_sites(m: pyo.ConcreteModel, scope: str) -> list[str]:
    return list(m.SITE) if scope == "portfolio" else [scope]


def empty_dataset(sc: Scenario) -> xr.Dataset:
    """Dataset with only the time and site coordinates (no plan was found)."""
    return xr.Dataset(
        coords={"time": sc.time.values, "site": _text(s.name for s in sc.config.sites)},
        attrs={"scenario": sc.config.name, "dt_hours": sc.dt},
    )
