"""Chilled-water / ice thermal storage and waste-heat recovery at sites.

Math: ``docs/math/thermal.md``. Block ``m.thermal``; scenario sections ``thermal_storage``
(:class:`ThermalStorage`) and ``heat_recovery`` (:class:`HeatRecovery`).

**Thermal storage** (dimension ``tes``): a tank of cold (MWh of heat it can absorb). Charging
runs the air path's chilled-water plant harder now, at ``k_chw`` (the plant's electricity per
MW of heat in the period: ``k_air`` minus the CRAH fans, which move the air whatever supplies
the chilled water) times ``charge_factor`` (ice: the chiller runs at a lower evaporating
temperature); discharging removes air-path heat later and saves that period's ``k_chw``.
Discharge is at most the heat the air path removes (the ``heat_air`` port of ``dc``). The net
electricity change enters the ``power`` port and, since it changes the cooling energy the
facility meters, the ``facility`` port (the PUE).

**Waste-heat recovery** (dimension ``recovery``): a heat pump draws heat from the liquid
(warm-water) loop, at most ``recovery_fraction`` of the liquid-path heat (the ``heat_liquid``
port of ``dc``), and delivers ``q_heat`` = drawn heat + its electricity ``q_heat / cop`` to a
buyer, up to the buyer's demand and the pump's capacity, at a price (cost term
``heat_sales``, a revenue). The heat pump is outside the PUE boundary (``power`` port only,
not ``facility``): the reuse process is not part of the data centre (ISO/IEC 30134-6:2021);
the energy reused, for the KPI ERF, is the heat drawn from the data centre.

This family reads the ``heat_air`` and ``heat_liquid`` ports of the families built before it
(:meth:`suandian.component.Context.flow`) and, from the scenario, the cooling data of the
sites (:meth:`suandian.scenario.Scenario.cooling`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import xarray as xr
from pydantic import Field

from ..checks import Rows, by_site, committed_share, period_weight, previous
from ..component import (
    Account,
    Capacity,
    CapacityExpr,
    Component,
    Context,
    FamilyBuilder,
    Fraction,
    Name,
    NonNeg,
    Output,
    Positive,
    Profile,
    Range,
    StateField,
    capacity_cost,
    capacity_outputs,
    check_capacities,
    hold_capacity,
)
from ..component import Section as _Model
from ..errors import Problem
from .storage import cut_end_rule, set_initial_fraction, within

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs


class ThermalStorage(_Model):
    """A chilled-water or ice tank at a site, on the air path's chilled-water loop."""

    name: Name = Field(description="tank name")
    site: Name = Field(description="site whose chilled-water plant charges the tank")
    capacity: NonNeg | Capacity = Field(
        description="MWh of cold (heat the full tank can absorb); or a Capacity: chosen by "
        "the model"
    )
    charge_max: NonNeg = Field(description="MW of cold made for the tank at most")
    discharge_max: NonNeg = Field(description="MW of heat the tank absorbs at most")
    standing_loss: Fraction = Field(
        0.0,
        description="fraction of the stored cold lost per hour (insulated stratified "
        "chilled-water or ice tanks lose ~1-5 % of their capacity a day, ~0.001-0.002/h [R])",
    )
    charge_factor: Positive = Field(
        1.0,
        description="electricity per MW of cold charged, relative to the plant's electricity "
        "per MW of heat in the period (k_chw): chilled water ~1.0, ice ~1.3-1.5 (COP 25-35 % "
        "lower at -5 degC evaporating [R])",
    )
    soc_initial: Fraction = Field(0.0, description="cold stored at the start, fraction of capacity")
    soc_final: Literal["cyclic", "free"] | Fraction = Field(
        "cyclic",
        description="'cyclic': end >= initial; 'free': no rule; a number: end >= that fraction",
    )


