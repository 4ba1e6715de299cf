"""24/7 carbon-free energy: a minimum hourly-matched CFE score as a constraint.

Math: ``docs/math/cfe.md``. Component ``cfe`` (a policy: reads the ledgers only). Per scope
``g`` (each site, or the portfolio), the carbon-free energy that entered the sites period by
period — every carrier of :data:`~suandian.component.CARRIERS` with a ``carbon_free`` share:
``green`` at 1, ``grid_mix`` at the node's ``grid_cfe`` of that period, ``remote_cfe`` as the
corridors state it — less the energy consumed beyond the load (intake - facility: battery
losses and charge left stored, which no score credits) is at least ``score`` times the load
(facility energy), both summed with the period weights (row ``score_min``, MWh).
Certificates carry no hour and do not count. The duals price the target: ``shadow_cfe``
(CNY per MWh of CFE required) and ``shadow_cfe_point`` (CNY per percentage point of score).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, attr, carbon_free, period_weight
from ..component import CARRIERS, Component, Context, FamilyBuilder, Output, Totals
from ..linear import Expr


def _share_of_node(ctx: Context, name: str) -> np.ndarray:
    """A node input (``grid_cfe``) at each site's node, (S, T)."""
    sc = ctx.scenario
    nodes = {n.name: n for n in sc.config.nodes}
    return np.array(
        [
            np.broadcast_to(sc.profile(getattr(nodes[s.node], name)), (ctx.T,))
            for s in sc.config.sites
        ]
    ).reshape(ctx.S, ctx.T)


def carbon_free_mw(ctx: Context) -> Expr:
    """Carbon-free MW entering each site per period, (S, T), from the ledger's flows."""
    led = ctx.ledger
    out = Expr.zeros((ctx.S, ctx.T))
    for carrier in CARRIERS.values():
        share = carrier.carbon_free
        if share is None:
            continue
        flow = led.flow(carrier.name)
        if share == "own":
            out = out + flow
        elif isinstance(share, str):
            out = out + flow * _share_of_node(ctx, share)
        elif share > 0.0:
            out = out + flow * float(share)
    return out


def _scopes(ctx: Context) -> tuple[list[str], np.ndarray]:
    """Scope labels and the scope of each site under ``policies.cfe.scope``."""
    policy = ctx.scenario.config.policies.cfe
    if policy is not None and policy.scope == "portfolio":
        return ["portfolio"], np.zeros(ctx.S, dtype=np.int64)
    return list(ctx.sites), np.arange(ctx.S)


def _targets(policy, labels: list[str]) -> np.ndarray:
    """The score of each scope: ``site_targets`` or ``score``; NaN where none (or off)."""
    out = np.full(len(labels), np.nan)
    if policy is None:
        return out
    out[:] = float(policy.score)
    for i, name in enumerate(labels):
        if name in policy.site_targets:
            value = policy.site_targets[name]
            out[i] = np.nan if value is None else float(value)
    return out


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    policy = ctx.scenario.config.policies.cfe
    labels, scope_of = _scopes(ctx)
    fb.coord("cfe_scope", labels)
    fb.attrs["cfe_score_target"] = np.nan if policy is None else float(policy.score)
    fb.attrs["cfe_scope"] = "site" if policy is None else policy.scope
    targets = _targets(policy, labels)
    fb.input("cfe_target", targets)
    if policy is None or np.isnan(targets).all():
        return
    G = len(labels)
    # carbon-free energy and consumption per scope, MWh, weighted like every horizon sum
    led = ctx.ledger
    got = ((carbon_free_mw(ctx) * ctx.w).sum(1) * ctx.dt).group(0, scope_of, G)
    load = led.total("facility").group(0, scope_of, G)
    got = got - (led.total("intake").group(0, scope_of, G) - load)  # losses: never credited
    need = load
    penalty = ctx.options.get("shortfall_penalty")
    if penalty is not None:  # the diagnosis's relaxed model: the missing MWh, priced
        shortfall = fb.var("e_cfe_shortfall")
        got = got + shortfall
        fb.cost("shortfall_cfe", shortfall * penalty, per_period=False)
    on = ~np.isnan(targets)
    rows = fb.constrain(
        "score_min", got - need * np.nan_to_num(targets), ">=", 0.0, mask=on, dual="shadow_cfe"
    )
    fb.dual("shadow_cfe_point", rows, lambda x: need.value(x) / 100.0)


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """``cfe.score_min`` from the books' flows.

    Carbon-free energy less what is consumed beyond the load, against score x load.
    """
    target: float | xr.DataArray = attr(ds, "cfe_score_target")
    if np.isnan(target) or "cfe_scope" not in ds.coords:
        return
    if "cfe_target" in ds:  # per scope (site_targets); NaN: no target there
        target = ds["cfe_target"]
    dt, w = rows.dt, period_weight(ds)
    flows: dict[str, xr.DataArray] = {}
    for a in rows.accounts.values():
        for carrier, f in a.flows.items():
            flows[carrier] = flows[carrier] + f if carrier in flows else f
    load = (flows["facility"] * w).sum("time") * dt
    beyond = (flows["intake"] * w).sum("time") * dt - load
    got = (carbon_free(ds, flows) * w).sum("time") * dt - beyond
    used = load
    if ds.attrs.get("cfe_scope") == "portfolio":
        got, used = got.sum("site").expand_dims(cfe_scope=["portfolio"]), used.sum("site")
        used = used.expand_dims(cfe_scope=["portfolio"])
    else:
        got, used = got.rename(site="cfe_scope"), used.rename(site="cfe_scope")
    if isinstance(target, xr.DataArray):
        on = target.notnull()
        got, used, target = got.where(on, drop=True), used.where(on, drop=True), target
        target = target.where(on, drop=True)
    rows.ge("cfe.score_min", got, target * used, scale=used)


