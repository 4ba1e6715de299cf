"""Energy-weighted PUE cap per site, over the horizon or over the year.

Math: ``docs/math/pue_cap.md``. Component ``pue_cap`` (a policy: reads the ledgers only).
A site's own ``pue_cap`` always applies; otherwise the policy's cap, if any. With basis
``year`` the cap applies to the year's PUE: year to date + horizon + forecast (GB 40879-2021
judges metered annual energy), which gives the horizon an allowance of facility energy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..checks import Rows, attr, budget_weight, period_weight
from ..component import Account, Component, Context, FamilyBuilder, Output, StateField, Totals

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

#: GB 40879-2021 grade limits (grade 1, 2, 3) [R: recollection, see docs/math/pue_cap.md]
GRADE_LIMITS = (1.20, 1.30, 1.50)


def grade(pue: float) -> float:
    """GB 40879-2021 grade of a PUE: 1, 2 or 3; NaN above the grade-3 limit or undefined.

    Informative only: the standard covers air-cooled data centers with electric air
    conditioning (others "may refer to" it, so a liquid-cooled site is graded by reference)
    and judges a year's metered energy, so the grade of a shorter horizon is not a
    compliance grade (docs/math/pue_cap.md, "KPIs").
    """
    for level, limit in enumerate(GRADE_LIMITS, start=1):
        if pue <= limit:
            return float(level)
    return float("nan")


def _year_inputs(sc, caps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per site: allowance (MWh), facility and IT energy outside the horizon (MWh, NaN if none)."""
    policy = sc.config.policies.pue
    S = len(sc.config.sites)
    allowance = np.zeros(S)
    f_other = np.full(S, np.nan)
    i_other = np.full(S, np.nan)
    if policy is None or policy.basis != "year":
        return allowance, f_other, i_other
    for s, site in enumerate(sc.config.sites):
        year = policy.year.get(site.name)
        if year is None or np.isnan(caps[s]):
            continue
        if year.allowance_mwh is not None:
            allowance[s] = year.allowance_mwh
        else:
            f_other[s] = year.facility_to_date_mwh + year.facility_forecast_mwh
            i_other[s] = year.it_to_date_mwh + year.it_forecast_mwh
            allowance[s] = caps[s] * i_other[s] - f_other[s]
    return allowance, f_other, i_other


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    policy = sc.config.policies.pue
    caps = np.array(
        [np.nan if sc.pue_cap(s) is None else sc.pue_cap(s) for s in sc.config.sites], float
    )
    allowance, f_other, i_other = _year_inputs(sc, caps)
    fb.input("pue_cap", caps)
    fb.input("pue_allowance", allowance)
    fb.input("pue_facility_other", f_other)
    fb.input("pue_it_other", i_other)
    excess_price = None if policy is None else policy.excess_price
    fb.attrs.update(
        pue_basis="horizon" if policy is None else policy.basis,
        pue_excess_price=np.nan if excess_price is None else excess_price,
    )
    led = ctx.ledger
    annual = policy is not None and policy.basis == "year"
    total = led.year_total if annual else led.total  # a look-ahead stands in the forecast
    e_fac = total("facility")
    e_it = total("it")
    lhs = e_fac - e_it * np.nan_to_num(caps)
    capped = ~np.isnan(caps)
    penalty = ctx.options.get("shortfall_penalty")
    if penalty is not None:
        excess = fb.var("e_pue_excess", ub=np.where(capped, np.inf, 0.0))
        lhs = lhs - excess
        fb.cost("shortfall_pue", excess * penalty, per_period=False)
    if excess_price is not None:
        over = fb.var("e_pue_over_budget", ub=np.where(capped, np.inf, 0.0))
        lhs = lhs - over
        fb.cost("pue_budget_excess", over * excess_price, per_period=False)
    it_other = np.nan_to_num(i_other)
    fb.constrain(
        "pue_max",
        lhs,
        "<=",
        allowance,
        mask=capped,
        dual="shadow_pue",
        dual_factor=lambda x: -0.01 * (e_it.value(x) + it_other),
    )


def _account(ds: xr.Dataset) -> Account:
    cost = {}
    price = attr(ds, "pue_excess_price")
    if not np.isnan(price) and "e_pue_over_budget" in ds:
        cost["pue_budget_excess"] = price * float(ds["e_pue_over_budget"].sum())
    penalty = attr(ds, "shortfall_penalty")
    if not np.isnan(penalty) and "e_pue_excess" in ds:
        cost["shortfall_pue"] = penalty * float(ds["e_pue_excess"].sum())
    return Account(flows={}, cost=cost)


