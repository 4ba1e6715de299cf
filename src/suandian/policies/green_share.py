"""Green share of electricity consumed, over the horizon or the year, and the certificate cap.

Math: ``docs/math/green_share.md``. Component ``green_share`` (a policy: reads the ledgers
only). Scope ``portfolio``: one row over all sites; scope ``site``: one row per site. With
basis ``year`` the target applies to the year's share: year to date + horizon + forecast,
which gives the horizon an allowance of green energy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from ..checks import Rows, attr, budget_weight, counted_share, period_weight
from ..component import Account, Component, Context, FamilyBuilder, Output, StateField, Totals
from ..linear import Expr
from .pue_cap import year_problems

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

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
    targets = np.full(len(g), np.nan)
    if policy is not None:
        targets[:] = policy.target
        for i, name in enumerate(g):
            if name in policy.site_targets:
                value = policy.site_targets[name]
                targets[i] = np.nan if value is None else value
    allowance, g_other, c_other = _year_inputs(policy, list(g), targets)
    fb.input("green_allowance", allowance)
    fb.input("green_other", g_other)
    fb.input("consumption_other", c_other)
    price = None if policy is None else policy.shortfall_price
    fb.attrs.update(
        green_share_basis="horizon" if policy is None else policy.basis,
        green_matching="horizon" if policy is None else policy.matching,
        green_shortfall_price=np.nan if price is None else price,
    )
    fb.input("green_target", targets)
    # each site's certificates cover at most its own non-green consumption (no site > 100 %)
    fb.constrain(
        "certificate_own_use",
        led.total("certificates") - (led.consumption() - led.total("green")),
        "<=",
        0.0,
    )
    if policy is not None and policy.matching != "horizon":
        _build_matching(fb, ctx, policy, member, penalty, price, targets)
    elif policy is not None:
        if policy.basis == "year" and led.budget is not None:  # a look-ahead: in the forecast
            counted = _by_scope(led.year_total("intake"), member)
            got = _by_scope(led.year_total("green") + led.year_total("certificates"), member)
        else:
            counted = consumption
            got = _by_scope(led.green(), member)
        if penalty is not None:
            shortfall = fb.var("e_green_shortfall")
            got = got + shortfall
            fb.cost("shortfall_green", shortfall * penalty, per_period=False)
        if price is not None:
            gap = fb.var("e_green_budget_gap")
            got = got + gap
            fb.cost("green_budget_shortfall", gap * price, per_period=False)
        rows = fb.constrain(
            "share_min",
            got - counted * np.nan_to_num(targets),
            ">=",
            -allowance,
            mask=~np.isnan(targets),
            dual="shadow_green_share",
        )
        cons_other = np.nan_to_num(c_other)
        fb.dual("shadow_green_share_point", rows, lambda x: (counted.value(x) + cons_other) / 100.0)
    if certificates is not None and certificates.max_share is not None:
        certs = _by_scope(led.total("certificates"), member)
        counted_all = (
            _by_scope(led.year_total("intake"), member)
            if policy is not None and policy.basis == "year" and led.budget is not None
            else consumption
        )  # certificates are committed with the periods the budget counts
        fb.constrain("certificate_cap", certs - counted_all * certificates.max_share, "<=", 0.0)


def buckets(time: pd.DatetimeIndex, matching: str) -> tuple[np.ndarray, list[str]]:
    """Matching bucket of every period and the buckets' labels (their start, ISO text)."""
    freq = {"month": "MS", "day": "D", "hour": "h"}[matching]
    start = time.to_period("M").to_timestamp() if freq == "MS" else time.floor(freq)
    labels, index = np.unique(start.to_numpy(), return_inverse=True)
    return index.astype(np.int64), [pd.Timestamp(v).isoformat() for v in labels]


