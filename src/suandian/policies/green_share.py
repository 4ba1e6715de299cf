"""Green share of electricity consumed, over the horizon or the year, and the certificate cap.

Math: ``docs/math/green_share.md``. Component ``green_share`` (a policy: reads the ledgers
only). Scope ``portfolio``: one row over all sites; scope ``site``: one row per site. With
basis ``year`` the target applies to the year's share: year to date + horizon + forecast,
which gives the horizon an allowance of green energy.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, attr
from ..component import Account, Component, Context, FamilyBuilder, Output
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
    allowance, g_other, c_other = _year_inputs(policy, list(g))
    fb.input("green_allowance", allowance)
    fb.input("green_other", g_other)
    fb.input("consumption_other", c_other)
    price = None if policy is None else policy.shortfall_price
    fb.attrs.update(
        green_share_basis="horizon" if policy is None else policy.basis,
        green_shortfall_price=np.nan if price is None else price,
    )
    if policy is not None:
        got = _by_scope(led.green(), member)
        if penalty is not None:
            shortfall = fb.var("e_green_shortfall")
            got = got + shortfall
            fb.cost("shortfall_green", shortfall * penalty)
        if price is not None:
            gap = fb.var("e_green_budget_gap")
            got = got + gap
            fb.cost("green_budget_shortfall", gap * price)
        rows = fb.constrain(
            "share_min",
            got - consumption * policy.target,
            ">=",
            -allowance,
            dual="shadow_green_share",
        )
        cons_other = np.nan_to_num(c_other)
        fb.dual(
            "shadow_green_share_point", rows, lambda x: (consumption.value(x) + cons_other) / 100.0
        )
    if certificates is not None and certificates.max_share is not None:
        certs = _by_scope(led.total("certificates"), member)
        fb.constrain("certificate_cap", certs - consumption * certificates.max_share, "<=", 0.0)


def _year_inputs(policy, scopes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per scope: allowance (MWh), green and consumption outside the horizon (MWh, NaN if none)."""
    G = len(scopes)
    allowance, g_other, c_other = np.zeros(G), np.full(G, np.nan), np.full(G, np.nan)
    if policy is None or policy.basis != "year":
        return allowance, g_other, c_other
    for i, name in enumerate(scopes):
        year = policy.year.get(name)
        if year is None:
            continue
        if year.allowance_mwh is not None:
            allowance[i] = year.allowance_mwh
        else:
            g_other[i] = year.green_to_date_mwh + year.green_forecast_mwh
            c_other[i] = year.consumption_to_date_mwh + year.consumption_forecast_mwh
            allowance[i] = g_other[i] - policy.target * c_other[i]
    return allowance, g_other, c_other


def _account(ds: xr.Dataset) -> Account:
    price = attr(ds, "green_shortfall_price")
    if np.isnan(price) or "e_green_budget_gap" not in ds:
        return Account(flows={})
    return Account(
        flows={}, cost={"green_budget_shortfall": price * float(ds["e_green_budget_gap"].sum())}
    )


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
        got = green
        for slack in ("e_green_shortfall", "e_green_budget_gap"):  # diagnosis / soft budget
            if slack in ds:
                got = got + xr.DataArray(ds[slack].values, dims=label, coords={label: names})

        def scope_input(name: str, fill: float) -> xr.DataArray:
            values = ds[name].values if name in ds else np.full(len(names), fill)
            return xr.DataArray(np.nan_to_num(values, nan=fill), dims=label, coords={label: names})

        allowance = scope_input("green_allowance", 0.0)
        g_year = got + scope_input("green_other", 0.0)
        c_year = cons + scope_input("consumption_other", 0.0)
        share = g_year / c_year.where(c_year > 0)
        rows.ge(
            "green_share.share_min",
            got - target * cons,
            -allowance,
            value=share.fillna(np.inf),
            limit=target,
        )
    max_share = attr(ds, "certificate_max_share")
    if not np.isnan(max_share):
        rows.le("green_share.certificate_cap", certs, max_share * cons)


COMPONENT = Component(
    name="green_share",
    sections=("policies.green_share", "certificates.max_share"),
    doc="minimum green share of consumption and the certificate cap, per scope",
    outputs=(
        Output(
            "green_allowance",
            ("scope",),
            "MWh",
            "green energy the horizon may lack below target x its consumption (0: basis horizon)",
            role="input",
        ),
        Output(
            "green_other",
            ("scope",),
            "MWh",
            "green energy of the year outside the horizon: to date + forecast (NaN: none)",
            role="input",
        ),
        Output(
            "consumption_other",
            ("scope",),
            "MWh",
            "consumption of the year outside the horizon: to date + forecast (NaN: none)",
            role="input",
        ),
        Output("e_green_shortfall", ("scope",), "MWh", "green energy missing (diagnosis)"),
        Output(
            "e_green_budget_gap",
            ("scope",),
            "MWh",
            "green energy missing for the target, priced at shortfall_price (soft budget)",
        ),
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
    account=_account,
    check=_check,
    kind="policy",
)