def _kpis(ds: xr.Dataset, t: Totals) -> dict:
    """``cfe_score``: per scope, the share the row judges.

    Carbon-free energy less the consumption beyond the load, over the load (facility
    energy). Present when the policy is on.
    """
    if np.isnan(attr(ds, "cfe_score_target")) or t.carbon_free is None:
        return {}
    matched = t.carbon_free - (t.consumption - t.facility)
    if ds.attrs.get("cfe_scope") == "portfolio":
        total = float(t.facility.sum())
        return {"cfe_score": {"portfolio": float(matched.sum()) / total}}
    return {
        "cfe_score": {
            s: float(matched.sel(site=s)) / float(t.facility.sel(site=s))
            for s in t.sites
            if float(t.facility.sel(site=s)) > 0
        }
    }


def _validate(sc, refs) -> list:
    """Site targets name sites (``policies.cfe.site_targets``)."""
    from ..errors import Problem

    policy = sc.config.policies.cfe
    if policy is None:
        return []
    sites = [s.name for s in sc.config.sites]
    return [
        Problem(
            f"policies.cfe.site_targets.{name}",
            repr(name),
            f"unknown site; use one of: {', '.join(sites) or '(none)'}",
        )
        for name in policy.site_targets
        if name not in sites
    ]


def _estimate(sc, options) -> int:
    """No columns but the diagnosis's ``e_cfe_shortfall`` per scope (one row per scope)."""
    policy = sc.config.policies.cfe
    if policy is None or options.get("shortfall_penalty") is None:
        return 0
    return 1 if policy.scope == "portfolio" else len(sc.config.sites)


COMPONENT = Component(
    name="cfe",
    sections=("policies.cfe",),
    doc="24/7 carbon-free energy: a minimum hourly-matched CFE score",
    stateless="the score is judged over each horizon (a rolling year judges it per window)",
    outputs=(
        Output(
            "cfe_target",
            ("cfe_scope",),
            "1",
            "24/7 CFE score target of the scope (site_targets or score; NaN: none)",
            role="input",
        ),
        Output(
            "e_cfe_shortfall",
            ("cfe_scope",),
            "MWh",
            "carbon-free energy missing for the score (diagnosis)",
        ),
        Output(
            "shadow_cfe",
            ("cfe_scope",),
            "CNY/MWh",
            "cost of one more MWh of carbon-free energy required in the scope",
            role="dual",
            shadow="cny_per_mwh",
        ),
        Output(
            "shadow_cfe_point",
            ("cfe_scope",),
            "CNY/point",
            "cost of raising the scope's CFE score by one percentage point",
            role="dual",
            shadow="cny_per_point",
        ),
    ),
    build=_build,
    check=_check,
    kpis=_kpis,
    estimate=_estimate,
    validate=_validate,
    kind="policy",
)