def _build_matching(
    fb: FamilyBuilder, ctx: Context, policy, member, penalty, price, targets
) -> None:
    """Rows ``share_match[g, b]``: green supply >= target x use in every bucket b (MWh)."""
    labels, starts = buckets(ctx.scenario.time, policy.matching)
    fb.coord("match", starts)
    B = len(starts)
    scope_of_site = member.argmax(axis=0)
    G = member.shape[0]
    led = ctx.ledger
    w = ctx.w  # representative periods: the MWh they stand for

    def per_bucket(flow: Expr) -> Expr:
        return (flow * w).group(0, scope_of_site, G).group(1, labels, B) * ctx.dt

    got = per_bucket(led.flow("green"))
    use = per_bucket(led.flow("intake"))
    if penalty is not None:
        shortfall = fb.var("e_green_match_shortfall")
        got = got + shortfall
        fb.cost("shortfall_green", shortfall * penalty, per_period=False)
    if price is not None:
        gap = fb.var("e_green_match_gap")
        got = got + gap
        fb.cost("green_budget_shortfall", gap * price, per_period=False)
    targets = np.asarray(targets)
    fb.constrain(
        "share_match",
        got - use * np.nan_to_num(targets)[:, None],
        ">=",
        0.0,
        mask=np.broadcast_to(~np.isnan(targets)[:, None], (G, B)),
        dual="shadow_green_match",
    )


