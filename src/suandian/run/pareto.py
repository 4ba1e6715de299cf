"""Pareto fronts of cost against a policy's level, built on sweeps.

Rules: ``docs/sweeps.md``, "Pareto fronts". The front is traced by the **epsilon-constraint
method**: the scenario's own target is the epsilon, swept over a range, and every point is a
least-cost plan (certified) at that level; the shadow price of the target's row at each
point is the front's slope there:

* ``green_share``: epsilon = ``policies.green_share.target`` (share, 0..1); slope
  ``d cost / d target = 100 x sum_g shadow_green_share_point[g]`` over the scopes the policy
  target sets (CNY per unit of share; a site with its own ``site_targets`` entry is left
  out), positive.
* ``pue_cap``: epsilon = ``policies.pue.cap``; slope ``d cost / d cap = -100 x sum_s
  shadow_pue[s]`` over the sites the policy caps (those without their own ``pue_cap``),
  negative (a looser cap saves).
* ``emissions``: the scenario format has no emissions cap, so this front is traced by the
  **weighted-sum** method instead: ``policies.carbon_price`` is swept and each point is the
  plan at that price; its cost is the objective less the carbon charge, its level the
  emissions on ``policies.carbon_basis`` (tCO2), and its slope ``d cost / d emissions =
  -carbon_price`` (the marginal abatement cost). On a MIP this finds the supported points
  of the front only (those on its convex hull).

* ``cfe_score``: epsilon = ``policies.cfe.score`` (the 24/7 CFE score, 0..1; the scenario
  must set ``policies.cfe``, ``docs/math/cfe.md``); level the lowest ``cfe_score`` KPI over
  its scopes (what the row judges; a site with its own ``site_targets`` entry is left
  out); slope ``d cost / d score = 100 x sum_g shadow_cfe_point[g]`` (CNY per unit of
  score), positive.

The slope from the shadow prices is exact on an LP and, on a MIP, the slope of the LP with
the integers fixed at the plan's values (``docs/math/solver.md``); the table also gives the
secant between neighbouring points (``secant``) to compare.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import Problem
from ..results.sweep import SweepResult
from .sweep import SweepError, sweep

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..scenario import Scenario

#: ``against`` -> (path swept, unit of epsilon, default span, method)
AXES: dict[str, tuple[str, str, tuple[float, float], str]] = {
    "green_share": ("policies.green_share.target", "share", (0.5, 1.0), "epsilon-constraint"),
    "pue_cap": ("policies.pue.cap", "PUE", (1.15, 1.5), "epsilon-constraint"),
    "emissions": ("policies.carbon_price", "tCO2", (0.0, 400.0), "weighted sum"),
    "cfe_score": ("policies.cfe.score", "score", (0.8, 1.0), "epsilon-constraint"),
}
#: ``against`` values refused, with why
MISSING: dict[str, str] = {}


@dataclass
class ParetoFront:
    """A cost front: the table, the sweep it came from, and what it is against.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per point, in the order of the epsilon values: ``epsilon`` (the value of
        ``path``), ``level`` (what the plan achieved: the share, the PUE, the emissions),
        ``cost`` (CNY; for ``emissions`` without the carbon charge), ``slope`` (d cost /
        d level from the shadow prices, CNY per unit of ``unit``), ``secant`` (the same
        between this point and the previous one with a plan), ``status``, ``certified``,
        ``shadow.<name>`` (the shadow prices that make the slope), ``diagnosis``.
    sweep : SweepResult
        The sweep of the points (every KPI per point).
    against : str
        ``green_share``, ``pue_cap`` or ``emissions``.
    path : str
        The field swept.
    unit : str
        Unit of ``level``.
    method : str
        ``epsilon-constraint`` or ``weighted sum``.
    """

    table: pd.DataFrame
    sweep: SweepResult
    against: str
    path: str
    unit: str
    method: str

    def figure(self, ax: Axes | None = None) -> Figure:
        """The front as a figure (:func:`plot_pareto`)."""
        return plot_pareto(self, ax=ax)


def pareto(
    scenario: Scenario,
    objective: str = "cost",
    against: str = "green_share",
    points: int | Sequence[float] = 6,
    span: tuple[float, float] | None = None,
    scheduler: Any = None,
    **kwargs: Any,
) -> ParetoFront:
    """Trace the least-cost front against a policy's level (module docstring).

    Parameters
    ----------
    scenario : Scenario
        The base scenario.
    objective : {"cost"}
        What is minimised: the plan's total cost (the only objective suandian has).
    against : {"green_share", "pue_cap", "emissions", "cfe_score"}
        The level the front runs along (``cfe_score``: the scenario sets ``policies.cfe``).
    points : int or sequence of float
        The epsilon values themselves, or how many, evenly spaced over ``span``.
    span : (float, float), optional
        Range of the epsilon values when ``points`` is a count; default: green share
        0.5..1.0, PUE cap 1.15..1.5, carbon price 0..400 CNY/tCO2, CFE score 0.8..1.0.
    scheduler : None, str or distributed.Client
        As :func:`suandian.sweep` (default: a local cluster, one worker per core).
    **kwargs
        Passed to :func:`suandian.sweep` (``n_workers``, ``progress``, solver options such
        as ``mip_rel_gap``).

    Returns
    -------
    ParetoFront
        ``table`` (a DataFrame), ``sweep`` and ``figure(ax=None)``.

    Raises
    ------
    SweepError
        for an unknown objective or axis, bad points or span, or cases the scenario refuses.
    """
    problems: list[Problem] = []
    if objective != "cost":
        problems.append(
            Problem("objective", repr(objective), "suandian minimises cost: use 'cost'")
        )
    if against in MISSING:
        problems.append(Problem("against", repr(against), MISSING[against]))
    elif against not in AXES:
        problems.append(Problem("against", repr(against), f"use one of {', '.join(AXES)}"))
    if against == "cfe_score" and scenario.config.policies.cfe is None:
        problems.append(
            Problem(
                "against",
                repr(against),
                "the scenario has no 24/7 CFE target to sweep: set policies.cfe (e.g. "
                "{score: 0.9}, docs/math/cfe.md)",
            )
        )
    if problems:
        raise SweepError(problems, "pareto")
    path, unit, default, method = AXES[against]
    values = _epsilons(points, span or default)
    result = sweep(scenario, {path: values}, design="grid", scheduler=scheduler, **kwargs)
    keys = _keys(scenario, against)
    result.ds.attrs[FRONT_ATTR] = json.dumps({"against": against, **keys})
    return ParetoFront(_table(result.ds, against, path, keys), result, against, path, unit, method)


def front_of(result: SweepResult) -> ParetoFront:
    """The cost front of a sweep, also one read back from its folder (``suandian report``).

    A sweep made by :func:`pareto` carries what its front is against and the scopes or sites
    its slope sums over (``ds.attrs["pareto"]``). Any other sweep of exactly one of the
    swept policy levels (:data:`AXES`: ``policies.green_share.target``, ``policies.pue.cap``,
    ``policies.carbon_price``, ``policies.cfe.score``) is read as a front too, its scopes
    inferred from the Dataset alone: those whose target row has a shadow price in some case
    (a scope whose row never binds adds nothing to the slope; the level is then the lowest
    share or score of those scopes, or the portfolio's when none binds) and, for emissions,
    the basis whose emissions times the carbon price is the carbon charge.

    Parameters
    ----------
    result : SweepResult
        A sweep (:func:`suandian.sweep`, :func:`suandian.read_sweep`).

    Returns
    -------
    ParetoFront
        As :func:`pareto` returns it.

    Raises
    ------
    ValueError
        if the sweep is not one of a single policy level.
    """
    ds = result.ds
    stored = ds.attrs.get(FRONT_ATTR)
    if stored:
        keys = dict(json.loads(stored))
        against = str(keys.pop("against"))
    else:
        paths = result.paths
        found = [a for a, (p, *_) in AXES.items() if p in paths]
        if len(paths) != 1 or len(found) != 1:
            raise ValueError(
                f"not a front: the sweep varies {paths}; a front varies one of "
                f"{', '.join(p for p, *_ in AXES.values())} alone"
            )
        against = found[0]
        keys = _inferred_keys(ds, against)
    path, unit, _, method = AXES[against]
    return ParetoFront(_table(ds, against, path, keys), result, against, path, unit, method)


def _epsilons(points: int | Sequence[float], span: tuple[float, float]) -> list[float]:
    if isinstance(points, (int, np.integer)) and not isinstance(points, bool):
        try:
            lo, hi = (float(x) for x in span)
        except (TypeError, ValueError):
            lo = hi = float("nan")
        problems = []
        if points < 2:
            problems.append(Problem("points", repr(points), "give at least 2 points"))
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            problems.append(Problem("span", repr(span), "give (low, high) with low < high"))
        if problems:
            raise SweepError(problems, "pareto")
        return [float(v) for v in np.linspace(lo, hi, int(points))]
    if isinstance(points, bool) or not isinstance(points, Sequence | np.ndarray):
        raise SweepError(
            [Problem("points", repr(points), "give a count (>= 2) or a list of epsilon values")],
            "pareto",
        )
    values = [float(v) for v in points]
    if not values:
        raise SweepError([Problem("points", "[]", "give epsilon values or a count")], "pareto")
    return values


#: attribute of a front's sweep Dataset: JSON of ``against`` and the keys of :func:`_keys`
FRONT_ATTR = "pareto"


def _keys(scenario: Scenario, against: str) -> dict[str, Any]:
    """What the level and slope of a front read, from the scenario.

    ``scopes``: the green-share or CFE scopes the swept target sets, or the sites the swept
    PUE cap caps; ``basis``: the emissions basis the carbon price is charged on.
    """
    c = scenario.config
    sites = [s.name for s in c.sites]
    if against == "green_share":
        policy = c.policies.green_share
        scope = policy.scope if policy is not None else "portfolio"
        own = set(policy.site_targets) if policy is not None else set()
        scopes = ["portfolio"] if scope == "portfolio" else [s for s in sites if s not in own]
        return {"scopes": scopes}
    if against == "cfe_score":
        cfe = c.policies.cfe
        if cfe is not None and cfe.scope == "portfolio":
            return {"scopes": ["portfolio"]}
        own = set(cfe.site_targets) if cfe is not None else set()  # judged on their own
        return {"scopes": [s for s in sites if s not in own]}
    if against == "pue_cap":
        return {"scopes": [s.name for s in c.sites if s.pue_cap is None]}
    basis = "market_based" if c.policies.carbon_basis == "market" else "location_based"
    return {"basis": basis}


#: shadow price of the row a front's epsilon sets, per scope or site
_SHADOW = {
    "green_share": "shadow_green_share_point_{}_cny_per_point",
    "cfe_score": "shadow_cfe_point_{}_cny_per_point",
    "pue_cap": "shadow_pue_{}_cny_per_0.01",
}


def _inferred_keys(ds: Any, against: str) -> dict[str, Any]:
    """:func:`_keys` from a sweep's Dataset alone (:func:`front_of`)."""
    if against == "emissions":
        basis = "location_based"
        if "emissions_tco2" in ds and "cost" in ds and "carbon" in ds["term"].values:
            charge = ds["cost"].sel(term="carbon").values
            price = ds[AXES["emissions"][0]].values.astype(float)
            for b in ds["basis"].values:
                e = ds["emissions_tco2"].sel(basis=b).values
                ok = np.isfinite(charge) & (price > 0)
                if ok.any() and np.allclose(price[ok] * e[ok], charge[ok], rtol=1e-6, atol=1e-3):
                    basis = str(b)
                    break
        return {"basis": basis}
    names = [str(x) for x in ds["shadow"].values] if "shadow" in ds.coords else []
    head, tail = _SHADOW[against].split("{}")
    scopes = [n[len(head) : -len(tail)] for n in names if n.startswith(head) and n.endswith(tail)]
    if not scopes and against != "pue_cap":
        scopes = ["portfolio"]
    return {"scopes": scopes}


def _table(ds: Any, against: str, path: str, keys: dict[str, Any]) -> pd.DataFrame:
    """The front's table from a sweep's Dataset (:class:`ParetoFront`'s ``table``)."""
    eps = ds[path].values.astype(float)
    shadow = (
        ds["shadow_prices"] if "shadow_prices" in ds else None
    )  # (case, shadow); absent when no case has a plan
    rows: dict[str, Any] = {"epsilon": eps}
    picked: list[str] = []
    if against == "emissions":  # by carbon price
        basis = keys.get("basis", "location_based")
        level = (
            ds["emissions_tco2"].sel(basis=basis).values
            if "emissions_tco2" in ds and basis in ds["basis"].values
            else np.full(len(eps), np.nan)
        )
        carbon = (
            np.nan_to_num(ds["cost"].sel(term="carbon").values)
            if "cost" in ds and "carbon" in ds["term"].values
            else np.zeros(len(eps))
        )
        cost = ds["objective"].values - carbon
        slope = np.where(np.isfinite(cost), -eps, np.nan)
    else:
        scopes = [str(s) for s in keys.get("scopes", [])]
        picked = [_SHADOW[against].format(g) for g in scopes]
        # the level the row judges: the year's figure where the rule is on the year
        kpi, year, pick, sign = {
            "green_share": ("green_share", "green_share_year", np.min, 100.0),
            "cfe_score": ("cfe_score", None, np.min, 100.0),
            "pue_cap": ("pue", "pue_year", np.max, -100.0),
        }[against]
        level = _kpi(ds, year, scopes, pick) if year is not None else np.full(len(eps), np.nan)
        level = np.where(np.isfinite(level), level, _kpi(ds, kpi, scopes, pick))
        cost = ds["objective"].values
        slope = sign * _sum(shadow, picked, len(eps))
    slope = np.where(np.isfinite(cost), slope, np.nan)  # no plan, no slope
    rows.update(level=level, cost=cost, slope=slope, secant=_secant(level, cost))
    rows.update(
        status=ds["status"].values,
        certified=ds["certified"].values,
    )
    for name in picked:
        if shadow is not None and name in shadow["shadow"].values:
            rows[f"shadow.{name}"] = shadow.sel(shadow=name).values
    rows["diagnosis"] = ds["diagnosis"].values
    return pd.DataFrame(rows)


def _kpi(ds: Any, name: str, keys: list[str], pick: Any) -> np.ndarray:
    """The KPI over ``keys`` per case, reduced by ``pick`` (NaN without a plan)."""
    n = ds.sizes["case"]
    if name not in ds or not keys:
        return np.full(n, np.nan)
    da = ds[name]
    dim = da.dims[1]
    present = [k for k in keys if k in da[dim].values]
    if not present:
        return np.full(n, np.nan)
    values = da.sel({dim: present}).values
    out = np.full(n, np.nan)
    ok = ~np.isnan(values).all(axis=1)
    out[ok] = pick(values[ok], axis=1)
    return out


def _sum(shadow: Any, names: list[str], n: int) -> np.ndarray:
    """Sum of the named shadow prices per case (0 for one not reported: a slack row)."""
    if shadow is None:
        return np.full(n, np.nan)
    known = [x for x in names if x in shadow["shadow"].values]
    if not known:
        return np.zeros(n)
    return np.nansum(shadow.sel(shadow=known).values, axis=1)


def _secant(level: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """(cost - previous cost) / (level - previous level), over points with a plan."""
    out = np.full(len(level), np.nan)
    prev = None
    for i in range(len(level)):
        if not (np.isfinite(level[i]) and np.isfinite(cost[i])):
            continue
        if prev is not None and level[i] != level[prev]:
            out[i] = (cost[i] - cost[prev]) / (level[i] - level[prev])
        prev = i
    return out


def plot_pareto(front: ParetoFront, ax: Axes | None = None) -> Figure:
    """The cost front as a figure: :func:`suandian.plot.pareto_front`.

    Parameters
    ----------
    front : ParetoFront
        From :func:`pareto`.
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding ``ax``.
    """
    from ..plot import pareto_front

    return pareto_front(front, ax=ax)


__all__ = ["AXES", "ParetoFront", "front_of", "pareto", "plot_pareto"]