class HeatRecovery(_Model):
    """A heat pump selling the liquid loop's waste heat to a heat buyer (district heating)."""

    name: Name = Field(description="heat-recovery unit name (one per site)")
    site: Name = Field(description="site whose liquid (warm-water) loop the heat pump draws on")
    capacity: NonNeg | Capacity = Field(
        description="MW of heat the heat pump delivers at most; or a Capacity: chosen by the model"
    )
    cop: float = Field(
        3.0,
        gt=1.0,
        description="heat-pump COP: MW of heat delivered per MW of electricity (> 1; lifting "
        "30-45 degC to 70-90 degC: 2.5-3.5 [S])",
    )
    recovery_fraction: Fraction = Field(
        1.0, description="share of the liquid-path heat the heat pump can draw, 0..1"
    )
    demand: Annotated[Profile, Range(what="heat demands (MW)")] = Field(
        description="MW of heat the buyer takes at most (number or series)"
    )
    price: Annotated[Profile, Range(low=None, what="prices")] = Field(
        description="CNY per MWh of heat delivered (number or series)"
    )


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks: one heat-recovery unit per site, at a site with a liquid path.

    (Its series, ``demand`` >= 0 and ``price``, are checked by the shared walker.)
    """
    from ..errors import Problem

    c = sc.config
    problems = []
    seen: set[str] = set()
    sites = {s.name: s for s in c.sites}
    for i, h in enumerate(c.heat_recovery):
        if h.site in seen:
            problems.append(
                Problem(
                    f"heat_recovery[{i}].site",
                    repr(h.site),
                    "one heat-recovery unit per site; merge the units (sum their capacities)",
                )
            )
        seen.add(h.site)
        site = sites.get(h.site)
        if site is not None and site.cooling.liquid_fraction <= 0:
            problems.append(
                Problem(
                    f"heat_recovery[{i}].site",
                    repr(h.site),
                    "the site has no liquid path (cooling.liquid_fraction 0), so no heat to "
                    "recover; set the site's cooling.liquid_fraction or remove the unit",
                )
            )
    return problems


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    S, T, dt = ctx.S, ctx.T, ctx.dt
    tanks, pumps = c.thermal_storage, c.heat_recovery
    U, H = len(tanks), len(pumps)
    fb.coord("tes", [u.name for u in tanks])
    fb.coord("recovery", [h.name for h in pumps])

    # ------------------------------------------------------------------ inputs
    k_chw = np.zeros((S, T))
    if U:
        for i, s in enumerate(c.sites):
            fan = 0.0 if s.cooling.cop is not None else s.cooling.air_fan
            k_chw[i] = sc.cooling(s).k_air - fan
    site_u = ctx.site_index([u.site for u in tanks])
    a = {f: np.array([float(getattr(u, f)) for u in tanks]) for f in _TES_FIELDS}
    final = np.array(
        [
            np.nan
            if u.soc_final == "free"
            else (u.soc_initial if u.soc_final == "cyclic" else float(u.soc_final))
            for u in tanks
        ]
    )
    if ctx.cycle is not None:  # representative periods: each wraps around, no end rule
        final = np.full(U, np.nan)
    fb.input("tes_site", np.array([u.site for u in tanks], dtype=object))
    # a number, or chosen (fb.capacity): the stock's bound and its start and end take either
    size = fb.capacity("tes_capacity", [u.capacity for u in tanks], "tes")
    for f, name in _TES_FIELDS.items():
        fb.input(name, a[f])
    fb.input("tes_final_min", final)
    fb.input("k_chw", k_chw)

    site_h = ctx.site_index([h.site for h in pumps])
    # a number, or chosen (fb.capacity): q_heat <= the chosen MW by the rows q_heat_max
    pump = fb.capacity("recovery_capacity", [h.capacity for h in pumps], "recovery")
    cap = fb.largest(pump).astype(float)
    cop = np.array([h.cop for h in pumps], dtype=float)
    eta = np.array([h.recovery_fraction for h in pumps], dtype=float)
    demand = np.array([sc.profile(h.demand) for h in pumps]).reshape(H, T)
    price = np.array([sc.profile(h.price) for h in pumps]).reshape(H, T)
    heat_max = np.minimum(cap[:, None], demand)
    fb.input("recovery_site", np.array([h.site for h in pumps], dtype=object))
    fb.input("heat_pump_cop", cop)
    fb.input("recovery_fraction", eta)
    fb.input("heat_demand", demand)
    fb.input("heat_price", price)
    fb.input("heat_max", heat_max)

    # ------------------------------------------------------------ thermal storage
    q_ch = fb.var("q_charge", ub=a["charge_max"][:, None])
    q_dis = fb.var("q_discharge", ub=a["discharge_max"][:, None])
    e_cold = fb.bound("e_cold", size)
    keep = ((1.0 - a["standing_loss"]) ** dt)[:, None]
    first = np.broadcast_to(ctx.first, (U, T))  # periods starting from soc_initial
    rhs = fb.along(size * (keep[:, 0] * a["soc_initial"]), (U, T)) * first
    fb.constrain(
        "e_cold_balance", e_cold - ctx.previous(e_cold) * keep - (q_ch - q_dis) * dt, "==", rhs
    )
    last = np.zeros((U, T), bool)
    last[:, -1] = True
    fb.constrain(
        "e_cold_final",
        e_cold.expr(),
        ">=",
        fb.along(size * np.nan_to_num(final), (U, T)),
        mask=last & ~np.isnan(final)[:, None],
    )
    has_tes = np.zeros(S, bool)
    has_tes[site_u] = True
    fb.constrain(
        "cold_load",
        q_dis.group(0, site_u, S) - ctx.flow("heat_air"),
        "<=",
        0.0,
        mask=np.broadcast_to(has_tes[:, None], (S, T)),
    )
    k_u = k_chw[site_u]  # (U, T)
    p_tes = fb.expression("p_tes", q_ch * (k_u * a["charge_factor"][:, None]) - q_dis * k_u)
    net = p_tes.group(0, site_u, S)
    fb.port("power", -net)
    fb.port("facility", net)

    # ------------------------------------------------------------ heat recovery
    q_heat = fb.var("q_heat", ub=heat_max)
    chosen = np.array([isinstance(h.capacity, Capacity) and h.capacity.extendable for h in pumps])
    if isinstance(pump, CapacityExpr):  # heat_max holds the largest capacity: the choice here
        fb.constrain(
            "q_heat_max",
            q_heat - fb.along(pump, (H, T)),
            "<=",
            0.0,
            mask=np.broadcast_to(chosen[:, None], (H, T)),
        )
    q_rec = fb.expression("q_recovered", q_heat * (1.0 - 1.0 / cop)[:, None])
    p_hp = fb.expression("p_heat_pump", q_heat * (1.0 / cop)[:, None])
    has_h = np.zeros(S, bool)
    has_h[site_h] = True
    eta_s = np.zeros(S)
    eta_s[site_h] = eta  # one unit per site (check_thermal)
    fb.constrain(
        "heat_source",
        q_rec.group(0, site_h, S) - ctx.flow("heat_liquid") * eta_s[:, None],
        "<=",
        0.0,
        mask=np.broadcast_to(has_h[:, None], (S, T)),
    )
    fb.port("power", -p_hp.group(0, site_h, S))
    if H:
        fb.cost("heat_sales", q_heat * (-dt * price), per_period=True)


_TES_FIELDS = {
    "charge_max": "tes_charge_max",
    "discharge_max": "tes_discharge_max",
    "standing_loss": "tes_standing_loss",
    "charge_factor": "tes_charge_factor",
    "soc_initial": "tes_initial",
}


def _k_of_tanks(ds: xr.Dataset) -> xr.DataArray:
    """``k_chw`` of each tank's site, (tes, time)."""
    return ds["k_chw"].sel(site=ds["tes_site"]).drop_vars("site")