def _year_inputs(
    policy, scopes: list[str], targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per scope: allowance (MWh), green and consumption outside the horizon (MWh, NaN if none)."""
    G = len(scopes)
    allowance, g_other, c_other = np.zeros(G), np.full(G, np.nan), np.full(G, np.nan)
    if policy is None or policy.basis != "year":
        return allowance, g_other, c_other
    for i, name in enumerate(scopes):
        year = policy.year.get(name)
        if year is None or np.isnan(targets[i]):
            continue
        if year.allowance_mwh is not None:
            allowance[i] = year.allowance_mwh
        else:
            g_other[i] = year.green_to_date_mwh + year.green_forecast_mwh
            c_other[i] = year.consumption_to_date_mwh + year.consumption_forecast_mwh
            allowance[i] = g_other[i] - targets[i] * c_other[i]
    return allowance, g_other, c_other


def _account(ds: xr.Dataset) -> Account:
    cost = {}
    price = attr(ds, "green_shortfall_price")
    gaps = [ds[v] for v in ("e_green_budget_gap", "e_green_match_gap") if v in ds]
    if not np.isnan(price) and gaps:
        cost["green_budget_shortfall"] = price * sum(float(v.sum()) for v in gaps)
    penalty = attr(ds, "shortfall_penalty")
    if not np.isnan(penalty):
        for slack in ("e_green_match_shortfall", "e_green_shortfall"):  # one basis or the other
            if slack in ds:
                cost["shortfall_green"] = penalty * float(ds[slack].sum())
    return Account(flows={}, cost=cost)


def _kpis(ds: xr.Dataset, t: Totals) -> dict:
    """The year's green share per scope, where year data were given."""
    if "consumption_other" not in ds:
        return {}
    year = {}
    for g in (str(g) for g in ds["scope"].values):
        members = t.sites if g == "portfolio" else [g]
        c_other = float(ds["consumption_other"].sel(scope=g))
        c = float(t.consumption.sel(site=members).sum()) + c_other
        if not np.isnan(c_other) and c > 0:
            got = float(t.green.sel(site=members).sum()) + float(ds["green_other"].sel(scope=g))
            year[g] = got / c
    return {"green_share_year": year} if year else {}


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
    if ds.attrs.get("green_share_basis") == "year" and "budget_period" in ds:
        bw = budget_weight(ds)  # the periods the annual row counts
        flows = {
            c: sum(a.flows[c] for a in rows.accounts.values() if c in a.flows)
            for c in ("green", "intake")
        }
        counted = {c: (f * bw).sum("time") * rows.dt for c, f in flows.items()}
        cons = per_scope({s: float(counted["intake"].sel(site=s)) for s in sites})
        green = per_scope({s: float(counted["green"].sel(site=s)) + cert[s] for s in sites})
    certs = per_scope(cert)
    target: float | xr.DataArray = attr(ds, "green_share_target")
    if "green_target" in ds:  # per scope (site_targets); NaN: no target there
        targets = xr.DataArray(ds["green_target"].values, dims=label, coords={label: names})
        target, on = targets, bool(targets.notnull().any())
    else:
        on = not np.isnan(target)
    if on and "match" not in ds.dims:
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
            (got - target * cons).fillna(0.0),
            (-allowance).where(xr.DataArray(target).notnull()),
            value=share.fillna(np.inf),
            limit=target,
        )
    if "match" in ds.dims and on:
        _check_matching(ds, rows, g, label, target)
    # each site's certificates cover at most its own non-green consumption
    physical = {s: k["green_mwh"][s] - cert[s] for s in sites}
    own = xr.DataArray(
        [k["consumption_mwh"][s] - physical[s] for s in sites], dims="site", coords={"site": sites}
    )
    rows.le(
        "green_share.certificate_own_use",
        ds["e_certificate"],
        own,
        scale=xr.DataArray(
            [k["consumption_mwh"][s] for s in sites], dims="site", coords={"site": sites}
        ),
    )
    max_share = attr(ds, "certificate_max_share")
    if not np.isnan(max_share):
        rows.le("green_share.certificate_cap", certs, max_share * cons)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Green and consumed energy per scope from the horizon's start to the end of ``t``, MWh.

    Only for an annual budget (basis ``year``). Certificates have no time stamp: they count
    pro rata to the consumption the budget counts up to ``t`` (:func:`counted_share`; all of
    them at the end of a rolling window's committed periods, ``budget_period``).
    """
    if ds.attrs.get("green_share_basis") != "year":
        return {}
    dt = float(ds.attrs["dt_hours"])
    sites = [str(s) for s in ds["site"].values]
    upto = {"time": slice(0, t + 1)}
    w = period_weight(ds)
    consumed = (flows["intake"] * w).isel(upto).sum("time") * dt
    green = (flows["green"] * w).isel(upto).sum("time") * dt
    if "e_certificate" in ds:
        green = green + ds["e_certificate"] * counted_share(ds, flows["intake"], t)
    out = {}
    for scope, members in groups(sites, str(ds.attrs.get("green_share_scope"))).items():
        out[scope] = {
            "green_mwh": float(sum(float(green.sel(site=s)) for s in members)),
            "consumption_mwh": float(sum(float(consumed.sel(site=s)) for s in members)),
        }
    return out


def _state_in(entry: dict, raw: dict) -> None:
    """Add the energies to the year to date of each scope (or spend its allowance).

    With the four energies: ``green_to_date_mwh`` += green, ``consumption_to_date_mwh`` +=
    consumption. With ``allowance_mwh``: it shrinks by what the periods handed over lacked,
    target x consumption - green.
    """
    policy = (raw.get("policies") or {}).get("green_share")
    if not isinstance(policy, dict) or policy.get("basis") != "year":
        return
    for scope, year in (policy.get("year") or {}).items():
        if scope not in entry:
            continue
        g, c = float(entry[scope]["green_mwh"]), float(entry[scope]["consumption_mwh"])
        if year.get("allowance_mwh") is not None:
            target = (policy.get("site_targets") or {}).get(scope, policy.get("target", 0.8))
            year["allowance_mwh"] = float(year["allowance_mwh"]) - (float(target or 0.0) * c - g)
        else:
            year["green_to_date_mwh"] = float(year.get("green_to_date_mwh", 0.0)) + g
            year["consumption_to_date_mwh"] = float(year.get("consumption_to_date_mwh", 0.0)) + c


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks: site targets name sites; basis 'year' has every scope's year."""
    from ..errors import Problem

    policy = sc.config.policies.green_share
    if policy is None:
        return []
    sites = [s.name for s in sc.config.sites]
    problems = [
        Problem(
            f"policies.green_share.site_targets.{name}",
            repr(name),
            f"unknown site; use one of: {', '.join(sites) or '(none)'}",
        )
        for name in policy.site_targets
        if name not in sites
    ]
    if policy.basis == "year":
        needed, what = (sites, "site") if policy.scope == "site" else ([PORTFOLIO], "scope")
        problems += year_problems("policies.green_share.year", policy.year, needed, what)
    return problems


def _estimate(sc, options) -> int:
    """Columns of ``green_share``: the shortfall (diagnosis) and the budget gap (priced).

    One each per scope, or per (scope, matching bucket) with hourly, daily or monthly
    matching.
    """
    policy = sc.config.policies.green_share
    if policy is None:
        return 0
    n = (options.get("shortfall_penalty") is not None) + (policy.shortfall_price is not None)
    if not n:
        return 0
    scopes = len(groups([s.name for s in sc.config.sites], policy.scope))
    if policy.matching != "horizon":
        scopes *= len(np.unique(buckets(sc.time, policy.matching)[0]))
    return n * scopes


def _annual(sc: Scenario) -> bool:
    """Whether the scenario judges this rule over the year (basis ``year``)."""
    policy = sc.config.policies.green_share
    return policy is not None and policy.basis == "year"


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
        Output(
            "green_target",
            ("scope",),
            "1",
            "green-share target of the scope (site_targets or target; NaN: none)",
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
            "e_green_match_shortfall",
            ("scope", "match"),
            "MWh",
            "green energy missing in a matching bucket (diagnosis)",
        ),
        Output(
            "e_green_match_gap",
            ("scope", "match"),
            "MWh",
            "green energy missing in a matching bucket, priced at shortfall_price (soft)",
        ),
        Output(
            "shadow_green_match",
            ("scope", "match"),
            "CNY/MWh",
            "cost of one more MWh of green supply required in the bucket (matching)",
            role="dual",
        ),
        Output(
            "shadow_green_share",
            ("scope",),
            "CNY/MWh",
            "cost of one more MWh of green energy required in the scope",
            role="dual",
            shadow="cny_per_mwh",
        ),
        Output(
            "shadow_green_share_point",
            ("scope",),
            "CNY/point",
            "cost of raising the scope's target by one percentage point",
            role="dual",
            shadow="cny_per_point",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    kpis=_kpis,
    validate=_validate,
    kind="policy",
    state_out=_state_out,
    state_in=_state_in,
    year_budget=_annual,
    state_fields=(
        StateField(
            "<scope>.green_mwh",
            "MWh",
            "green energy of the periods handed over (annual budget only); adds to "
            "policies.green_share.year.<scope>.green_to_date_mwh (or spends allowance_mwh)",
        ),
        StateField(
            "<scope>.consumption_mwh",
            "MWh",
            "electricity consumed in those periods; adds to consumption_to_date_mwh",
        ),
    ),
)


def _check_matching(ds: xr.Dataset, rows: Rows, g: dict, label: str, target) -> None:
    """``share_match``: green flows >= target x intake in every bucket, from the accounts."""
    dt = rows.dt * np.asarray(period_weight(ds))  # hours each period stands for
    flows = {
        c: sum(a.flows[c] for a in rows.accounts.values() if c in a.flows)
        for c in ("green", "intake")
    }
    labels, starts = buckets(pd.DatetimeIndex(ds["time"].values), ds.attrs["green_matching"])
    names = list(g)
    got = np.zeros((len(names), len(starts)))
    use = np.zeros_like(got)
    for i, n in enumerate(names):
        green_t = flows["green"].sel(site=g[n]).sum("site").values * dt
        use_t = flows["intake"].sel(site=g[n]).sum("site").values * dt
        np.add.at(got[i], labels, green_t)
        np.add.at(use[i], labels, use_t)
    for slack in ("e_green_match_shortfall", "e_green_match_gap"):
        if slack in ds:
            got = got + ds[slack].values
    coords = {label: names, "match": starts}
    got_da = xr.DataArray(got, dims=(label, "match"), coords=coords)
    use_da = xr.DataArray(use, dims=(label, "match"), coords=coords)
    share = (got_da / use_da.where(use_da > 0)).fillna(np.inf)
    rows.ge("green_share.share_match", got_da, target * use_da, value=share, limit=target)
    return
