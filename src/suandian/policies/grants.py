"""One-off capital grants on chosen capacities: a share of their capex up to a cap.

Math: ``docs/math/grants.md``. Component ``grants`` (a policy: it reads the chosen
capacities the families built, :attr:`suandian.component.Context.capacities`). A grant
``g`` (CNY, one-off) covers at most ``share`` of the investment ``capex_per_unit x built``
of the capacities it names, and at most ``max_cny``; it is spread over the horizon like the
capex it reduces, by the capital recovery factor of those capacities times hours / 8760, so
that a grant equal to the capex cancels the capex part of their annuity. As REopt's
incentives: a share of capex up to a maximum; a fixed amount is ``share: 1`` with
``max_cny`` the amount (never more than the capex built).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from pydantic import Field

from ..checks import Rows
from ..component import (
    Account,
    Component,
    Context,
    FamilyBuilder,
    Fraction,
    Name,
    Output,
    ScenarioField,
)
from ..component import Section as _Model
from ..linear import Expr

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

#: relative spread of the recovery factors one grant may cover (same life and rate)
_SAME = 1e-9


class Grant(_Model):
    """A one-off capital grant: ``share`` of the capex of chosen capacities, at most ``max_cny``."""

    name: Name = Field(description="grant name")
    capacities: list[Name] = Field(
        min_length=1,
        description="chosen capacities it applies to, as the results name them "
        "(renewable_capacity, storage_power, storage_energy, tes_capacity, "
        "recovery_capacity, corridor_contract_mw, green_contract_mw, blocks); every item "
        "of each where the model chooses it",
    )
    share: Fraction = Field(
        1.0, description="most share of their capex (capex_per_unit x built, one-off) granted"
    )
    max_cny: float | None = Field(
        None, ge=0, description="cap on the one-off grant, CNY; null: none (share only)"
    )
    source: str = Field("", description="the policy text it comes from, with its tag")


def known_capacities() -> list[str]:
    """Names of the capacities a family may choose (outputs ``X_built`` with ``X_recovery``)."""
    from ..components import _EXTRA, REGISTRY

    names = []
    for comp in (*REGISTRY, *_EXTRA.values()):
        outs = {o.name for o in comp.outputs}
        names += [
            o.name[: -len("_built")]
            for o in comp.outputs
            if o.name.endswith("_built") and f"{o.name[: -len('_built')]}_recovery" in outs
        ]
    return sorted(set(names))


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    grants: list[Grant] = ctx.scenario.section("grants")
    G = len(grants)
    fb.coord("grant", [g.name for g in grants])
    share = np.array([g.share for g in grants], float)
    cap = np.array([np.nan if g.max_cny is None else g.max_cny for g in grants], float)
    recovery = np.full(G, np.nan)
    covered = Expr.zeros((G,))
    for i, g in enumerate(grants):
        factors = []
        for n in g.capacities:
            chosen = ctx.capacities.get(n)
            if chosen is None or not chosen.chosen.any():
                continue  # a fixed capacity: no capex to grant
            factors += list(chosen.recovery[chosen.chosen])
            capex = (chosen.built * chosen.capex_per_unit).group(
                0, np.where(chosen.chosen, i, -1), G
            )
            covered = covered + capex
        if factors:
            lo, hi = min(factors), max(factors)
            if hi - lo > _SAME * max(abs(hi), 1e-300):
                raise ValueError(
                    f"grants[{i}] {g.name!r}: its capacities {g.capacities} are recovered at "
                    f"different rates ({lo:.6g} .. {hi:.6g} of the capex over the horizon: "
                    "lifetime_years or discount_rate differ); split it into one grant per "
                    "capacity with the same life and rate, each with its own max_cny"
                )
            recovery[i] = factors[0]
    fb.input("grant_share", share)
    fb.input("grant_max", cap)
    fb.input("grant_recovery", recovery)
    fb.attrs["grant_capacities"] = json.dumps({g.name: list(g.capacities) for g in grants})
    active = ~np.isnan(recovery)
    grant = fb.var("grant_cny", ub=np.where(active, np.nan_to_num(cap, nan=np.inf), 0.0))
    fb.constrain("grant_share", grant - covered * share, "<=", 0.0, mask=active)
    spread = grant * np.nan_to_num(recovery)
    fb.derived("grant_horizon_cny", spread)
    fb.cost("grants", -spread, per_period=False)


def _capex(ds: xr.Dataset) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Per grant: the capex of its capacities built (CNY), and their recovery factors."""
    names = json.loads(ds.attrs.get("grant_capacities", "{}"))
    capex: dict[str, float] = {}
    factors: dict[str, list[float]] = {}
    for g, caps in names.items():
        capex[g], factors[g] = 0.0, []
        for n in caps:
            if f"{n}_built" not in ds or f"{n}_capex_per_unit" not in ds:
                continue
            chosen = ds[f"{n}_recovery"].notnull()
            capex[g] += float((ds[f"{n}_capex_per_unit"] * ds[f"{n}_built"]).where(chosen).sum())
            factors[g] += [float(v) for v in ds[f"{n}_recovery"].where(chosen, drop=True).values]
    return capex, factors


