"""Batteries at sites: power and energy limits, efficiencies, self-discharge, end rule.

Math: ``docs/math/storage.md``. Block ``m.stor``; port ``power`` (MW); reserve headroom per
battery (``reserve_up``, ``reserve_down``, ``reserve_energy_up``, ``reserve_energy_down``,
through :meth:`~suandian.component.FamilyBuilder.headroom`); cost term ``storage_wear`` (CNY,
throughput).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, by_site, committed_share, period_weight, previous
from ..component import (
    Account,
    Capacity,
    Component,
    Context,
    Cut,
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


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    units = ctx.scenario.config.storage
    U, T, dt = len(units), ctx.T, ctx.dt
    fb.coord("storage", [u.name for u in units])
    site = ctx.site_index([u.site for u in units])
    a = {f: np.array([float(getattr(u, f)) for u in units]) for f in _FIELDS}
    final = np.array(
        [
            np.nan
            if u.soc_final == "free"
            else (u.soc_initial if u.soc_final == "cyclic" else float(u.soc_final))
            for u in units
        ]
    )
    if ctx.cycle is not None:  # representative periods: each wraps around, no end rule
        final = np.full(U, np.nan)
    exclusive = np.array([u.no_simultaneous for u in units], dtype=bool)
    fb.input("storage_site", np.array([u.site for u in units], dtype=object))
    # fixed numbers, or chosen (fb.capacity): bounds, products and rows below take either
    power = fb.capacity("storage_power", [u.power for u in units], "storage")
    energy = fb.capacity("storage_energy", [u.energy for u in units], "storage")
    for f, name in _FIELDS.items():
        fb.input(name, a[f])
    fb.input("soc_final_min", final)
    fb.input("storage_exclusive", exclusive)

    p_ch = fb.bound("p_charge", power)
    p_dis = fb.bound("p_discharge", power)
    e_soc = fb.bound("e_soc", energy)
    u_ch = fb.var("u_charge", ub=1.0, mask=np.broadcast_to(exclusive[:, None], (U, T)))

    keep = ((1.0 - a["self_discharge"]) ** dt)[:, None]
    e0 = energy * a["soc_initial"]
    first = np.broadcast_to(ctx.first, (U, T))  # periods starting from soc_initial
    rhs = fb.along(e0 * keep[:, 0], (U, T)) * first
    fb.constrain(
        "e_soc_balance",
        e_soc
        - ctx.previous(e_soc) * keep
        - p_ch * (dt * a["eta_charge"])[:, None]
        + p_dis * (dt / a["eta_discharge"])[:, None],
        "==",
        rhs,
    )
    last = np.zeros((U, T), bool)
    last[:, -1] = True
    fb.constrain(
        "e_soc_final",
        e_soc.expr(),
        ">=",
        fb.along(energy * np.nan_to_num(final), (U, T)),
        mask=last & ~np.isnan(final)[:, None],
    )
    ex = np.broadcast_to(exclusive[:, None], (U, T))
    u_power = fb.switched("u_charge_power", power, u_ch)  # u_charge * storage_power
    fb.constrain("charge_mode", p_ch - u_power, "<=", 0.0, mask=ex)
    fb.constrain("discharge_mode", p_dis + u_power, "<=", fb.along(power, (U, T)), mask=ex)

    fb.port("power", (p_dis - p_ch).group(0, site, ctx.S))
    fb.cost("storage_wear", (p_ch + p_dis) * (dt * a["throughput_cost"])[:, None], per_period=True)
    _headroom(fb, units, site, a, (power, energy), (p_ch, p_dis, e_soc))


def _headroom(fb: FamilyBuilder, units, site, a, capacities, columns) -> None:
    """Reserve headroom per battery from its schedule (docs/math/storage.md, "Headroom").

    ``capacities`` are (power, energy), numbers or chosen (:meth:`FamilyBuilder.capacity`).
    """
    p_ch, p_dis, e_soc = columns
    U, T = len(units), fb.ctx.T
    power, energy = (fb.along(c, (U, T)) for c in capacities)
    eta_ch, eta_dis = a["eta_charge"][:, None], a["eta_discharge"][:, None]
    first = np.broadcast_to(fb.ctx.first, (U, T))
    e_start = fb.ctx.previous(e_soc) + fb.along(capacities[1] * a["soc_initial"], (U, T)) * first
    fb.headroom(
        [u.name for u in units],
        site,
        reserve_up=p_ch - p_dis + power,
        reserve_down=p_dis - p_ch + power,
        reserve_energy_up=(e_start * eta_dis, e_soc * eta_dis),
        reserve_energy_down=((-e_start + energy) / eta_ch, (-e_soc.expr() + energy) / eta_ch),
    )


_CAPACITIES = ("storage_power", "storage_energy")
_FIELDS = {
    "eta_charge": "eta_charge",
    "eta_discharge": "eta_discharge",
    "self_discharge": "self_discharge",
    "soc_initial": "soc_initial",
    "throughput_cost": "throughput_cost",
}


def _derive(ds: xr.Dataset) -> dict:
    """Charge mode of a battery without exclusivity: 1 when it charges more than it discharges."""
    mode = ds["u_charge"].values.copy()
    free = ~ds["storage_exclusive"].values.astype(bool)
    mode[free] = (ds["p_charge"].values > ds["p_discharge"].values)[free]
    return {"u_charge": mode}


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    w = period_weight(ds)
    charge = by_site(ds["p_charge"], ds["storage_site"], ds["site"])
    discharge = by_site(ds["p_discharge"], ds["storage_site"], ds["site"])
    wear = ((ds["p_charge"] + ds["p_discharge"]) * ds["throughput_cost"] * w).sum() * dt
    return Account(
        headroom=_headroom_of(ds),
        flows={"power": discharge - charge},
        cost={"storage_wear": float(wear), **capacity_cost(ds, _CAPACITIES)},
        energy={
            "storage_charge": float((charge * w).sum() * dt),
            "storage_discharge": float((discharge * w).sum() * dt),
        },
    )


def _headroom_of(ds: xr.Dataset) -> dict:
    """The headroom of :func:`_headroom`, from the Dataset (dims storage, time)."""
    if not ds.sizes.get("storage", 0):
        return {}
    P, E = ds["storage_power"], ds["storage_energy"]
    eta_ch, eta_dis = ds["eta_charge"], ds["eta_discharge"]
    soc = ds["e_soc"]
    start = previous(ds, soc, ds["soc_initial"] * E)
    return {
        "reserve_up": P - ds["p_discharge"] + ds["p_charge"],
        "reserve_down": P - ds["p_charge"] + ds["p_discharge"],
        "reserve_energy_up": (start * eta_dis, soc * eta_dis),
        "reserve_energy_down": ((E - start) / eta_ch, (E - soc) / eta_ch),
    }


def _check(ds: xr.Dataset, rows: Rows) -> None:
    dt = rows.dt
    if not ds.sizes.get("storage", 0):
        return
    energy = ds["storage_energy"]
    soc = ds["e_soc"]
    before = previous(ds, soc, ds["soc_initial"] * energy)
    keep = (1.0 - ds["self_discharge"]) ** dt
    expected = keep * before + dt * (
        ds["eta_charge"] * ds["p_charge"] - ds["p_discharge"] / ds["eta_discharge"]
    )
    rows.eq("stor.e_soc_balance", soc, expected, scale=energy)
    check_capacities(ds, rows, "stor", _CAPACITIES)
    rows.ge("stor.e_soc_final", soc.isel(time=-1), ds["soc_final_min"] * energy, scale=energy)
    both = xr.apply_ufunc(np.minimum, ds["p_charge"], ds["p_discharge"])
    rows.le(
        "stor.charge_mode",
        both,
        xr.zeros_like(both).where(ds["storage_exclusive"]),
        scale=ds["storage_power"],
    )


def _soc_final_finding(sc, v: Violation) -> tuple[str, str, str, float]:
    """Diagnosis sentence: a battery end rule the relaxed re-solve had to miss."""
    c = sc.config
    u = c.storage[v.i]
    total = float(v.row.sum())
    site = next(s for s in c.sites if s.name == u.site)
    node = next(n for n in c.nodes if n.name == site.node)
    limit = (
        ""
        if node.import_limit is None
        else (f" (node '{node.name}' imports at most {node.import_limit:g} MW)")
    )
    final = u.soc_initial if u.soc_final == "cyclic" else float(u.soc_final)
    rule = "cyclic" if u.soc_final == "cyclic" else f"{final:g}"
    energy = u.energy
    if isinstance(energy, Capacity) and not energy.extendable:
        energy = energy.existing
    if isinstance(energy, Capacity):  # chosen: the need moves with the choice
        need = "of the chosen energy) cannot be reached:"
    else:
        e = final * energy
        need = f"{e:g} MWh) cannot be reached: at most {e - total:,.2f} MWh,"
    text = (
        f"battery '{v.element}': soc_final {rule} ({need} {total:,.2f} MWh short, with the "
        f"power available to charge it at site '{u.site}'{limit}; lower soc_final or raise that "
        "supply"
    )
    return "soc_final", v.element, text, total


_LIMITS = (
    Limit(
        "e_soc_final",
        "soc_final",
        lambda c: [u.name for u in c.storage],
        _soc_final_finding,
        per_period=False,
    ),
)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Charge of each battery at the end of period ``t``, MWh (``{name: {"soc_mwh": e}}``)."""
    if not ds.sizes.get("storage", 0):
        return {}
    soc = within(ds["e_soc"].isel(time=t).values, ds["storage_energy"].values)
    out = {str(u): {"soc_mwh": float(e)} for u, e in zip(ds["storage"].values, soc, strict=True)}
    for name, key in _CHOSEN.items():  # a chosen capacity: the choice, held in the next window
        if f"{name}_built" in ds:
            chosen = ~np.isnan(ds[f"{name}_max"].values)
            for i in np.nonzero(chosen)[0]:
                out[str(ds["storage"].values[i])][key] = float(ds[name].values[i])
    return out


