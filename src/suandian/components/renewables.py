"""On-site and direct-connected renewables (PV, wind): capacity x profile, contracts, export.

Math: ``docs/math/renewables.md``. Block ``m.res``; ports ``power``, ``intake``, ``green`` and
``direct`` (MW); cost terms ``renewables`` (by contract: ``pay_as_produced`` per MWh taken,
``take_or_pay`` per MWh available, a constant, ``owned`` nothing), ``renewables_fixed``,
``renewable_export`` (revenue, negative), ``renewable_grid_charge`` and
``renewable_connection`` (CNY). Rows ``export_cap``, ``export_share_max`` and
``self_consumption_min`` (the 绿电直连 self-consumption ratio of 发改能源〔2025〕650号: over the
horizon, or over the year with ``policies.direct_supply.basis: year``, whose budget
:func:`direct_year` reads). The supply-share ratio needs the site's consumption and is the
policy ``direct_supply``, which also carries the annual ratios' state.

Constant cost terms (take-or-pay, fixed and connection charges) are expressions without
columns: their constant goes to the objective's offset (``LinearModel.arrays``), so the
objective is the whole bill while the plan is unaffected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..checks import Rows, budget_weight, by_site, committed_share, period_weight
from ..component import (
    Account,
    Capacity,
    Component,
    Context,
    FamilyBuilder,
    Limit,
    Output,
    StateField,
    Violation,
    capacity_cost,
    capacity_outputs,
    check_capacities,
    hold_capacity,
)
from ..linear import Expr

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

#: hours per month for ``connection_charge`` (CNY/MW·month): 8,760 / 12
HOURS_PER_MONTH = 730.0
#: hours per day for ``fixed_cost`` (CNY/day)
HOURS_PER_DAY = 24.0
_RT = ("renewable", "time")


def project_ratio(assets, key: str, sites: list[str]) -> np.ndarray:
    """Per site, the strictest ``key`` stated by its ``direct`` assets (NaN: none).

    A site's direct-connected assets form one 绿电直连 project; a member that states no ratio
    adopts the project's.
    """
    pos = {s: i for i, s in enumerate(sites)}
    out = np.full(len(sites), np.nan)
    for r in assets:
        value = getattr(r, key)
        if r.direct and value is not None:
            out[pos[r.site]] = np.fmax(out[pos[r.site]], value)
    return out


def direct_year(
    sc, sites: list[str], ratio: np.ndarray, base: str, allowance_key: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A project ratio's annual budget per site (``policies.direct_supply.basis: year``).

    The year's rule ``U_o + U >= ratio x (B_o + B)`` (``U`` the project's energy used on
    site, ``B`` the ``base``: the project's ``available`` energy or the site's
    ``consumption``; ``_o`` outside the horizon: to date + forecast) is the horizon's row
    ``U - ratio x B >= -A`` with the allowance ``A = U_o - ratio x B_o``.

    Returns
    -------
    allowance, used_other, base_other : ndarray (S,)
        MWh; the allowance is 0 under basis horizon, at sites without the ratio, and the
        others are NaN there and where the allowance (``allowance_key``) is given directly.
    """
    S = len(sites)
    allowance, used, other = np.zeros(S), np.full(S, np.nan), np.full(S, np.nan)
    policy = sc.config.policies.direct_supply
    if policy is None or policy.basis != "year":
        return allowance, used, other
    for s, name in enumerate(sites):
        year = policy.year.get(name)
        if year is None or np.isnan(ratio[s]):
            continue
        given = getattr(year, allowance_key)
        if given is not None:
            allowance[s] = given
        elif year.self_consumption_allowance_mwh is None and year.supply_allowance_mwh is None:
            used[s] = year.used_to_date_mwh + year.used_forecast_mwh
            other[s] = getattr(year, f"{base}_to_date_mwh") + getattr(year, f"{base}_forecast_mwh")
            allowance[s] = used[s] - ratio[s] * other[s]
    return allowance, used, other


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    assets = sc.config.renewables
    R, T, dt, w = len(assets), ctx.T, ctx.dt, ctx.w
    hours = ctx.hours  # T * dt, or the hours the weighted periods stand for
    fb.coord("renewable", [r.name for r in assets])

    def series(values) -> np.ndarray:
        return np.array([sc.profile(v) for v in values], dtype=float).reshape(R, T)

    profile = series([r.profile for r in assets])
    # fixed numbers, or chosen (fb.capacity): available power is then an expression
    capacity = fb.capacity("renewable_capacity", [r.capacity for r in assets], "renewable")
    available = fb.along(capacity, (R, T)) * profile
    most = fb.along(fb.largest(capacity), (R, T)) * profile  # column bounds
    site = ctx.site_index([r.site for r in assets])
    contract = np.array([r.contract for r in assets], dtype=object)
    price = np.array([r.price for r in assets], dtype=float)
    fixed = np.array([r.fixed_cost for r in assets], dtype=float)
    can_export = np.array([r.export_price is not None for r in assets], dtype=bool)
    export_price = np.where(
        can_export[:, None],
        series([0.0 if r.export_price is None else r.export_price for r in assets]),
        np.nan,
    )
    share_max = np.array(
        [np.nan if r.max_export_share is None else r.max_export_share for r in assets]
    )
    direct = np.array([r.direct for r in assets], dtype=bool)
    grid_charge = series([r.grid_charge for r in assets])
    conn_charge = np.array([r.connection_charge for r in assets], dtype=float)
    conn_mw = np.array([_connection_mw(r) for r in assets], dtype=float)
    self_min = project_ratio(assets, "min_self_consumption", ctx.sites)

    fb.input("renewable_site", np.array([r.site for r in assets], dtype=object))
    fb.input("renewable_kind", np.array([r.kind for r in assets], dtype=object))
    fb.input("renewable_contract", contract)
    fb.input("renewable_profile", profile)
    fb.derived("p_renewable_available", available)
    fb.input("renewable_price", price)
    fb.input("renewable_fixed_cost", fixed)
    fb.input("renewable_export_price", export_price)
    fb.input("renewable_export_share_max", share_max)
    fb.input("renewable_direct", direct)
    fb.input("renewable_grid_charge", grid_charge)
    fb.input("renewable_connection_charge", conn_charge)
    fb.input("renewable_connection_mw", conn_mw)
    fb.input("direct_self_consumption_min", self_min)
    self_allowance, _, avail_other = direct_year(
        sc, ctx.sites, self_min, "available", "self_consumption_allowance_mwh"
    )
    # used outside the horizon, for either ratio (the supply share reads it too)
    either = np.fmax(self_min, project_ratio(assets, "min_supply_share", ctx.sites))
    used_other = direct_year(sc, ctx.sites, either, "available", "self_consumption_allowance_mwh")[
        1
    ]
    fb.input("direct_self_consumption_allowance", self_allowance)
    fb.input("direct_used_other", used_other)
    fb.input("direct_available_other", avail_other)

    p = fb.bound("p_renewable", capacity, factor=profile)
    used = p.group(0, site, ctx.S)
    fb.port("power", used)
    fb.port("intake", used)
    fb.port("green", used)
    direct_site = np.where(direct, site, -1)
    direct_used = p.group(0, direct_site, ctx.S)
    fb.port("direct", direct_used)

    taken = p.expr()
    if can_export.any():
        allowed = np.broadcast_to(can_export[:, None], (R, T))
        x = fb.var("p_export", ub=most, mask=allowed)
        fb.constrain("export_cap", p + x, "<=", available, mask=allowed)
        limited = ~np.isnan(share_max)
        if limited.any():
            fb.constrain(
                "export_share_max",
                (x * w).sum(1) * dt,
                "<=",
                (available * w).sum(1) * np.nan_to_num(share_max) * dt,
                mask=limited,
            )
        fb.cost("renewable_export", x * (-dt * np.nan_to_num(export_price)), per_period=True)
        fb.port("export", x.group(0, site, ctx.S))
        taken = taken + x

    pap = (contract == "pay_as_produced").astype(float)
    top = (contract == "take_or_pay").astype(float)
    fb.cost(
        "renewables",
        taken * (dt * price * pap)[:, None] + available * (dt * price * top)[:, None],
        per_period=True,
    )
    if (fixed > 0).any():
        fb.cost(
            "renewables_fixed",
            Expr.constant(fixed * hours / HOURS_PER_DAY, (R,)),
            per_period=False,
        )
    if (grid_charge != 0).any():
        fb.cost("renewable_grid_charge", p * (dt * grid_charge), per_period=True)
    if (conn_charge > 0).any():
        fb.cost(
            "renewable_connection",
            Expr.constant(conn_charge * conn_mw * hours / HOURS_PER_MONTH, (R,)),
            per_period=False,
        )

    has_project = ~np.isnan(self_min)
    if has_project.any():
        policy = ctx.scenario.config.policies.direct_supply
        budget = ctx.scenario.budget  # an annual ratio counts the periods its budget counts
        wy = w * budget if budget is not None and policy and policy.basis == "year" else w
        avail_direct = _to_sites((available * wy).sum(1) * dt, direct_site, ctx.S)
        fb.constrain(
            "self_consumption_min",
            (direct_used * wy).sum(1) * dt,
            ">=",
            avail_direct * np.nan_to_num(self_min) - self_allowance,
            mask=has_project,
            dual="shadow_self_consumption",
        )