def _kpis(ds: xr.Dataset, t: Totals) -> dict:
    """GB 40879 grade of each site's horizon PUE (informative); the year's PUE where given."""

    def ratio(a, b) -> float:
        a, b = float(a), float(b)
        return a / b if b > 0 else float("nan")

    out: dict = {
        "pue_grade": {s: grade(ratio(t.facility.sel(site=s), t.it.sel(site=s))) for s in t.sites}
    }
    if "pue_it_other" in ds:
        year = {}
        for s in t.sites:
            i_other = float(ds["pue_it_other"].sel(site=s))
            it = float(t.it.sel(site=s)) + i_other
            if not np.isnan(i_other) and it > 0:
                fac = float(t.facility.sel(site=s)) + float(ds["pue_facility_other"].sel(site=s))
                year[s] = fac / it
        if year:
            out["pue_year"] = year
    return out


def _check(ds: xr.Dataset, rows: Rows) -> None:
    dt = rows.dt
    w = budget_weight(ds) if ds.attrs.get("pue_basis") == "year" else period_weight(ds)
    # the row reads the ledger's facility and IT carriers (dc's facility power plus, e.g., the
    # electricity a thermal tank's charging adds): recompute them from every account
    accounts = rows.accounts.values()
    e_it = (sum(a.flows["it"] for a in accounts if "it" in a.flows) * w).sum("time") * dt
    e_fac = sum(a.flows["facility"] for a in accounts if "facility" in a.flows)
    e_fac = (e_fac * w).sum("time") * dt
    for slack in ("e_pue_excess", "e_pue_over_budget"):
        if slack in ds:
            e_fac = e_fac - ds[slack]
    cap = ds["pue_cap"]
    allowance = ds["pue_allowance"] if "pue_allowance" in ds else xr.zeros_like(cap)
    if "pue_it_other" in ds and "pue_facility_other" in ds:
        # with the year's energies the allowance is cap x I_o - F_o: recomputed, so a cap
        # changed in the Dataset is judged against the year, not the stored allowance
        given = ds["pue_it_other"].notnull() & ds["pue_facility_other"].notnull()
        derived = cap * ds["pue_it_other"] - ds["pue_facility_other"]
        rows.eq("pue_cap.pue_allowance", allowance, xr.where(given, derived, allowance))
        allowance = xr.where(given, derived, allowance)
    f_other = ds["pue_facility_other"].fillna(0.0) if "pue_facility_other" in ds else 0.0
    i_other = ds["pue_it_other"].fillna(0.0) if "pue_it_other" in ds else 0.0
    e_fac_y, e_it_y = e_fac + f_other, e_it + i_other
    pue = (e_fac_y / e_it_y.where(e_it_y > 0)).fillna(np.inf).where(e_fac_y > 0, 0.0)
    rows.le(
        "pue_cap.pue_max", e_fac - cap * e_it, allowance.where(cap.notnull()), value=pue, limit=cap
    )
    for slack in ("e_pue_excess", "e_pue_over_budget"):
        if slack in ds:
            rows.le(f"pue_cap.{slack}.bounds", ds[slack], xr.where(cap.notnull(), np.nan, 0.0))


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Facility and IT energy per site from the horizon's start to the end of ``t``, MWh.

    Only for an annual cap (basis ``year``); from the ledger's ``facility`` and ``it``
    carriers, as the row ``pue_max`` reads them.
    """
    if ds.attrs.get("pue_basis") != "year":
        return {}
    dt = float(ds.attrs["dt_hours"])
    upto = {"time": slice(0, t + 1)}
    w = period_weight(ds)
    fac = (flows["facility"] * w).isel(upto).sum("time") * dt
    it = (flows["it"] * w).isel(upto).sum("time") * dt
    return {
        str(s): {"facility_mwh": float(fac.sel(site=s)), "it_mwh": float(it.sel(site=s))}
        for s in ds["site"].values
    }


def _state_in(entry: dict, raw: dict) -> None:
    """Add the energies to each site's year to date (or spend its allowance).

    With the four energies: ``facility_to_date_mwh`` += facility, ``it_to_date_mwh`` += IT.
    With ``allowance_mwh``: it shrinks by what the periods handed over used above the cap,
    facility - cap x IT (the site's own ``pue_cap``, else the policy's).
    """
    policy = (raw.get("policies") or {}).get("pue")
    if not isinstance(policy, dict) or policy.get("basis") != "year":
        return
    own = {s.get("name"): s.get("pue_cap") for s in raw.get("sites") or []}
    for site, year in (policy.get("year") or {}).items():
        if site not in entry:
            continue
        f, i = float(entry[site]["facility_mwh"]), float(entry[site]["it_mwh"])
        if year.get("allowance_mwh") is not None:
            cap = own.get(site) or policy.get("cap", 1.25)
            year["allowance_mwh"] = float(year["allowance_mwh"]) - (f - float(cap) * i)
        else:
            year["facility_to_date_mwh"] = float(year.get("facility_to_date_mwh", 0.0)) + f
            year["it_to_date_mwh"] = float(year.get("it_to_date_mwh", 0.0)) + i


def year_problems(
    field: str,
    year: dict,
    needed: list[str],
    what: str,
    forms: str = "year-to-date and forecast energies, or allowance_mwh",
) -> list[Problem]:
    """Annual budgets (basis 'year'): one entry per capped site or scope, no unknown keys.

    Shared by the PUE cap, the green share and the 绿电直连 ratios: ``year`` the entries
    given under ``field``, ``needed`` the sites or scopes that need one, ``forms`` the two
    forms an entry may take (named in the fix).
    """
    from ..errors import Problem

    problems = [
        Problem(
            f"{field}.{name}",
            repr(name),
            f"unknown {what}; use one of: {', '.join(needed) or '(none)'}",
        )
        for name in year
        if name not in needed
    ]
    missing = [n for n in needed if n not in year]
    if missing:
        problems.append(
            Problem(
                field,
                ", ".join(year) or "(empty)",
                f"basis 'year' needs the rest of the year for every {what}: add "
                f"{', '.join(missing)} ({forms})",
            )
        )
    return problems


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks: basis 'year' has the rest of the year for every site."""
    policy = sc.config.policies.pue
    if policy is None or policy.basis != "year":
        return []
    sites = [s.name for s in sc.config.sites]
    return year_problems("policies.pue.year", policy.year, sites, "site")