#: chosen capacities handed over as state: the Dataset name and the state key
_CHOSEN = {"storage_energy": "energy_mwh", "storage_power": "power_mw"}


def within(charge: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """A solved charge held inside ``0 .. capacity`` where it lies outside by a tolerance.

    The solver's tolerance only (1e-6 x max(capacity, 1 MWh)): so that it validates as an
    initial state; a charge further outside is left as it is (and is refused).
    """
    tol = 1e-6 * np.maximum(capacity, 1.0)
    out = np.where((charge < 0) & (charge >= -tol), 0.0, charge)
    return np.where((out > capacity) & (out <= capacity + tol), capacity, out) + 0.0


def _state_in(entry: dict, raw: dict) -> None:
    """Set ``soc_initial`` = charge / energy of each battery named in the state.

    A chosen power or energy (:class:`Capacity`) is held at the choice the state carries
    (``min = max`` = its built part: the annuity is still charged for the window's hours).
    """
    units = raw.get("storage") or []
    for unit in units:
        state = entry.get(unit.get("name")) if isinstance(unit, dict) else None
        if not state:
            continue
        for field, key in (("energy", "energy_mwh"), ("power", "power_mw")):
            if key in state:
                hold_capacity(unit, field, state[key])
    set_initial_fraction(units, entry, "soc_mwh", "energy")


def set_initial_fraction(units: list, entry: dict, key: str, capacity: str) -> None:
    """``soc_initial`` = ``entry[name][key]`` / the unit's ``capacity`` (storage and tanks).

    A charge above the capacity or below 0 gives a fraction outside 0..1, which the
    re-validation reports on ``soc_initial``; with capacity 0 the charge itself is written.
    A chosen capacity (a :class:`Capacity` mapping) counts at its largest, existing + max
    (the choice itself once held there, as ``stor``'s state does).
    """
    for unit in units:
        if isinstance(unit, dict) and unit.get("name") in entry:
            charge = float(entry[unit["name"]][key])
            size = unit.get(capacity)
            if isinstance(size, dict):
                most = float(size.get("max", 0.0)) if size.get("extendable", True) else 0.0
                size = float(size.get("existing", 0.0)) + most
            size = float(size or 0.0)
            unit["soc_initial"] = charge / size if size > 0 else charge


def cut_end_rule(units: list, cut: Cut, initial: float) -> None:
    """The end rule of a stored charge in a window (storage and thermal storage).

    A window that ends before the horizon has no end rule (``soc_final: free``: the next
    window takes the charge over); the last window keeps the horizon's rule, ``cyclic``
    becoming the horizon's initial fraction (default ``initial``), which a handed-over state
    does not change.
    """
    for unit in units:
        rule = unit.get("soc_final", "cyclic")
        if not cut.last:
            unit["soc_final"] = "free"
        elif rule == "cyclic":
            unit["soc_final"] = float(unit.get("soc_initial", initial))


def _cut(raw: dict, cut: Cut) -> None:
    cut_end_rule(raw.get("storage") or [], cut, 0.5)


_ST = ("storage",)


def _estimate(sc, options) -> int:
    """Columns of ``stor``: charge, discharge and stock per (unit, period).

    Plus ``u_charge`` per period at the units that may not charge and discharge at once.
    """
    units = sc.config.storage
    return (3 * len(units) + sum(u.no_simultaneous for u in units)) * sc.periods


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """The capacity annuities of the first ``t`` periods: pro rata to their hours."""
    share = committed_share(ds, t)
    return {term: value * share for term, value in capacity_cost(ds, _CAPACITIES).items()}


COMPONENT = Component(
    name="stor",
    sections=("storage",),
    doc="batteries at sites",
    outputs=(
        Output("p_charge", ("storage", "time"), "MW", "battery charging", upper="storage_power"),
        Output(
            "p_discharge", ("storage", "time"), "MW", "battery discharging", upper="storage_power"
        ),
        Output(
            "e_soc",
            ("storage", "time"),
            "MWh",
            "state of charge at the end of the period",
            upper="storage_energy",
        ),
        Output(
            "u_charge",
            ("storage", "time"),
            "1",
            "charge mode (1: may charge, 0: may discharge)",
            upper=1.0,
            integer=True,
        ),
        Output(
            "storage_site", _ST, "text", "site whose bus the battery is connected to", role="input"
        ),
        Output("storage_power", _ST, "MW", "charge/discharge limit", role="input"),
        Output("storage_energy", _ST, "MWh", "energy capacity", role="input"),
        *capacity_outputs("storage_power", "storage", "MW"),
        *capacity_outputs("storage_energy", "storage", "MWh"),
        Output("eta_charge", _ST, "1", "charge efficiency", role="input"),
        Output("eta_discharge", _ST, "1", "discharge efficiency", role="input"),
        Output("self_discharge", _ST, "1/h", "self-discharge per hour", role="input"),
        Output("soc_initial", _ST, "1", "initial state of charge (fraction)", role="input"),
        Output("throughput_cost", _ST, "CNY/MWh", "wear cost per MWh in or out", role="input"),
        Output(
            "soc_final_min",
            _ST,
            "1",
            "minimum final state of charge (fraction; NaN: free)",
            role="input",
        ),
        Output("storage_exclusive", _ST, "bool", "charge and discharge exclusive", role="input"),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    derive=_derive,
    limits=_LIMITS,
    commit_costs=_commit_costs,
    state_out=_state_out,
    state_in=_state_in,
    cut=_cut,
    state_fields=(
        StateField("<battery>.soc_mwh", "MWh", "charge of the battery; sets storage[].soc_initial"),
        StateField(
            "<battery>.energy_mwh",
            "MWh",
            "a chosen energy (Capacity only): holds storage[].energy at the choice",
        ),
        StateField(
            "<battery>.power_mw",
            "MW",
            "a chosen power (Capacity only): holds storage[].power at the choice",
        ),
    ),
)
