"""Green share of electricity consumed over the horizon, and the certificate cap.

Math: ``docs/math/green_share.md``. Component ``green_share`` (a policy: reads the ledgers
only). Scope ``portfolio``: one row over all sites; scope ``site``: one row per site.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, attr
from ..component import Component, Context, FamilyBuilder, Output
from ..linear import Expr

#: name of the single portfolio scope
PORTFOLIO = "portfolio"


def groups(sites: list[str], scope: str) -> dict[str, list[str]]:
    """Scope name -> its sites."""
    return {PORTFOLIO: list(sites)} if scope != "site" else {s: [s] for s in sites}


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    c = ctx.scenario.config
    policy = c.policies.green_share
    certificates = c.certificates
    scope = policy.scope if policy is not None else PORTFOLIO
    g = groups(ctx.sites, scope)
    fb.coord("scope", list(g))
    member = np.array([[s in g[k] for s in ctx.sites] for k in g], dtype=float)
    led = ctx.ledger
    consumption = _by_scope(led.consumption(), member)
    penalty = ctx.options.get("shortfall_penalty")
    fb.attrs.update(
        green_share_target=np.nan if policy is None else policy.target,
        green_share_scope="none" if policy is None else policy.scope,
        certificate_max_share=np.nan
        if certificates is None or certificates.max_share is None
        else certificates.max_share,
        shortfall_penalty=np.nan if penalty is None else penalty,
    )
    if policy is not None:
        got = _by_scope(led.green(), member)
        if penalty is not None:
            shortfall = fb.var("e_green_shortfall")
            got = got + shortfall
            fb.cost("shortfall_green", shortfall * penalty)
        rows = fb.constrain(
            "share_min", got - consumption * policy.target, ">=", 0.0, dual="shadow_green_share"
        )
        fb.dual("shadow_green_share_point", rows, lambda x: consumption.value(x) / 100.0)
    if certificates is not None and certificates.max_share is not None:
        certs = _by_scope(led.total("certificates"), member)
        fb.constrain("certificate_cap", certs - consumption * certificates.max_share, "<=", 0.0)


def _by_scope(per_site: Expr, member: np.ndarray) -> Expr:
    """(S,) -> (G,) by the membership matrix (G, S)."""
    return (per_site.expand(member.shape, 0) * member).sum(1)


def _check(ds: xr.Dataset, rows: Rows) -> None:
    k = rows.books
    sites = [str(s) for s in ds["site"].values]
    scope = str(ds.attrs.get("green_share_scope", "none"))
    g = groups(sites, scope)
    label = "site" if scope == "site" else "scope"
    names = list(g)

    def per_scope(values):
        return xr.DataArray(
            [sum(values[s] for s in g[n]) for n in names], dims=label, coords={label: names}
        )

    cons = per_scope(k["consumption_mwh"])
    green = per_scope(k["green_mwh"])
    cert = {s: float(ds["e_certificate"].sel(site=s)) for s in sites}
    certs = per_scope(cert)
    target = attr(ds, "green_share_target")
    if not np.isnan(target):
        shortfall = xr.zeros_like(green)
        if "e_green_shortfall" in ds:  # diagnosis slack
            shortfall = xr.DataArray(
                ds["e_green_shortfall"].values, dims=label, coords={label: names}
            )
        got = green + shortfall
        share = got / cons.where(cons > 0)
        rows.ge(
            "green_share.share_min", got, target * cons, value=share.fillna(np.inf), limit=target
        )
    max_share = attr(ds, "certificate_max_share")
    if not np.isnan(max_share):
        rows.le("green_share.certificate_cap", certs, max_share * cons)


COMPONENT = Component(
    name="green_share",
    sections=("policies.green_share", "certificates.max_share"),
    doc="minimum green share of consumption and the certificate cap, per scope",
    outputs=(
        Output("e_green_shortfall", ("scope",), "MWh", "green energy missing (diagnosis)"),
        Output(
            "shadow_green_share",
            ("scope",),
            "CNY/MWh",
            "cost of one more MWh of green energy required in the scope",
            role="dual",
        ),
        Output(
            "shadow_green_share_point",
            ("scope",),
            "CNY/point",
            "cost of raising the scope's target by one percentage point",
            role="dual",
        ),
    ),
    build=_build,
    check=_check,
    kind="policy",
)