def _connection_mw(r) -> float:
    """MW the connection charge applies to: ``connection_mw``, else the capacity.

    A chosen capacity (:class:`Capacity`) needs ``connection_mw`` with a connection charge
    (:func:`_validate`); without one the figure is not used (0).
    """
    if r.connection_mw is not None:
        return float(r.connection_mw)
    if isinstance(r.capacity, Capacity):
        return 0.0 if r.capacity.extendable else r.capacity.existing
    return float(r.capacity)


def _to_sites(values: np.ndarray | Expr, labels: np.ndarray, S: int) -> np.ndarray | Expr:
    """Per-asset ``values`` summed into their sites (``labels``; -1: left out).

    ``values`` are numbers, or an expression when the capacity is chosen.
    """
    if isinstance(values, Expr):
        return values.group(0, labels, S)
    out = np.zeros(S)
    keep = labels >= 0
    np.add.at(out, labels[keep], values[keep])
    return out


# --------------------------------------------------------------------------- from a Dataset
def _inputs(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """The contract inputs, with the defaults of a Dataset saved before contracts existed."""
    p = ds["p_renewable"]
    zeros_r = xr.zeros_like(p.isel(time=0, drop=True))

    def get(name: str, default):
        return ds[name] if name in ds else default

    return {
        "price": get("renewable_price", get("renewable_cost", zeros_r)),
        "contract": get("renewable_contract", xr.full_like(zeros_r, "pay_as_produced", object)),
        "fixed": get("renewable_fixed_cost", zeros_r),
        "export_price": get("renewable_export_price", xr.full_like(p, np.nan)),
        "share_max": get("renewable_export_share_max", xr.full_like(zeros_r, np.nan)),
        "direct": get("renewable_direct", zeros_r.astype(bool)).astype(bool),
        "grid_charge": get("renewable_grid_charge", xr.zeros_like(p)),
        "conn_charge": get("renewable_connection_charge", zeros_r),
        "conn_mw": get("renewable_connection_mw", zeros_r),
        "export": get("p_export", xr.zeros_like(p)),
    }


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    w = period_weight(ds)
    hours = dt * (ds.sizes["time"] if isinstance(w, float) else float(w.sum()))
    i = _inputs(ds)
    p, avail, x = ds["p_renewable"], ds["p_renewable_available"], i["export"]
    used = by_site(p, ds["renewable_site"], ds["site"])
    direct = by_site(p * i["direct"], ds["renewable_site"], ds["site"])
    pap = (i["contract"] == "pay_as_produced").astype(float)
    top = (i["contract"] == "take_or_pay").astype(float)
    cost = {
        "renewables": float(
            ((p + x) * i["price"] * pap * w).sum() * dt + (avail * i["price"] * top * w).sum() * dt
        )
    }
    energy = {
        "renewables_used": float((used * w).sum() * dt),
        "renewables_curtailed": float(((avail - p - x) * w).sum() * dt),
    }
    if "p_export" in ds:
        cost["renewable_export"] = -float((x * i["export_price"].fillna(0.0) * w).sum() * dt)
        energy["renewables_exported"] = float((x * w).sum() * dt)
    if (i["fixed"] > 0).any():
        cost["renewables_fixed"] = float(i["fixed"].sum()) * hours / HOURS_PER_DAY
    if (i["grid_charge"] != 0).any():
        cost["renewable_grid_charge"] = float((p * i["grid_charge"] * w).sum() * dt)
    if (i["conn_charge"] > 0).any():
        cost["renewable_connection"] = (
            float((i["conn_charge"] * i["conn_mw"]).sum()) * hours / HOURS_PER_MONTH
        )
    if i["direct"].any():
        energy["renewables_direct_used"] = float((direct * w).sum() * dt)
    return Account(
        flows={
            "power": used,
            "intake": used,
            "green": used,
            "direct": direct,
            "export": by_site(x, ds["renewable_site"], ds["site"]),
        },
        cost={**cost, **capacity_cost(ds, _CAPACITIES)},
        energy=energy,
    )


def _available(ds: xr.Dataset) -> xr.DataArray:
    """Available power: capacity x profile (the chosen capacity when it is a decision).

    A Dataset saved before the capacity and profile were recorded: its
    ``p_renewable_available``.
    """
    if "renewable_profile" in ds and "renewable_capacity" in ds:
        return ds["renewable_capacity"] * ds["renewable_profile"]
    return ds["p_renewable_available"]


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """Use, export, export share and project self-consumption (from the Dataset).

    Judged against the available power capacity x profile, with the chosen capacity when it
    is a decision.
    """
    dt, w = rows.dt, period_weight(ds)
    check_capacities(ds, rows, "res", _CAPACITIES)
    i = _inputs(ds)
    p, avail, x = ds["p_renewable"], _available(ds), i["export"]
    rows.eq("res.available", ds["p_renewable_available"], avail, scale=avail)
    if "renewable_capacity_max" in ds:  # the row of a chosen capacity (a fixed one: bounds)
        chosen = ds["renewable_capacity_max"].notnull()
        rows.le("res.p_renewable_max", p.where(chosen), avail.where(chosen), scale=avail)
    allowed = i["export_price"].notnull()
    rows.zero_outside("res.export_allowed", x, allowed)
    rows.le("res.export_cap", (p + x).where(allowed), avail.where(allowed), scale=avail)
    rows.le(
        "res.export_share_max",
        (x * w).sum("time") * dt,
        i["share_max"] * (avail * w).sum("time") * dt,
        scale=(avail * w).sum("time") * dt,
    )
    if "direct_self_consumption_min" in ds:
        annual = ds.attrs.get("direct_basis") == "year"
        on = i["direct"].astype(float) * (budget_weight(ds) if annual else w)
        used = by_site(p * on, ds["renewable_site"], ds["site"]).sum("time") * dt
        avail_d = by_site(avail * on, ds["renewable_site"], ds["site"]).sum("time") * dt
        ratio = ds["direct_self_consumption_min"]
        allowance = _site_input(ds, "direct_self_consumption_allowance", 0.0)
        used_y = used + _site_input(ds, "direct_used_other", 0.0)
        avail_y = avail_d + _site_input(ds, "direct_available_other", 0.0)
        rows.ge(
            "res.self_consumption_min",
            used,
            ratio * avail_d - allowance,
            scale=avail_d,
            value=(used_y / avail_y.where(avail_y > 0)).fillna(np.inf),
            limit=ratio,
        )


def _site_input(ds: xr.Dataset, name: str, fill: float) -> xr.DataArray | float:
    """A per-site input with NaN as ``fill``; ``fill`` when the Dataset lacks it (older)."""
    return ds[name].fillna(fill) if name in ds else fill


def _self_consumption_finding(sc, v: Violation) -> tuple[str, str, str, float]:
    """Diagnosis sentence: a 绿电直连 self-consumption share the site cannot absorb."""
    total = float(v.row.sum())
    text = (
        f"site '{v.element}': its 绿电直连 project must use min_self_consumption of its "
        f"available output on site, but the site can absorb {total:,.2f} MWh less "
        "(its load, storage and export limits); lower min_self_consumption, allow "
        "export or add storage"
    )
    return "self_consumption", v.element, text, total


_LIMITS = (
    Limit(
        "self_consumption_min",
        "self_consumption",
        lambda c: [x.name for x in c.sites],
        _self_consumption_finding,
        per_period=False,
    ),
)


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks: ``connection_mw`` only with a ``connection_charge``.

    And stated with a connection charge on a chosen capacity.
    """
    from ..errors import Problem

    out = [
        Problem(
            f"renewables[{i}].connection_mw",
            f"{r.connection_mw:g}",
            "would be ignored: there is no connection_charge; set connection_charge "
            "(CNY per MW and month), or remove connection_mw",
        )
        for i, r in enumerate(sc.config.renewables)
        if r.connection_mw is not None and not r.connection_charge
    ]
    out += [
        Problem(
            f"renewables[{i}].connection_mw",
            "missing",
            "is needed with a connection_charge on a capacity the model chooses; state the "
            "MW the connection charge applies to",
        )
        for i, r in enumerate(sc.config.renewables)
        if r.connection_charge and r.connection_mw is None and _chosen(r.capacity)
    ]
    return out


def _chosen(value) -> bool:
    """Whether a capacity field is a decision (an extendable :class:`Capacity`)."""
    return isinstance(value, Capacity) and value.extendable


def _estimate(sc, options) -> int:
    """Columns of ``res``: ``p_renewable`` per (asset, period), ``p_export`` where it sells.

    Plus ``renewable_capacity_built`` per chosen capacity.
    """
    assets = sc.config.renewables
    per_period = (len(assets) + sum(r.export_price is not None for r in assets)) * sc.periods
    return per_period + sum(_chosen(r.capacity) for r in assets)


_CAPACITIES = ("renewable_capacity",)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """A chosen capacity, held in the next window: ``{name: {"capacity_mw": K}}``.

    Nothing when every capacity is a number (output itself couples no periods).
    """
    if "renewable_capacity_built" not in ds:
        return {}
    chosen = ~np.isnan(ds["renewable_capacity_max"].values)
    names, cap = ds["renewable"].values, ds["renewable_capacity"].values
    return {str(names[i]): {"capacity_mw": float(cap[i])} for i in np.nonzero(chosen)[0]}


def _state_in(entry: dict, raw: dict) -> None:
    """Hold a chosen capacity at the choice the state carries.

    ``min = max`` = its built part: the annuity is still charged for the window's hours.
    """
    for asset in raw.get("renewables") or []:
        state = entry.get(asset.get("name")) if isinstance(asset, dict) else None
        if state and "capacity_mw" in state:
            hold_capacity(asset, "capacity", state["capacity_mw"])


#: horizon cost terms charged pro rata to the hours
_PRORATED = ("renewables_fixed", "renewable_connection", "renewable_capacity_capex")


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """Fixed charges and the capacity annuity of the first ``t`` periods: pro rata to hours."""
    share = committed_share(ds, t)
    cost = _account(ds).cost
    return {term: cost[term] * share for term in _PRORATED if term in cost}


COMPONENT = Component(
    name="res",
    sections=("renewables",),
    doc="on-site and direct-connected renewables",
    stateless=(
        "output is per period; max_export_share restarts in each window (a rolling year "
        "judges it per window, not per year); min_self_consumption restarts too under basis "
        "horizon, and under policies.direct_supply.basis year the policy direct_supply hands "
        "the project's energies over; only a chosen capacity is handed over here (state_out)"
    ),
    commit_costs=_commit_costs,
    state_out=_state_out,
    state_in=_state_in,
    state_fields=(
        StateField(
            "<asset>.capacity_mw",
            "MW",
            "a chosen capacity (Capacity only): holds renewables[].capacity at the choice",
        ),
    ),
    outputs=(
        Output("p_renewable", _RT, "MW", "renewable power used", upper="p_renewable_available"),
        Output(
            "p_export",
            _RT,
            "MW",
            "renewable power fed into the grid (not intake)",
            upper="p_renewable_available",
        ),
        Output(
            "renewable_site", ("renewable",), "text", "site whose bus the asset feeds", role="input"
        ),
        Output(
            "renewable_kind",
            ("renewable",),
            "text",
            "technology label (reporting only)",
            role="input",
        ),
        Output(
            "renewable_contract", ("renewable",), "text", "contract type of the asset", role="input"
        ),
        Output(
            "renewable_capacity",
            ("renewable",),
            "MW",
            "capacity (chosen: existing + built)",
            role="input",
        ),
        *capacity_outputs("renewable_capacity", "renewable", "MW"),
        Output("renewable_profile", _RT, "1", "availability per MW of capacity", role="input"),
        Output(
            "p_renewable_available",
            _RT,
            "MW",
            "available renewable power (capacity x profile)",
            role="input",
        ),
        Output(
            "renewable_price",
            ("renewable",),
            "CNY/MWh",
            "price per MWh taken (pay_as_produced) or available (take_or_pay)",
            role="input",
        ),
        Output("renewable_fixed_cost", ("renewable",), "CNY/day", "fixed cost", role="input"),
        Output(
            "renewable_export_price",
            _RT,
            "CNY/MWh",
            "price of exported energy (NaN: no export)",
            role="input",
        ),
        Output(
            "renewable_export_share_max",
            ("renewable",),
            "1",
            "exported share of available energy at most (NaN: no limit)",
            role="input",
        ),
        Output("renewable_direct", ("renewable",), "bool", "绿电直连 project member", role="input"),
        Output(
            "renewable_grid_charge",
            _RT,
            "CNY/MWh",
            "grid charges per MWh used on site",
            role="input",
        ),
        Output(
            "renewable_connection_charge",
            ("renewable",),
            "CNY/(MW*month)",
            "T&D charge on connection capacity",
            role="input",
        ),
        Output(
            "renewable_connection_mw",
            ("renewable",),
            "MW",
            "capacity the connection charge applies to",
            role="input",
        ),
        Output(
            "direct_self_consumption_min",
            ("site",),
            "1",
            "the site's direct project: used share of available energy at least (NaN: none)",
            role="input",
        ),
        Output(
            "direct_self_consumption_allowance",
            ("site",),
            "MWh",
            "project energy the horizon may use on site below min_self_consumption x its "
            "available energy (0: basis horizon)",
            role="input",
        ),
        Output(
            "direct_used_other",
            ("site",),
            "MWh",
            "the project's energy used on site in the year outside the horizon: to date + "
            "forecast (NaN: none)",
            role="input",
        ),
        Output(
            "direct_available_other",
            ("site",),
            "MWh",
            "the project's available energy in the year outside the horizon: to date + "
            "forecast (NaN: none)",
            role="input",
        ),
        Output(
            "shadow_self_consumption",
            ("site",),
            "CNY/MWh",
            "cost of one more MWh of direct-project energy required to be used on site",
            role="dual",
            shadow="cny_per_mwh",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    limits=_LIMITS,
    validate=_validate,
)