def _account(ds: xr.Dataset) -> Account:
    if "grant_cny" not in ds:
        return Account(flows={}, cost={})
    spread = ds["grant_cny"] * ds["grant_recovery"].fillna(0.0)
    return Account(flows={}, cost={"grants": -float(spread.sum())})


def _check(ds: xr.Dataset, rows: Rows) -> None:
    if "grant_cny" not in ds:
        return
    capex, factors = _capex(ds)
    labels = [str(g) for g in ds["grant"].values]
    grant = ds["grant_cny"]
    covered = xr.DataArray([capex.get(g, 0.0) for g in labels], dims=("grant",))
    covered = covered.assign_coords(grant=ds["grant"])
    rows.le("grants.grant_share", grant, ds["grant_share"] * covered, floor=1.0)
    rows.le("grants.grant_max", grant, ds["grant_max"])
    rows.ge("grants.grant_cny.bounds", grant, xr.zeros_like(grant))
    # the factor the grant is spread by is its capacities' own, recomputed from theirs (all
    # equal: the build refuses a grant over different lives or rates)
    for pick in (min, max):
        own = [pick(factors[g]) if factors.get(g) else 0.0 for g in labels]
        own_da = xr.DataArray(own, dims=("grant",), coords={"grant": ds["grant"]})
        rows.eq("grants.grant_recovery", ds["grant_recovery"].fillna(0.0), own_da)
    if "grant_horizon_cny" in ds:
        rows.eq(
            "grants.grant_horizon_cny",
            ds["grant_horizon_cny"],
            grant * ds["grant_recovery"].fillna(0.0),
        )


def _kpis(ds: xr.Dataset, t) -> dict:
    """Per grant: CNY one-off and CNY over the horizon."""
    if "grant_cny" not in ds:
        return {}
    spread = ds["grant_cny"] * ds["grant_recovery"].fillna(0.0)
    return {
        "grant_cny": {str(g): float(ds["grant_cny"].sel(grant=g)) for g in ds["grant"].values},
        "grant_horizon_cny": {str(g): float(spread.sel(grant=g)) for g in ds["grant"].values},
    }


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Each grant names known capacities; names unique."""
    from ..errors import Problem

    known = known_capacities()
    problems = []
    seen: set[str] = set()
    for i, g in enumerate(sc.section("grants")):
        if g.name in seen:
            problems.append(
                Problem(f"grants[{i}].name", repr(g.name), "duplicate grant name; rename it")
            )
        seen.add(g.name)
        for j, n in enumerate(g.capacities):
            if n not in known:
                problems.append(
                    Problem(
                        f"grants[{i}].capacities[{j}]",
                        repr(n),
                        f"not a capacity a family may choose; use one of: {', '.join(known)} "
                        "(the Dataset's name of the chosen capacity, e.g. renewable_capacity "
                        "for PV or wind)",
                    )
                )
    return problems


def _estimate(sc, options) -> int:
    """Columns of ``grants``: ``grant_cny``, one per grant."""
    return len(sc.section("grants"))


COMPONENT = Component(
    name="grants",
    sections=("grants",),
    doc="one-off capital grants on chosen capacities: a share of their capex up to a cap",
    outputs=(
        Output(
            "grant_cny",
            ("grant",),
            "CNY",
            "one-off grant (decision; <= share x capex built, <= max_cny)",
            first_stage=True,
        ),
        Output(
            "grant_horizon_cny",
            ("grant",),
            "CNY",
            "the grant's part over the horizon: grant_cny x grant_recovery (off the cost)",
        ),
        Output("grant_share", ("grant",), "1", "most share of the capex granted", role="input"),
        Output("grant_max", ("grant",), "CNY", "cap on the grant (NaN: none)", role="input"),
        Output(
            "grant_recovery",
            ("grant",),
            "1",
            "share of the grant counted over the horizon: its capacities' capital recovery "
            "factor x hours / 8760 (NaN: none of them chosen)",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    kpis=_kpis,
    validate=_validate,
    kind="policy",
    scenario_fields=(
        ScenarioField(
            "grants",
            list[Grant],
            Field(
                default_factory=list,
                description="one-off capital grants on chosen capacities: a share of their "
                "capex up to a cap (docs/math/grants.md)",
            ),
        ),
    ),
    stateless=(
        "a grant follows the capacities it covers, whose own state holds the choice in the "
        "next window; each window counts its hours' share of it (grant_recovery)"
    ),
)
