"""Two-stage stochastic day-ahead plans: one first stage, a recourse per scenario.

Math: ``docs/math/stochastic.md``. Each member of a :class:`~suandian.scenario.uncertainty.
ScenarioSet` is built as a block of one shared :class:`~suandian.linear.LinearModel`
(``build_model(..., lm=shared, prefix="s<k>.")``, its probability on every cost term); the
decisions whose output is tagged ``first_stage`` (:class:`~suandian.component.Output`) are
held equal over the blocks by rows ``stochastic.nonanticipativity.<k>.<name>``; the green
share and the PUE cap may hold in expectation (columns ``s<k>.stochastic.<t>_relief``, rows
``stochastic.<t>_expectation``) or by chance (binaries ``s<k>.stochastic.<t>_missed``, rows
``stochastic.<t>_chance``); a CVaR term (Rockafellar & Uryasev 2000) may be added.

* :func:`solve_stochastic` — the recourse problem (RP): the two-stage plan, as one model
  (``method="extensive"``) or decomposed by scenario (``"decomposed"``, :func:`by_scenario`:
  the Lagrangian machinery of :mod:`suandian.run.decompose` over the scenarios).
* :func:`evaluate_plan` — a first stage fixed and settled on each scenario (the mean-forecast
  plan on the members: EEV; any plan on held-out scenarios: out of sample).
* :func:`stochastic_value` — RP, EEV, VSS, WS, EVPI and the out-of-sample comparison.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pandas as pd
import xarray as xr

from ..checks import Violation
from ..component import Presolved
from ..deadline import Deadline
from ..highs import HandOver, SolveInfo, SolveOptions, highs_lp, new_highs
from ..linear import Expr, LinearModel
from ..model import ArrayModel, Built, build_model
from ..results.certifier import row_margins
from ..results.result import Result
from ..scenario import Scenario
from ..scenario.uncertainty import (
    Compliance,
    ScenarioSet,
    Uncertainty,
    mean_forecast,
    scenario_set,
)
from .decompose import Given, Split, _sub
from .mip_start import Start
from .solve import presolve
from .strategy import solve_model

log = logging.getLogger("suandian")

#: the policies ``compliance`` may hold in expectation or by chance: the row of each that is
#: relaxed in every member, and the short name of its relief columns and rows
RELAXABLE = {
    "green_share": ("green_share.share_min", "green"),
    "pue": ("pue_cap.pue_max", "pue"),
}

#: how :func:`solve_stochastic` solves: the extensive form by HiGHS, or decomposed by scenario
METHODS = ("extensive", "decomposed")

#: whose plan without the event a DR ``no_event`` baseline reads in a two-stage plan: the
#: members' mean forecast's (one baseline, fixed the day before, as a grid operator fixes it
#: before the event; solved once) or each member's own (one MIP per member)
DR_BASELINES = ("mean_forecast", "per_scenario")

#: the extensive form's MIP start: the mean forecast's first stage, or the LP relaxation's
STARTS = ("mean_forecast", "relaxation")

#: a first-stage plan: qualified output name (``dc.n_on``) -> its values, a labelled DataArray
#: (as in the result Dataset: fixed by label, also in a window of the day) or an array of the
#: decision's shape
Plan = dict[str, Any]


def cvar(costs: np.ndarray, probabilities: np.ndarray, alpha: float) -> tuple[float, float]:
    """Value at risk and CVaR at level ``alpha`` of a discrete cost distribution.

    Rockafellar & Uryasev (2000): ``CVaR = min_eta eta + E[(C - eta)+] / (1 - alpha)``; the
    minimum of this convex piecewise-linear function lies at one of the costs, its minimiser
    is the VaR. ``alpha = 0`` gives the expected cost.
    """
    c = np.asarray(costs, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if alpha >= 1.0:
        return float(c.max()), float(c.max())
    values = [eta + float(p @ np.maximum(c - eta, 0.0)) / (1.0 - alpha) for eta in c]
    i = int(np.argmin(values))
    return float(c[i]), float(values[i])


@dataclass
class StochasticResult:
    """A two-stage plan (or a first stage settled on scenarios).

    Attributes
    ----------
    names : list of str
        Member scenario names.
    probabilities : numpy.ndarray
        Their probabilities.
    results : list of Result
        One per member, from the joint solve; each certifies on its own (its objective is
        its probability x its cost).
    costs : numpy.ndarray
        Cost of each member's plan, CNY (NaN without a plan).
    first_stage : dict
        The first-stage plan, qualified output name -> values (the same in every member).
    info : SolveInfo
        The joint solve (objective: expected cost + risk_weight x CVaR).
    alpha, risk_weight : float
        CVaR level and its weight in the objective.
    compliance : Compliance
        How the targets were held.
    fixed : bool
        Whether the first stage was given (an evaluation) rather than chosen.
    anticipative : bool
        Wait and see: each member chose its own first stage (``first_stage`` is empty; read
        each member's from its Dataset).
    """

    names: list[str]
    probabilities: np.ndarray
    results: list[Result]
    costs: np.ndarray
    first_stage: Plan
    info: SolveInfo
    alpha: float = 0.9
    risk_weight: float = 0.0
    compliance: Compliance = field(default_factory=Compliance)  # type: ignore[arg-type]
    fixed: bool = False
    anticipative: bool = False

    @property
    def status(self) -> str:
        """How the joint solve ended."""
        return self.info.status

    @property
    def expected_cost(self) -> float:
        """``sum_k p_k C_k``, CNY (inf without a plan)."""
        if not self.info.has_solution:
            return math.inf
        return float(self.probabilities @ self.costs)

    @property
    def bound(self) -> float:
        """Proven lower bound of the objective (CNY): HiGHS's, or the Lagrangian one."""
        return float(self.info.bound)

    @property
    def gap(self) -> float:
        """Relative gap between the objective and :attr:`bound` (as HiGHS defines it)."""
        return float(self.info.mip_gap)

    @property
    def cost_std(self) -> float:
        """Standard deviation of the cost over the scenarios, CNY."""
        if not self.info.has_solution:
            return math.nan
        mean = self.expected_cost
        return float(np.sqrt(self.probabilities @ (self.costs - mean) ** 2))

    @property
    def var_cvar(self) -> tuple[float, float]:
        """(VaR, CVaR) of the cost at level ``alpha``, CNY."""
        if not self.info.has_solution:
            return math.inf, math.inf
        return cvar(self.costs, self.probabilities, self.alpha)

    @property
    def cvar(self) -> float:
        """CVaR of the cost at level ``alpha``, CNY."""
        return self.var_cvar[1]

    def table(self) -> pd.DataFrame:
        """One row per scenario: probability, cost (CNY), status."""
        return pd.DataFrame(
            {
                "scenario": self.names,
                "probability": self.probabilities,
                "cost": self.costs,
                "status": [r.status for r in self.results] or [self.status] * len(self.names),
            }
        )

    def summary(self) -> dict[str, float]:
        """Expected cost, its spread, VaR and CVaR (CNY), the objective, its bound and gap."""
        var, cv = self.var_cvar
        return {
            "expected_cost": self.expected_cost,
            "cost_std": self.cost_std,
            "var": var,
            "cvar": cv,
            "alpha": self.alpha,
            "objective": self.info.objective,
            "bound": self.bound,
            "gap": self.gap,
        }

    def certify(self) -> list[Violation]:
        """Every member's certifier, the first stage's equality and the relaxed targets.

        A member's row held in expectation or by chance (``compliance``) is judged over the
        members (``stochastic.<t>_expectation``: the probability-weighted sum of its margins,
        recomputed from each member's Dataset; ``stochastic.<t>_chance``: the probability of
        the members that miss it), not in each; the first stage must be the same in every
        member (``stochastic.nonanticipativity``, from each member's Dataset).
        """
        relaxed = self._relaxed()
        out: list[Violation] = []
        margins: list[dict[str, xr.DataArray]] = []
        missed: list[set[str]] = []
        for name, r in zip(self.names, self.results, strict=True):
            found, margin = row_margins(r.ds, relaxed)
            margins.append(margin)
            missed.append({v.check for v in found if v.check in relaxed})
            for v in found:
                if v.check not in relaxed:
                    out.append(dataclasses.replace(v, where=f"scenario={name} {v.where}"))
        if not self.anticipative:
            out += _check_nonanticipativity(self)
        for row, (_, mode) in relaxed.items():
            short = next(t for r, t in RELAXABLE.values() if r == row)
            if mode == "expectation":
                out += _check_expectation(self.probabilities, margins, row, short)
            else:
                p = self.probabilities
                p_missed = float(sum(pk for pk, m in zip(p, missed, strict=True) if row in m))
                allowed = 1.0 - self.compliance.chance_level
                if p_missed > allowed + 1e-9:
                    out.append(Violation(f"stochastic.{short}_chance", "all", p_missed, allowed))
        return out

    def probability_met(self) -> dict[str, float]:
        """The probability of the members that meet each target's row, per policy.

        From each member's certifier: a member meets a policy's row when its Dataset shows no
        violation of it (``green_share.share_min``, ``pue_cap.pue_max``). Policies without
        such a row (or whose row has no limit: no target) in the members are left out.
        """
        rows = {row: policy for policy, (row, _) in RELAXABLE.items()}
        met = {policy: 0.0 for policy in RELAXABLE}
        seen: set[str] = set()
        for p, r in zip(self.probabilities, self.results, strict=True):
            found, margin = row_margins(r.ds, rows)
            seen |= {row for row, m in margin.items() if bool(m.notnull().any())}
            bad = {v.check for v in found}
            for row, policy in rows.items():
                if row not in bad:
                    met[policy] += float(p)
        return {policy: met[policy] for row, policy in rows.items() if row in seen}

    def _relaxed(self) -> dict[str, tuple[str, str]]:
        """Row held over the members -> (its policy, ``expectation`` or ``chance``)."""
        modes = {"green_share": self.compliance.green_share, "pue": self.compliance.pue}
        return {RELAXABLE[k][0]: (k, v) for k, v in modes.items() if v != "per_scenario"}


# ------------------------------------------------------------------------ the model
def _members(
    scenarios: Scenario | ScenarioSet | Sequence[Scenario], single: bool = False
) -> tuple[list[Scenario], Uncertainty | None]:
    """The member scenarios and the ``uncertainty`` section that made them (if any).

    ``single``: a scenario without scenarios of its own is one member (an evaluation, a
    re-plan); otherwise it is an error (:func:`scenario_set`).
    """
    if isinstance(scenarios, Scenario):
        u = scenarios.config.uncertainty
        if single and (u is None or not (u.scenarios or u.errors)):
            return [scenarios], u
        return scenario_set(scenarios).members, u
    if isinstance(scenarios, ScenarioSet):
        return scenarios.members, scenarios.base.config.uncertainty
    members = list(scenarios)
    return members, members[0].config.uncertainty if members else None


def _settings(
    u: Uncertainty | None,
    alpha: float | None,
    risk_weight: float | None,
    compliance: Compliance | dict | None,
) -> tuple[float, float, Compliance]:
    a = alpha if alpha is not None else (u.cvar_alpha if u is not None else 0.9)
    b = risk_weight if risk_weight is not None else (u.risk_weight if u is not None else 0.0)
    if compliance is None:
        comp = u.compliance if u is not None else Compliance()  # type: ignore[call-arg]
    elif isinstance(compliance, dict):
        comp = Compliance(**compliance)
    else:
        comp = compliance
    if not 0.0 <= a < 1.0:
        raise ValueError(f"alpha {a} must lie in [0, 1): the CVaR's level")
    if b < 0:
        raise ValueError(f"risk_weight {b} must be >= 0")
    return float(a), float(b), comp


def first_stage_vars(built: Built) -> dict[str, Any]:
    """Qualified output name (``dc.n_on``) -> its Var, for every first-stage decision built."""
    out = {}
    for cname, fb in built.builders.items():
        for oname, rec in fb.recorded.items():
            if rec.output.first_stage and rec.var is not None:
                out[f"{cname}.{oname}"] = rec.var
    return out


def plan_of(built: Built, ds: xr.Dataset) -> Plan:
    """The first-stage values of a solved model, labelled (from its result Dataset ``ds``).

    Qualified output name -> the Dataset variable with its coordinates, so a plan can be
    fixed in a model over other labels of the same things (a window of the day: a re-plan);
    with corridor blocks also ``green.corridor_window`` (the window of each period), which
    identifies a block across windows.
    """
    plan: Plan = {}
    for name in first_stage_vars(built):
        plan[name] = ds[name.split(".", 1)[1]].copy()
    if "green.n_block" in plan and "corridor_window" in ds:
        plan["green.corridor_window"] = ds["corridor_window"].copy()
    return plan


def _values(name: str, var: Any, built: Built, plan: Plan) -> np.ndarray:
    """The plan's values of ``name`` over the cells of ``var`` in ``built`` (by label)."""
    given = plan[name]
    if not isinstance(given, xr.DataArray):
        values = np.asarray(given, dtype=float)
        if values.shape != var.shape:
            raise ValueError(
                f"first-stage decision {name!r}: the plan's values have shape {values.shape}, "
                f"the scenario's decision {var.shape}; plan and scenario must share their "
                "configuration (or give the plan as labelled DataArrays)"
            )
        return values
    out = built.builders[name.split(".", 1)[0]].component.output(name.split(".", 1)[1])
    coords = built.ctx.coords
    sel: dict[str, Any] = {}
    for dim in out.dims:
        if dim == "block":
            sel[dim] = _old_blocks(built, plan)
        else:
            sel[dim] = np.asarray(coords[dim])
    try:
        picked = given.sel(sel) if given.size else given
    except KeyError as exc:
        raise ValueError(
            f"first-stage decision {name!r}: the plan has no value at {exc}; a plan fixes the "
            "decisions of the scenario it was made for (or of a window of it)"
        ) from None
    return np.asarray(picked.transpose(*out.dims).values, dtype=float).reshape(var.shape)


def _old_blocks(built: Built, plan: Plan) -> np.ndarray:
    """The plan's block of each corridor block of ``built`` (same corridor, same window)."""
    coords = built.ctx.coords
    new_cor = np.asarray(coords["block_corridor"][1])
    new_win = np.asarray(coords["block_window"][1])
    if not len(new_cor):
        return np.zeros(0, dtype=np.int64)
    fb = built.builders["green"]
    rec = fb.recorded.get("corridor_window")
    cw_new = np.asarray(rec.data) if rec is not None and rec.data is not None else None
    old = plan["green.n_block"]
    cw_old = plan.get("green.corridor_window")
    corridors = list(np.asarray(coords["corridor"]))
    times = np.asarray(coords["time"])
    out = []
    for c, w in zip(new_cor, new_win, strict=True):
        if cw_new is None or cw_old is None:
            raise KeyError(f"block of corridor {c!r}")
        t = int(np.argmax(cw_new[corridors.index(c)] == w))
        w_old = int(cw_old.sel(corridor=c, time=times[t]))
        match = (old["block_corridor"].values == c) & (old["block_window"].values == w_old)
        if not match.any():
            raise KeyError(f"block of corridor {c!r} in window {w_old}")
        out.append(old["block"].values[int(np.argmax(match))])
    return np.asarray(out)


def _fix(lm: LinearModel, built: Built, plan: Plan) -> None:
    """Rows ``x == plan`` for every first-stage decision of ``built`` (``stochastic.fix``)."""
    for name, var in first_stage_vars(built).items():
        if not (var.cols >= 0).any():
            continue  # no column (e.g. a grant list left empty): nothing to fix
        if name not in plan:
            raise ValueError(
                f"the plan has no values for the first-stage decision {name!r}; it holds "
                f"{sorted(plan)}"
            )
        values = _values(name, var, built, plan)
        has = var.cols >= 0
        if bool(np.isnan(values[has]).any()):
            raise ValueError(f"first-stage decision {name!r}: the plan's values hold NaN")
        if var.integer:
            values = np.round(values)
        lm.add_rows(
            f"{built.prefix}stochastic.fix.{name}", var.expr(), "==", np.nan_to_num(values), has
        )


def _nonanticipativity(lm: LinearModel, blocks: list[Built]) -> None:
    """Rows ``x_k - x_0 == 0`` for every first-stage decision of every block ``k >= 1``."""
    first = first_stage_vars(blocks[0])
    for k, built in enumerate(blocks[1:], start=1):
        other = first_stage_vars(built)
        for name, var0 in first.items():
            var = other.get(name)
            if var is None or not np.array_equal(var.cols >= 0, var0.cols >= 0):
                raise ValueError(
                    f"first-stage decision {name!r} has other cells in scenario "
                    f"{built.scenario.config.name!r} than in {blocks[0].scenario.config.name!r}: "
                    "the scenarios must differ in their series only"
                )
            lm.add_rows(
                f"stochastic.nonanticipativity.{k}.{name}",
                var.expr() - var0.expr(),
                "==",
                0.0,
                var.cols >= 0,
            )


def _relax_targets(lm: LinearModel, blocks: list[Built], compliance: Compliance) -> None:
    """Hold each target of ``compliance`` in expectation or by chance over the blocks.

    Member ``k``'s row of the target gets a relief column per cell in the row's unit
    (``s<k>.stochastic.<t>_relief``; entered with +1 in a ``>=`` row, -1 in a ``<=`` row, so
    a positive relief is the amount by which the row is missed):

    * ``expectation``: free reliefs, ``stochastic.<t>_expectation``: ``sum_k p_k z_k <= 0``
      per cell;
    * ``chance``: ``0 <= z_k <= M_k y_k`` (``s<k>.stochastic.<t>_chance_link``) with a binary
      ``y_k`` per member (``s<k>.stochastic.<t>_missed``) and
      ``stochastic.<t>_chance``: ``sum_k p_k y_k <= 1 - chance_level``. ``M_k`` is the most
      the row can be missed over the model's bounds tightened by its other rows
      (:meth:`~suandian.linear.LinearModel.implied_bounds`, every member's row of the target
      left out: it is the row relaxed), a valid big-M.
    """
    modes = {"green_share": compliance.green_share, "pue": compliance.pue}
    for policy, mode in modes.items():
        if mode == "per_scenario":
            continue
        row, short = RELAXABLE[policy]
        found = [(b, lm.rowblocks.get(f"{b.prefix}{row}")) for b in blocks]
        present = [(b, rb) for b, rb in found if rb is not None]
        for built in blocks:
            _check_relaxable(built, policy, mode)
        if not present:
            continue
        lo, hi = lm.row_bounds()
        if mode == "expectation":
            total = None
            for built, rb in present:
                has = rb.rows >= 0
                z = lm.add_var(
                    f"{built.prefix}stochastic.{short}_relief", rb.shape, -np.inf, np.inf, mask=has
                )
                lm.add_entries(rb.rows[has], z.cols[has], _relief_sign(lo, hi, rb.rows[has]))
                term = z.expr() * built.scenario.probability
                total = term if total is None else total + term
            assert total is not None
            lm.add_rows(f"stochastic.{short}_expectation", total, "<=", 0.0)
            continue
        relaxed = {f"{b.prefix}{row}" for b in blocks}
        box = lm.implied_bounds(skip=relaxed)  # once: the relaxed rows may not bound anything
        reach = [_most_missed(lm, lo, hi, box, rb, built, policy) for built, rb in present]
        missed = None
        for (built, rb), most in zip(present, reach, strict=True):
            has = rb.rows >= 0
            z = lm.add_var(
                f"{built.prefix}stochastic.{short}_relief", rb.shape, 0.0, most, mask=has
            )
            lm.add_entries(rb.rows[has], z.cols[has], _relief_sign(lo, hi, rb.rows[has]))
            y = lm.add_var(f"{built.prefix}stochastic.{short}_missed", (), 0.0, 1.0, integer=True)
            lm.add_rows(
                f"{built.prefix}stochastic.{short}_chance_link",
                z.expr() - _everywhere(y, rb.shape) * most,
                "<=",
                0.0,
                mask=has,
            )
            term = y.expr() * built.scenario.probability
            missed = term if missed is None else missed + term
        assert missed is not None
        lm.add_rows(f"stochastic.{short}_chance", missed, "<=", 1.0 - compliance.chance_level)


def _check_relaxable(built: Built, policy: str, mode: str) -> None:
    """Refuse a target that cannot be held in expectation (or by chance) as configured."""
    if policy != "green_share":
        return
    gs = built.scenario.config.policies.green_share
    if gs is None:
        return
    if gs.matching != "horizon" or (mode == "expectation" and gs.basis != "horizon"):
        need = "basis and matching 'horizon'" if mode == "expectation" else "matching 'horizon'"
        raise ValueError(
            f"compliance green_share: {mode} needs policies.green_share.{need} (given basis "
            f"{gs.basis!r}, matching {gs.matching!r}); use compliance green_share: per_scenario"
        )


def _everywhere(y, shape: tuple[int, ...]) -> Expr:
    """The scalar column ``y`` in every cell of ``shape``."""
    size = int(np.prod(shape, dtype=np.int64))
    return Expr(shape, np.arange(size), np.full(size, int(y.cols)), np.ones(size))


def _relief_sign(lo: np.ndarray, hi: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """+1 in a ``>=`` row, -1 in a ``<=`` row: a positive relief misses the row."""
    return np.where(np.isfinite(lo[rows]), 1.0, -1.0)


def _most_missed(
    lm: LinearModel,
    lo: np.ndarray,
    hi: np.ndarray,
    box: tuple[np.ndarray, np.ndarray],
    rb,
    built: Built,
    policy: str,
) -> np.ndarray:
    """The most each of the block's rows can be missed over the column ``box``, per cell."""
    has = rb.rows >= 0
    rows = rb.rows[has]
    least, most = lm.row_activity(rows, *box)
    reach = np.where(np.isfinite(lo[rows]), lo[rows] - least, most - hi[rows])
    if not np.isfinite(reach).all():
        raise ValueError(
            f"compliance {policy}: chance needs a bound on how far scenario "
            f"{built.scenario.config.name!r} can miss its row {RELAXABLE[policy][0]}, and the "
            "model's bounds give none (e.g. an unbounded purchase or a free slack): bound it "
            f"(import_limit, capacities) or use compliance {policy}: expectation"
        )
    out = np.zeros(rb.shape)
    out[has] = np.maximum(reach, 0.0)
    return out


def _cost_expr(built: Built):
    """The block's cost (its objective terms over its probability), a scalar Expr."""
    total = Expr.zeros(())
    for e in built.objective_terms:
        total = total + (e if e.shape == () else e.sum())
    return total * (1.0 / built.scenario.probability)


def _risk(lm: LinearModel, blocks: list[Built], alpha: float, beta: float) -> None:
    """``beta (eta + sum_k p_k u_k / (1 - alpha))``, ``u_k >= C_k - eta``, ``u_k >= 0``."""
    eta = lm.add_var("stochastic.eta", (), -np.inf, np.inf)
    u = lm.add_var("stochastic.tail", (len(blocks),), 0.0, np.inf)
    for k, built in enumerate(blocks):
        lm.add_rows(
            f"stochastic.cvar.{k}",
            _tail(u, k) + eta.expr() - _cost_expr(built),
            ">=",
            0.0,
        )
    p = np.array([b.scenario.probability for b in blocks])
    lm.add_cost(eta.expr() * beta)
    lm.add_cost(u.expr() * (beta * p / (1.0 - alpha)))


def _tail(u, k: int):
    """The expression ``u_k`` (a scalar)."""
    e = u.expr()
    keep = e.row == k
    return Expr((), np.zeros(int(keep.sum()), np.int64), e.col[keep], e.val[keep])


#: Most evaluations of the Lagrangian dual by scenario (each solves every scenario's MIP).
BY_SCENARIO_EVALUATIONS = 8


def by_scenario(lm: LinearModel, blocks: list[Built]) -> Given:
    """The extensive form's split by scenario, for the Lagrangian decomposition.

    Block ``k`` holds the columns and rows built with prefix ``s<k>.`` (its first-stage
    decisions among them); the linking rows are the model's own, ``stochastic.*``: the
    non-anticipativity rows, the green share held in expectation, the CVaR rows. The
    columns of no scenario (``stochastic.eta``, ``stochastic.tail``) are the continuous rest.
    The repair re-decides the first-stage integer columns of every scenario (relaxed with
    the linking rows enforced, rounded: capacity counts such as ``dc.n_on`` up, the others
    to the nearest), the other integers fixed where the scenarios' MIPs put them; the best
    plan's first stage is then held and the recourse re-decided (``decompose.polish``).
    """
    n_rows, n_cols = lm.n_rows, lm.n_cols
    col_block = np.full(n_cols, -1, np.int64)
    row_block = np.full(n_rows, -1, np.int64)
    rounding = lm.rounding()
    free = np.zeros(n_cols, bool)
    held = np.zeros(n_cols, bool)
    for k, built in enumerate(blocks):
        for name, var in lm.vars.items():
            if name.startswith(built.prefix):
                col_block[var.cols[var.cols >= 0]] = k
        for name, rb in lm.rowblocks.items():
            if name.startswith(built.prefix):
                row_block[rb.rows[rb.rows >= 0]] = k
        for var in first_stage_vars(built).values():
            held[var.cols[var.cols >= 0]] = True
            if var.integer:
                free[var.cols[var.cols >= 0]] = True
    linking = np.zeros(n_rows, bool)
    for name, rb in lm.rowblocks.items():
        if name.startswith("stochastic."):
            linking[rb.rows[rb.rows >= 0]] = True
    unassigned = (row_block < 0) & ~linking
    if unassigned.any():  # a row of no scenario that is not a linking row: not decomposable
        raise ValueError(
            f"method='decomposed': {int(unassigned.sum())} rows belong to no scenario and are "
            "not the two-stage plan's own (stochastic.*); use method='extensive'"
        )
    parts = Split(
        np.flatnonzero(linking),
        [
            (np.flatnonzero(col_block == k), np.flatnonzero(row_block == k))
            for k in range(len(blocks))
        ],
        (np.flatnonzero(col_block < 0), np.zeros(0, np.int64)),
    )
    return Given(parts, free, free & (rounding > 0), False, BY_SCENARIO_EVALUATIONS, held)


def baselines(
    members: Sequence[Scenario],
    opts: SolveOptions,
    compute_shortfall_penalty: float | None,
    dr_baseline: str = "mean_forecast",
    mean: Scenario | None = None,
) -> list[dict[str, Presolved]]:
    """The presolved plans each member is built with (the DR ``no_event`` baseline's).

    ``mean_forecast``: one plan, that of the members' mean forecast
    (:func:`~suandian.scenario.uncertainty.mean_forecast`) without the event, solved once
    and shared (its ``of`` names it): every member settles the event against the same
    baseline. ``per_scenario``: each member's own plan without the event (one MIP each).
    A single member always has its own. ``mean``: the members' mean forecast, if made.
    """
    if dr_baseline not in DR_BASELINES:
        raise ValueError(f"dr_baseline {dr_baseline!r}: use one of {', '.join(DR_BASELINES)}")
    pen = compute_shortfall_penalty
    if dr_baseline == "per_scenario" or len(members) < 2:
        return [presolve(sc, opts, compute_shortfall_penalty=pen) for sc in members]
    mean = mean_forecast(members) if mean is None else mean
    shared = presolve(mean, opts, compute_shortfall_penalty=pen)
    plans = {k: dataclasses.replace(v, of=mean.config.name) for k, v in shared.items()}
    return [plans] * len(members)


#: share of the time of a two-stage solve the mean forecast's first stage may take (the
#: mean forecast's MIP, then the recourse of every member to it)
MEAN_START_SHARE = 0.5


def mean_forecast_start(
    lm: LinearModel,
    mean: Scenario,
    blocks: list[Built],
    opts: SolveOptions,
    compute_shortfall_penalty: float | None,
) -> Callable[[HandOver, np.ndarray, Deadline], Start | None]:
    """The MIP start of a two-stage plan from its mean forecast's first stage.

    Returns ``made(ho, integer, deadline)`` for :func:`~suandian.run.strategy.solve_model`:
    it solves the members' mean forecast ``mean`` (:func:`~suandian.scenario.uncertainty.
    mean_forecast`) as one deterministic MIP (its presolved plans are those the members'
    DR baselines read with ``dr_baseline="mean_forecast"``: solved once), fixes that plan's
    first stage (by label, :func:`_values`) in every member of the extensive form ``ho`` and
    solves the recourse of every member to it: member by member (:func:`_memberwise`, each
    member meeting its own targets), else as one model by HiGHS (the model falls apart into
    the members' recourse MIPs, tied only by rows such as the green share held in
    expectation); then the first stage's integers are held and its continuous part chosen
    with the recourse (:data:`FREE_CONTINUOUS`). That plan is the start of the branch and
    bound of the whole model, which then searches the first stage; no LP relaxation of the
    whole model is solved first. None when the MIPs end without a plan (a first stage with
    no recourse in some member: too few blocks for its demand, without
    ``compute_shortfall_penalty``).
    """
    try:
        parts: Split | None = by_scenario(lm, blocks).parts
    except ValueError:  # rows of no member: the joint recourse only
        parts = None
    reliefs = np.zeros(lm.n_cols, bool)  # the targets' reliefs: held at most 0 member-wise
    for name, var in lm.vars.items():
        if ".stochastic." in name and name.endswith("_relief"):
            reliefs[var.cols[var.cols >= 0]] = True

    def given(ho: HandOver, integer: np.ndarray, deadline: Deadline) -> Start | None:
        began = time.perf_counter()
        share = deadline.share(MEAN_START_SHARE)
        quiet = dataclasses.replace(opts, duals=False, diagnose=False, progress=False)
        pen = compute_shortfall_penalty
        m = build_model(
            mean,
            compute_shortfall_penalty=pen,
            pyomo=False,
            lm=LinearModel(),
            presolved=presolve(mean, opts, compute_shortfall_penalty=pen),
        )
        info = solve_model(m, dataclasses.replace(quiet, time_limit=share.left()), {})
        if not info.has_solution:
            log.info("two-stage start: the mean forecast has no plan (%s)", info.status)
            return None
        plan = plan_of(m.built, Result.from_model(m, info).ds)
        log.info("two-stage start: the mean forecast %.6g (%.2f s)", info.objective, _since(began))
        n = len(ho.lb)
        lb, ub = ho.lb.copy(), ho.ub.copy()
        held = np.zeros(n, bool)  # the first stage's integer columns
        for built in blocks:
            for name, var in first_stage_vars(built).items():
                has = var.cols >= 0
                values = _values(name, var, built, plan)[has]
                cols = var.cols[has]
                if var.integer:
                    values = np.round(values)
                    held[cols] = True
                lb[cols] = ub[cols] = np.clip(values, ho.lb[cols], ho.ub[cols])
        gap = opts.mip_rel_gap * START_GAP_SHARE
        x = None
        step = "mean_forecast"
        if MEMBERWISE and parts is not None:
            relief = np.zeros(n, bool)
            relief[: min(n, len(reliefs))] = reliefs[:n]
            x = _memberwise(ho, integer[:n], lb, ub, parts, relief, quiet, gap, share)
            step = "mean_forecast" if x is None else "mean_forecast+members"
            log.info("two-stage start: member by member %s (%.2f s)", x is not None, _since(began))
        if x is None:
            x = _recourse_mip(ho, integer[:n], lb, ub, quiet, gap, share, None)
            log.info("two-stage start: as one model %s (%.2f s)", x is not None, _since(began))
        if x is None:
            log.info("two-stage start: no recourse to the mean forecast's first stage")
            return None
        if FREE_CONTINUOUS:
            # the first stage's integers held, its continuous part (the day-ahead position,
            # the MW committed) chosen over the members with their recourse
            lo, hi = ho.lb.copy(), ho.ub.copy()
            lo[held], hi[held] = lb[held], ub[held]
            y = _recourse_mip(ho, integer[:n], lo, hi, quiet, gap, share, x)
            if y is not None and ho.c @ y < ho.c @ x:
                x, step = y, f"{step}>continuous"
        objective = float(ho.c @ x + ho.offset)
        seconds = time.perf_counter() - began
        log.info("two-stage start: %s %.6g (%.2f s)", step, objective, seconds)
        return Start(x, objective, -np.inf, seconds, step, 0)

    return given


def _since(began: float) -> float:
    return time.perf_counter() - began


#: whether the start then re-decides the first stage's continuous columns (its integers
#: held) with the members' recourse, as one MIP: off (K = 3: 0.4 % better for about 4 CPU s;
#: at K = 10 not measured without a defect since fixed; docs/math/stochastic.md)
FREE_CONTINUOUS = False

#: whether the start first solves each member's recourse on its own (each member meeting
#: its own targets), before the members' recourse as one model
MEMBERWISE = True


def _memberwise(
    ho: HandOver,
    integer: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    parts: Split,
    reliefs: np.ndarray,
    opts: SolveOptions,
    gap: float,
    deadline: Deadline,
) -> np.ndarray | None:
    """Each member's recourse MIP on its own, the first stage fixed in ``lb``, ``ub``.

    The members' blocks of ``parts`` (:func:`by_scenario`) are solved one after the other,
    each to ``gap``, with its targets' reliefs held at most 0 (a target held in expectation
    or by chance is then met by every member: stricter, so the plan holds the rows that tie
    the members too). None when a member has no plan in time, when the model has columns of
    no member (the CVaR's), or when the plan misses a row of the whole model.
    """
    if len(parts.rest[0]):
        return None
    n = len(ho.lb)
    lo, hi = lb.copy(), ub.copy()
    held = reliefs
    hi[held] = np.minimum(hi[held], 0.0)
    lo[held] = np.minimum(lo[held], hi[held])
    bounded = dataclasses.replace(ho, lb=lo, ub=hi)
    x = np.zeros(n)
    for cols, rows in parts.blocks:
        if deadline.expired():
            return None
        sub = _sub(bounded, cols, rows)
        part = _recourse_mip(sub, integer[cols], sub.lb, sub.ub, opts, gap, deadline, None)
        if part is None:
            return None
        x[cols] = part
    A = ho.A
    activity = np.bincount(
        A.indices, weights=A.data * np.repeat(x, np.diff(A.indptr)), minlength=A.shape[0]
    )
    tol = 1e-6 * np.maximum(1.0, np.abs(activity))
    if np.any(activity < ho.row_lo - tol) or np.any(activity > ho.row_hi + tol):
        return None
    return x


def _recourse_mip(
    ho: HandOver,
    integer: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    opts: SolveOptions,
    gap: float,
    deadline: Deadline,
    start: np.ndarray | None,
) -> np.ndarray | None:
    """The hand-over's MIP within column bounds ``lb``, ``ub`` (a plan or None), to ``gap``."""
    h = new_highs(opts, max(deadline.left(), 0.5))
    h.setOptionValue("mip_rel_gap", gap)
    h.passModel(highs_lp(ho, integer, lb, ub))
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = start
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    x = np.asarray(h.getSolution().col_value, dtype=float).copy()
    x[integer] = np.round(x[integer])
    return x


#: the recourse of the members to the mean forecast's first stage is solved to this share
#: of ``mip_rel_gap`` (the start then sits within the target of that first stage's best)
START_GAP_SHARE = 0.5


def _solve_joint(
    members: list[Scenario],
    opts: SolveOptions,
    *,
    fixed: Plan | None,
    anticipative: bool,
    alpha: float,
    beta: float,
    compliance: Compliance,
    compute_shortfall_penalty: float | None,
    dispatch: Callable[[LinearModel, Built], None] | None = None,
    method: str = "extensive",
    dr_baseline: str = "mean_forecast",
    start_from: str = "mean_forecast",
) -> StochasticResult:
    """Build the members into one model, link or fix their first stage, solve.

    ``dispatch(lm, built)`` adds further rows to every member (a settlement fixes the
    dispatch as run, :func:`suandian.run.replay.replay`). ``method="decomposed"``: the
    Lagrangian decomposition by scenario (:func:`by_scenario`) instead of the branch and
    bound of the whole model. ``start_from``: the extensive form's MIP start, the mean forecast's
    first stage (:func:`mean_forecast_start`) or the constructive start from the LP
    relaxation (``relaxation``).
    """
    if not members:
        raise ValueError("no scenarios to solve")
    total = sum(m.probability for m in members)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            f"the scenarios' probabilities sum to {total:.6g}, not 1 (horizon.probability)"
        )
    timings: dict[str, float] = {}
    start = time.perf_counter()
    mean = mean_forecast(members) if len(members) > 1 else None
    presolved = baselines(members, opts, compute_shortfall_penalty, dr_baseline, mean)
    timings["baselines"] = time.perf_counter() - start
    start = time.perf_counter()
    lm = LinearModel()
    blocks: list[Built] = []
    for k, (sc, plans) in enumerate(zip(members, presolved, strict=True)):
        m = build_model(
            sc,
            compute_shortfall_penalty=compute_shortfall_penalty,
            pyomo=False,
            lm=lm,
            prefix=f"s{k}.",
            presolved=plans,
        )
        blocks.append(m.built)
    if fixed is not None:
        for built in blocks:
            _fix(lm, built, fixed)
    if dispatch is not None:
        for built in blocks:
            dispatch(lm, built)
    elif not anticipative:
        _nonanticipativity(lm, blocks)
    _relax_targets(lm, blocks, compliance)
    if beta > 0:
        _risk(lm, blocks, alpha, beta)
    timings["build"] = time.perf_counter() - start
    root = ArrayModel("stochastic", range(members[0].periods), [])
    root.lm = lm  # type: ignore[attr-defined]
    known = by_scenario(lm, blocks) if method == "decomposed" and len(blocks) > 1 else None
    given = None
    if start_from == "mean_forecast" and known is None and fixed is None and not anticipative:
        if mean is not None and opts.mip_start:
            given = mean_forecast_start(lm, mean, blocks, opts, compute_shortfall_penalty)
    info = solve_model(root, opts, timings, known=known, made=given)
    names = [m.config.name for m in members]
    p = np.array([m.probability for m in members])
    if not info.has_solution:
        return StochasticResult(
            names, p, [], np.full(len(members), np.nan), fixed or {}, info, alpha, beta,
            compliance, fixed is not None, anticipative,
        )  # fmt: skip
    results, costs = [], []
    for built, sc in zip(blocks, members, strict=True):
        holder = ArrayModel(sc.config.name, range(sc.periods), [])
        holder.built = built
        r = Result.from_model(holder, info)
        results.append(r)
        costs.append(r.objective / sc.probability)
    plan = (
        fixed if fixed is not None else ({} if anticipative else plan_of(blocks[0], results[0].ds))
    )
    return StochasticResult(
        names, p, results, np.array(costs), plan, info, alpha, beta, compliance,
        fixed is not None, anticipative,
    )  # fmt: skip


def _options(options: SolveOptions | None, overrides: dict[str, Any]) -> SolveOptions:
    opts = options or SolveOptions()
    if overrides:
        opts = SolveOptions(**{**opts.__dict__, **overrides})
    return opts


def solve_stochastic(
    scenarios: Scenario | ScenarioSet | Sequence[Scenario],
    options: SolveOptions | None = None,
    *,
    alpha: float | None = None,
    risk_weight: float | None = None,
    compliance: Compliance | dict | None = None,
    compute_shortfall_penalty: float | None = None,
    method: str = "extensive",
    dr_baseline: str = "mean_forecast",
    start: str = "mean_forecast",
    **overrides: Any,
) -> StochasticResult:
    """Solve a two-stage day-ahead plan over tomorrow's scenarios.

    Parameters
    ----------
    scenarios : Scenario, ScenarioSet or sequence of Scenario
        A scenario with an ``uncertainty:`` section (its set is made by
        :func:`~suandian.scenario.uncertainty.scenario_set`), a set, or member scenarios
        whose ``horizon.probability`` sum to 1 and which differ in their series only.
    options : SolveOptions, optional
        Solver options (``**overrides`` replace single fields, as in :func:`suandian.solve`).
    alpha : float, optional
        CVaR level (default: ``uncertainty.cvar_alpha``, else 0.9).
    risk_weight : float, optional
        Weight beta of the CVaR in the objective ``E[cost] + beta CVaR`` (default:
        ``uncertainty.risk_weight``, else 0).
    compliance : Compliance or dict, optional
        ``{"green_share": "expectation" | "per_scenario"}`` (default: the section's, else
        expectation).
    compute_shortfall_penalty : float, optional
        Price unserved interactive demand and unfinished batch work (CNY per unit x h) rather
        than requiring them: a first stage that cannot serve a scenario then sheds at this
        value instead of being infeasible.
    method : {"extensive", "decomposed"}
        ``extensive`` (default): every scenario in one model, solved by HiGHS's branch and
        bound. ``decomposed``: the Lagrangian decomposition by scenario (the
        non-anticipativity rows priced, each scenario's MIP on its own, a repaired plan of
        the whole), without the branch and bound of the whole model; its bound is the best
        Lagrangian bound, its gap may stay above ``mip_rel_gap`` (status ``time_limit``).
        ``docs/math/stochastic.md``, "Decomposition by scenario".
    dr_baseline : {"mean_forecast", "per_scenario"}
        Whose plan without the event a DR ``no_event`` baseline reads: the members' mean
        forecast's, one baseline for every member, solved once (default: the baseline is
        fixed before the day, as a grid operator fixes it), or each member's own (one MIP
        per member). ``docs/math/stochastic.md``, "The DR baseline in a two-stage plan".
    start : {"mean_forecast", "relaxation"}
        ``extensive``'s MIP start: the mean forecast's first stage with every member's
        recourse to it (default, :func:`mean_forecast_start`; no LP relaxation of the whole
        model first), or the constructive start from that relaxation
        (:mod:`suandian.run.mip_start`). ``decomposed`` always starts from the relaxation.
    **overrides
        Replace single fields of ``options`` (``mip_rel_gap=0``, ``time_limit=60``).

    Returns
    -------
    StochasticResult
        The first stage (``first_stage``), each scenario's Result, expected cost, spread and
        CVaR; ``certify()`` checks every member and the first stage's equality.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r}: use one of {', '.join(METHODS)}")
    if start not in STARTS:
        raise ValueError(f"start {start!r}: use one of {', '.join(STARTS)}")
    opts = _options(options, overrides)
    if method == "decomposed" and not opts.mip_start:
        raise ValueError(
            "method='decomposed' starts from the MIP start's LP relaxation (its duals are the "
            "first multipliers): leave mip_start on, or use method='extensive'"
        )
    members, u = _members(scenarios)
    a, b, comp = _settings(u, alpha, risk_weight, compliance)
    return _solve_joint(
        members,
        opts,
        fixed=None,
        anticipative=False,
        alpha=a,
        beta=b,
        compliance=comp,
        compute_shortfall_penalty=compute_shortfall_penalty,
        method=method,
        dr_baseline=dr_baseline,
        start_from=start,
    )


def evaluate_plan(
    plan: Plan | StochasticResult,
    scenarios: Scenario | ScenarioSet | Sequence[Scenario],
    options: SolveOptions | None = None,
    *,
    alpha: float | None = None,
    compliance: Compliance | dict | None = None,
    compute_shortfall_penalty: float | None = None,
    dr_baseline: str = "mean_forecast",
    **overrides: Any,
) -> StochasticResult:
    """Settle a fixed first stage on each scenario (its recourse optimised per scenario).

    Held-out scenarios (probability 1 each) are weighted equally. Returns a
    :class:`StochasticResult` with ``fixed`` true; status ``infeasible`` when some scenario
    has no recourse for that first stage (see ``compute_shortfall_penalty``).
    ``dr_baseline``: as for :func:`solve_stochastic` (the mean forecast of the scenarios
    settled on).
    """
    members, u = _members(scenarios, single=True)
    return _recourse(
        members, u, _options(options, overrides), plan,
        compliance=compliance, compute_shortfall_penalty=compute_shortfall_penalty, alpha=alpha,
        dr_baseline=dr_baseline,
    )  # fmt: skip


def _recourse(
    members: list[Scenario],
    u: Uncertainty | None,
    opts: SolveOptions,
    plan: Plan | StochasticResult | None,
    *,
    compliance: Compliance | dict | None,
    compute_shortfall_penalty: float | None,
    alpha: float | None = None,
    dispatch: Callable[[LinearModel, Built], None] | None = None,
    dr_baseline: str = "mean_forecast",
) -> StochasticResult:
    """The recourse of members to a first stage, fixed or (``plan`` None) their own.

    ``plan`` fixed: an evaluation, a re-plan, a settlement; none: wait and see. The part
    :func:`evaluate_plan`, :func:`wait_and_see`, :func:`replan` and the replay's settlement
    share: a fixed plan on members whose probabilities do not sum to 1 (held-out draws,
    probability 1 each) weighs them equally; no risk term.
    """
    if plan is not None and members and abs(sum(m.probability for m in members) - 1.0) > 1e-6:
        n = len(members)
        members = [_with_probability(m, 1.0 / n) for m in members]
    first = plan.first_stage if isinstance(plan, StochasticResult) else plan
    a, _, comp = _settings(u, alpha, 0.0, compliance)
    return _solve_joint(
        members,
        opts,
        fixed=first,
        anticipative=plan is None,
        alpha=a,
        beta=0.0,
        compliance=comp,
        compute_shortfall_penalty=compute_shortfall_penalty,
        dispatch=dispatch,
        dr_baseline=dr_baseline,
    )


def wait_and_see(
    scenarios: Scenario | ScenarioSet | Sequence[Scenario],
    options: SolveOptions | None = None,
    *,
    compliance: Compliance | dict | None = None,
    compute_shortfall_penalty: float | None = None,
    dr_baseline: str = "mean_forecast",
    **overrides: Any,
) -> StochasticResult:
    """Each scenario with its own first stage (perfect information): the WS solution."""
    members, u = _members(scenarios)
    return _recourse(
        members, u, _options(options, overrides), None,
        compliance=compliance, compute_shortfall_penalty=compute_shortfall_penalty,
        dr_baseline=dr_baseline,
    )  # fmt: skip


def replan(
    plan: Plan | StochasticResult,
    scenarios: Scenario | ScenarioSet | Sequence[Scenario],
    start: int,
    state: dict[str, Any] | None = None,
    options: SolveOptions | None = None,
    *,
    compliance: Compliance | dict | None = None,
    compute_shortfall_penalty: float | None = None,
    **overrides: Any,
) -> StochasticResult:
    """Re-plan the rest of the day from period ``start``, keeping what is committed.

    Parameters
    ----------
    plan : StochasticResult or dict
        The committed first stage (labelled, as ``StochasticResult.first_stage``): the
        day-ahead position, blocks on, corridor blocks, DR and reserve commitments stay as
        they are in the periods re-planned.
    scenarios : Scenario, ScenarioSet or sequence of Scenario
        The updated forecast of the whole day: one scenario, or scenarios with
        probabilities (a new ``uncertainty`` draw).
    start : int
        First period re-planned; the periods before it have happened.
    state : dict, optional
        What has happened: the state at the end of period ``start - 1``
        (``Result.final_state(start - 1)`` of the plan as run); required when ``start > 0``.
    options, compliance, compute_shortfall_penalty, **overrides
        As for :func:`solve_stochastic`.

    Returns
    -------
    StochasticResult
        The re-plan of periods ``start ..`` (each scenario cut by ``Scenario.window`` from
        ``state``), its first stage fixed to ``plan``; costs are those of those periods.
    """
    members, u = _members(scenarios, single=True)
    if not members:
        raise ValueError("no scenarios to re-plan")
    periods = members[0].periods
    if not 0 <= start < periods:
        raise ValueError(f"start {start}: re-plan from a period of the day, 0 .. {periods - 1}")
    if start > 0 and state is None:
        raise ValueError(
            "a re-plan from period > 0 needs what has happened: state = "
            "result.final_state(start - 1) of the plan as run"
        )
    if start > 0:
        members = [m.window(start, periods - start, state=state) for m in members]
    return _recourse(
        members, u, _options(options, overrides), plan,
        compliance=compliance, compute_shortfall_penalty=compute_shortfall_penalty,
    )  # fmt: skip


def _with_probability(sc: Scenario, p: float) -> Scenario:
    def edit(raw: dict) -> None:
        raw["horizon"] = {**raw["horizon"], "probability": p}

    return sc.edited(edit)


@dataclass
class StochasticValue:
    """The numbers an operator checks a two-stage plan by (CNY).

    Attributes
    ----------
    rp : StochasticResult
        The two-stage plan (recourse problem).
    ev : Result
        The plan of the mean forecast (deterministic).
    eev : StochasticResult
        The mean-forecast plan's first stage settled on every scenario.
    ws : StochasticResult
        Wait and see: each scenario with its own first stage.
    out_of_sample : dict
        ``{"stochastic": StochasticResult, "mean_forecast": StochasticResult}`` on the held-out
        scenarios (empty without any).
    """

    rp: StochasticResult
    ev: Result
    eev: StochasticResult
    ws: StochasticResult
    out_of_sample: dict[str, StochasticResult] = field(default_factory=dict)

    @property
    def vss(self) -> float:
        """Value of the stochastic solution, ``EEV - RP`` (>= 0)."""
        return self.eev.expected_cost - self.rp.expected_cost

    @property
    def evpi(self) -> float:
        """Expected value of perfect information, ``RP - WS`` (>= 0)."""
        return self.rp.expected_cost - self.ws.expected_cost

    def table(self) -> pd.DataFrame:
        """The figures as rows ``figure``, ``value`` (CNY)."""
        rows = [
            ("RP (two-stage plan, expected cost)", self.rp.expected_cost),
            ("RP cost std", self.rp.cost_std),
            (f"RP CVaR {self.rp.alpha:g}", self.rp.cvar),
            ("EV (mean-forecast plan, its own objective)", self.ev.objective),
            ("EEV (mean-forecast first stage, expected cost)", self.eev.expected_cost),
            ("VSS = EEV - RP", self.vss),
            ("WS (wait and see)", self.ws.expected_cost),
            ("EVPI = RP - WS", self.evpi),
        ]
        for key, res in self.out_of_sample.items():
            rows.append((f"out of sample: {key} (mean cost)", res.expected_cost))
            rows.append((f"out of sample: {key} (CVaR {res.alpha:g})", res.cvar))
        return pd.DataFrame(rows, columns=["figure", "value"])


def stochastic_value(
    scenarios: Scenario | ScenarioSet,
    options: SolveOptions | None = None,
    *,
    rp: StochasticResult | None = None,
    compliance: Compliance | dict | None = None,
    compute_shortfall_penalty: float | None = None,
    dr_baseline: str = "mean_forecast",
    **overrides: Any,
) -> StochasticValue:
    """RP, EEV, VSS, WS, EVPI and the out-of-sample costs of a scenario set.

    The mean-forecast plan (EV) is the base scenario with each uncertain series at its
    expected value (:meth:`ScenarioSet.mean`), solved deterministically; its first stage is
    fixed and settled on each member (EEV). ``VSS = EEV - RP``, ``EVPI = RP - WS``. With
    held-out scenarios, both first stages are settled on them too.
    """
    ss = scenarios if isinstance(scenarios, ScenarioSet) else scenario_set(scenarios)
    opts = _options(options, overrides)
    _, _, comp = _settings(ss.base.config.uncertainty, None, None, compliance)
    kw: dict[str, Any] = {
        "compliance": comp,
        "compute_shortfall_penalty": compute_shortfall_penalty,
        "dr_baseline": dr_baseline,
    }
    if rp is None:
        rp = solve_stochastic(ss, opts, **kw)
    mean = ss.mean()
    lm = LinearModel()
    plans = presolve(mean, opts, compute_shortfall_penalty=compute_shortfall_penalty)
    m = build_model(
        mean,
        compute_shortfall_penalty=compute_shortfall_penalty,
        pyomo=False,
        lm=lm,
        presolved=plans,
    )
    info = solve_model(m, opts, {})
    ev = Result.from_model(m, info) if info.has_solution else Result.empty(mean, info)
    if not info.has_solution:
        raise ValueError(f"the mean-forecast scenario has no plan ({info.status})")
    ev_plan = plan_of(m.built, ev.ds)
    eev = evaluate_plan(ev_plan, ss, opts, **kw)
    ws = wait_and_see(ss, opts, **kw)
    oos: dict[str, StochasticResult] = {}
    if ss.held_out:
        oos["stochastic"] = evaluate_plan(rp, ss.held_out, opts, **kw)
        oos["mean_forecast"] = evaluate_plan(ev_plan, ss.held_out, opts, **kw)
    return StochasticValue(rp, ev, eev, ws, oos)


# ------------------------------------------------------------------------ certifier
def _check_nonanticipativity(res: StochasticResult) -> list[Violation]:
    """Every member's first-stage outputs equal the first member's (from the Datasets)."""
    out: list[Violation] = []
    if len(res.results) < 2:
        return out
    first = res.results[0].ds
    names = sorted({n.split(".", 1)[1] for n in res.first_stage})
    for name, r in zip(res.names[1:], res.results[1:], strict=True):
        for var in names:
            if var not in first:
                continue
            a = np.nan_to_num(first[var].values.astype(float))
            b = np.nan_to_num(r.ds[var].values.astype(float))
            gap = np.abs(a - b)
            if gap.size and float(gap.max()) > 1e-6 * max(1.0, float(np.abs(a).max())):
                out.append(
                    Violation(
                        "stochastic.nonanticipativity",
                        f"scenario={name} {var}",
                        float(b.ravel()[int(gap.argmax())]),
                        float(a.ravel()[int(gap.argmax())]),
                    )
                )
    return out


def _check_expectation(
    p: np.ndarray, margins: list[dict[str, xr.DataArray]], row: str, short: str
) -> list[Violation]:
    """``sum_k p_k margin_k >= 0`` per cell of ``row``, from each member's recomputed margins."""
    present = [(pk, m[row]) for pk, m in zip(p, margins, strict=True) if row in m]
    if not present:
        return []
    total = sum(float(pk) * m.fillna(0.0) for pk, m in present)
    size = sum(float(pk) * abs(m.fillna(0.0)) for pk, m in present)
    limited = sum(m.notnull() for _, m in present)
    assert isinstance(total, xr.DataArray) and isinstance(size, xr.DataArray)
    bad = (total < -1e-6 * np.maximum(1.0, size)) & (limited > 0)
    out = []
    for index in np.argwhere(np.asarray(bad.values, dtype=bool).reshape(bad.shape)):
        cell = total[tuple(index)]
        where = " ".join(f"{d}={cell[d].values}" for d in total.dims) or "all"
        out.append(Violation(f"stochastic.{short}_expectation", where, float(cell), 0.0))
    return out