def _net(ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Per site: the tanks' net extra electricity and the heat pumps' electricity, (site, time)."""
    tes = by_site(ds["p_tes"], ds["tes_site"], ds["site"])
    hp = by_site(ds["p_heat_pump"], ds["recovery_site"], ds["site"])
    return tes, hp


def _account(ds: xr.Dataset) -> Account:
    if "tes" not in ds.sizes or "recovery" not in ds.sizes:  # saved before this family
        return Account()
    dt = float(ds.attrs["dt_hours"])
    w = period_weight(ds)
    tes, hp = _net(ds)
    cost = {}
    if ds.sizes.get("recovery", 0):
        cost["heat_sales"] = -float((ds["q_heat"] * ds["heat_price"] * w).sum() * dt)
    return Account(
        flows={"power": -tes - hp, "facility": tes},
        cost={**cost, **capacity_cost(ds, _CAPACITIES)},
        energy={
            "tes_charge": float((ds["q_charge"] * w).sum() * dt),
            "tes_discharge": float((ds["q_discharge"] * w).sum() * dt),
            "heat_delivered": float((ds["q_heat"] * w).sum() * dt),
            "heat_recovered": float((ds["q_recovered"] * w).sum() * dt),
            "heat_pump": float((ds["p_heat_pump"] * w).sum() * dt),
        },
    )


def _heat_paths(ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Heat on the air and the liquid path per (site, time), from ``dc``'s outputs."""
    heat = ds["p_it"] + ds["p_loss"]
    f = ds["liquid_fraction"] if "liquid_fraction" in ds else 0.0  # saved before heat paths
    return (1.0 - f) * heat, f * heat


def _check(ds: xr.Dataset, rows: Rows) -> None:
    dt = rows.dt
    if not (ds.sizes.get("tes", 0) or ds.sizes.get("recovery", 0)):
        return
    air, liquid = _heat_paths(ds)
    if ds.sizes.get("tes", 0):
        cap = ds["tes_capacity"]
        e = ds["e_cold"]
        before = previous(ds, e, ds["tes_initial"] * cap)
        keep = (1.0 - ds["tes_standing_loss"]) ** dt
        expected = keep * before + dt * (ds["q_charge"] - ds["q_discharge"])
        rows.eq("thermal.e_cold_balance", e, expected, scale=cap)
        check_capacities(ds, rows, "thermal", ("tes_capacity",))
        rows.ge("thermal.e_cold_final", e.isel(time=-1), ds["tes_final_min"] * cap, scale=cap)
        dis = by_site(ds["q_discharge"], ds["tes_site"], ds["site"])
        rows.le("thermal.cold_load", dis, air, scale=np.maximum(air, 1.0))
        k = _k_of_tanks(ds)
        rows.eq(
            "thermal.p_tes_def",
            ds["p_tes"],
            k * (ds["tes_charge_factor"] * ds["q_charge"] - ds["q_discharge"]),
        )
        # the plant part of the air path cannot exceed the air path's electricity per heat
        if "k_air" in ds:
            rows.le("thermal.k_chw", ds["k_chw"], ds["k_air"])
    if ds.sizes.get("recovery", 0):
        cop = ds["heat_pump_cop"]
        # heat_max is min(capacity, demand) with the largest capacity where it is chosen
        largest = ds["recovery_capacity"]
        if "recovery_capacity_built" in ds:
            top = ds["recovery_capacity_existing"] + ds["recovery_capacity_max"]
            largest = top.where(ds["recovery_capacity_max"].notnull(), largest)
            rows.le("thermal.q_heat_max", ds["q_heat"], ds["recovery_capacity"])
            check_capacities(ds, rows, "thermal", ("recovery_capacity",))
        rows.eq(
            "thermal.heat_max_def",
            ds["heat_max"],
            np.minimum(largest, ds["heat_demand"]),
        )
        rows.eq("thermal.q_recovered_def", ds["q_recovered"], ds["q_heat"] * (1.0 - 1.0 / cop))
        rows.eq("thermal.p_heat_pump_def", ds["p_heat_pump"], ds["q_heat"] / cop)
        liquid_u = liquid.sel(site=ds["recovery_site"]).drop_vars("site")
        rows.le(
            "thermal.heat_source",
            ds["q_recovered"],
            ds["recovery_fraction"] * liquid_u,
            scale=np.maximum(liquid_u, 1.0),
        )


def reuse_kpis(ds: xr.Dataset, e_facility: xr.DataArray) -> dict:
    """ERF per site and portfolio where heat is recovered (ISO/IEC 30134-6), and heat sold.

    ERF = energy reused / total data-centre energy: heat drawn from the data centre
    (``q_recovered``) over the facility energy ``e_facility`` (MWh per site, the PUE's
    numerator). The heat pump's electricity is outside the boundary (neither term).
    """
    if not ds.sizes.get("recovery", 0):
        return {}
    dt = float(ds.attrs["dt_hours"])
    reused = by_site(ds["q_recovered"] * period_weight(ds), ds["recovery_site"], ds["site"])
    reused = reused.sum("time") * dt
    total = float(e_facility.sum())
    erf = {"portfolio": float(reused.sum()) / total if total > 0 else float("nan")}
    for s in ds["site"].values:
        fac = float(e_facility.sel(site=s))
        erf[str(s)] = float(reused.sel(site=s)) / fac if fac > 0 else float("nan")
    return {"erf": erf, "heat_reused_mwh": float(reused.sum())}


def _kpis(ds: xr.Dataset, t) -> dict:
    """ERF and heat reused (:func:`reuse_kpis`) on the books' facility energy."""
    return reuse_kpis(ds, t.facility)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Cold stored in each tank at the end of period ``t``, MWh (``{name: {"cold_mwh": e}}``)."""
    if not ds.sizes.get("tes", 0):
        return {}
    cold = within(ds["e_cold"].isel(time=t).values, ds["tes_capacity"].values)
    out = {str(u): {"cold_mwh": float(e)} for u, e in zip(ds["tes"].values, cold, strict=True)}
    if "tes_capacity_built" in ds:  # a chosen capacity: the choice, held in the next window
        chosen = ~np.isnan(ds["tes_capacity_max"].values)
        for i in np.nonzero(chosen)[0]:
            out[str(ds["tes"].values[i])]["capacity_mwh"] = float(ds["tes_capacity"].values[i])
    return out


def _state_in(entry: dict, raw: dict) -> None:
    """Set ``soc_initial`` = cold / capacity of each tank named in the state.

    A chosen capacity (:class:`Capacity`) is held at the choice the state carries
    (``min = max`` = its built part: the annuity is still charged for the window's hours).
    """
    tanks = raw.get("thermal_storage") or []
    for tank in tanks:
        state = entry.get(tank.get("name")) if isinstance(tank, dict) else None
        if state and "capacity_mwh" in state:
            hold_capacity(tank, "capacity", state["capacity_mwh"])
    set_initial_fraction(tanks, entry, "cold_mwh", "capacity")


_CAPACITIES = ("tes_capacity", "recovery_capacity")


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """The tanks' capacity annuity of the first ``t`` periods: pro rata to their hours."""
    share = committed_share(ds, t)
    return {term: value * share for term, value in capacity_cost(ds, _CAPACITIES).items()}


def _cut(raw: dict, cut) -> None:
    """Tanks in a window: no end rule before the last window (:func:`storage.cut_end_rule`)."""
    cut_end_rule(raw.get("thermal_storage") or [], cut, 0.0)


_U = ("tes",)
_H = ("recovery",)


def _estimate(sc, options) -> int:
    """Columns of ``thermal``: charge, discharge and stock per (tank, period).

    Plus ``q_heat`` per (heat-recovery unit, period).
    """
    c = sc.config
    return (3 * len(c.thermal_storage) + len(c.heat_recovery)) * sc.periods


COMPONENT = Component(
    name="thermal",
    sections=("thermal_storage", "heat_recovery"),
    doc="chilled-water / ice thermal storage and waste-heat recovery at sites",
    outputs=(
        Output("q_charge", ("tes", "time"), "MW", "cold made for the tank", upper="tes_charge_max"),
        Output(
            "q_discharge",
            ("tes", "time"),
            "MW",
            "air-path heat the tank absorbs",
            upper="tes_discharge_max",
        ),
        Output(
            "e_cold",
            ("tes", "time"),
            "MWh",
            "cold stored at the end of the period",
            upper="tes_capacity",
        ),
        Output(
            "p_tes",
            ("tes", "time"),
            "MW",
            "net extra cooling electricity of the tank (negative: saved)",
            role="expression",
        ),
        Output(
            "q_heat", ("recovery", "time"), "MW", "heat delivered to the buyer", upper="heat_max"
        ),
        Output(
            "q_recovered",
            ("recovery", "time"),
            "MW",
            "heat drawn from the liquid loop (energy reused)",
            role="expression",
        ),
        Output(
            "p_heat_pump",
            ("recovery", "time"),
            "MW",
            "heat-pump electricity (outside the PUE boundary)",
            role="expression",
        ),
        Output("tes_site", _U, "text", "site whose cooling the tank serves", role="input"),
        Output("tes_capacity", _U, "MWh", "cold storage capacity", role="input"),
        *capacity_outputs("tes_capacity", "tes", "MWh"),
        Output("tes_charge_max", _U, "MW", "charge limit (cold)", role="input"),
        Output("tes_discharge_max", _U, "MW", "discharge limit (heat absorbed)", role="input"),
        Output(
            "tes_standing_loss", _U, "1/h", "fraction of stored cold lost per hour", role="input"
        ),
        Output(
            "tes_charge_factor", _U, "1", "charging electricity relative to k_chw", role="input"
        ),
        Output("tes_initial", _U, "1", "initial cold stored (fraction)", role="input"),
        Output(
            "tes_final_min",
            _U,
            "1",
            "minimum final cold stored (fraction; NaN: free)",
            role="input",
        ),
        Output(
            "k_chw",
            ("site", "time"),
            "MW/MW",
            "chilled-water plant electricity per MW of air-path heat (k_air minus fans)",
            role="input",
        ),
        Output(
            "recovery_site",
            _H,
            "text",
            "site whose waste heat the heat pump recovers",
            role="input",
        ),
        Output("recovery_capacity", _H, "MW", "heat delivered at most", role="input"),
        *capacity_outputs("recovery_capacity", "recovery", "MW"),
        Output("heat_pump_cop", _H, "1", "heat delivered per MW of electricity", role="input"),
        Output("recovery_fraction", _H, "1", "share of liquid-path heat drawable", role="input"),
        Output("heat_demand", ("recovery", "time"), "MW", "heat the buyer takes", role="input"),
        Output("heat_price", ("recovery", "time"), "CNY/MWh", "price of heat", role="input"),
        Output(
            "heat_max",
            ("recovery", "time"),
            "MW",
            "heat deliverable: min(capacity, demand)",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    kpis=_kpis,
    requires=("dc",),
    state_out=_state_out,
    state_in=_state_in,
    cut=_cut,
    commit_costs=_commit_costs,
    state_fields=(
        StateField(
            "<tank>.cold_mwh", "MWh", "cold stored in the tank; sets thermal_storage[].soc_initial"
        ),
        StateField(
            "<tank>.capacity_mwh",
            "MWh",
            "a chosen capacity (Capacity only): holds thermal_storage[].capacity at the choice",
        ),
    ),
    validate=_validate,
)