def _estimate(sc, options) -> int:
    """Columns of ``pue_cap``: ``e_pue_excess`` and ``e_pue_over_budget``, per site.

    The first in a diagnosis only, the second with an excess price.
    """
    policy = sc.config.policies.pue
    price = policy is not None and policy.excess_price is not None
    slack = options.get("shortfall_penalty") is not None
    return len(sc.config.sites) * (int(price) + int(slack))


def _annual(sc: Scenario) -> bool:
    """Whether the scenario judges this rule over the year (basis ``year``)."""
    policy = sc.config.policies.pue
    return policy is not None and policy.basis == "year"


COMPONENT = Component(
    name="pue_cap",
    sections=("policies.pue", "sites.pue_cap"),
    doc="energy-weighted PUE cap per site, over the horizon or the year",
    outputs=(
        Output("pue_cap", ("site",), "1", "PUE cap (NaN: none)", role="input"),
        Output(
            "pue_allowance",
            ("site",),
            "MWh",
            "facility energy the horizon may use above cap x its IT energy (0: basis horizon)",
            role="input",
        ),
        Output(
            "pue_facility_other",
            ("site",),
            "MWh",
            "facility energy of the year outside the horizon: to date + forecast (NaN: none)",
            role="input",
        ),
        Output(
            "pue_it_other",
            ("site",),
            "MWh",
            "IT energy of the year outside the horizon: to date + forecast (NaN: none)",
            role="input",
        ),
        Output("e_pue_excess", ("site",), "MWh", "facility energy above the cap (diagnosis)"),
        Output(
            "e_pue_over_budget",
            ("site",),
            "MWh",
            "facility energy above the budget, priced at excess_price (soft budget)",
        ),
        Output(
            "shadow_pue",
            ("site",),
            "CNY/0.01",
            "saving from a cap 0.01 higher (dual of pue_max times -0.01 x IT energy of the "
            "cap's period: horizon, or year with to-date and forecast)",
            role="dual",
            shadow="cny_per_0.01",
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
            "<site>.facility_mwh",
            "MWh",
            "facility energy of the periods handed over (annual cap only); adds to "
            "policies.pue.year.<site>.facility_to_date_mwh (or spends allowance_mwh)",
        ),
        StateField("<site>.it_mwh", "MWh", "IT energy of those periods; adds to it_to_date_mwh"),
    ),
)
