"""Scenarios of tomorrow: user-given or generated from a forecast-error model, and reduced.

Math: ``docs/math/stochastic.md``. The scenario file's optional ``uncertainty:`` section
(:class:`Uncertainty`) says which scenarios a two-stage plan (:mod:`suandian.run.stochastic`)
is solved over:

* ``scenarios:`` given by the user, each a name, a probability and series files whose columns
  replace the base scenario's series of the same names (the same horizon: every period's
  timestamp present); the probabilities sum to 1;
* ``errors:`` a forecast-error model per series (:class:`ForecastError`): a stationary AR(1)
  error in time, multiplicative or additive, seeded; ``samples`` draws reduced to
  ``reduce_to`` representatives by fast forward selection (Heitsch & Römisch 2003), and
  ``held_out`` further draws kept for an out-of-sample evaluation.

:func:`scenario_set` turns a validated :class:`~suandian.scenario.Scenario` into a
:class:`ScenarioSet`: one validated scenario per member (its ``horizon.probability`` set),
each validated like a loaded file.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ..component import Fraction, Name, NonNeg, Section
from .errors import Problem, ScenarioError
from .rolling import raw_config
from .series import align_series, data_roots_for, read_series_file, resolve_series_path

if TYPE_CHECKING:
    from .scenario import Scenario

#: default error model per kind: (form, sigma, rho, clip low, clip high); every figure [A]
#: (an assumption of this library; see docs/math/stochastic.md, "Forecast errors")
KINDS: dict[str, tuple[str, float, float, float | None, float | None]] = {
    "pv": ("multiplicative", 0.20, 0.90, 0.0, 1.0),
    "wind": ("multiplicative", 0.30, 0.95, 0.0, 1.0),
    "demand": ("multiplicative", 0.08, 0.80, 0.0, None),
    "temperature": ("additive", 1.5, 0.90, None, None),
    "price": ("multiplicative", 0.20, 0.70, None, None),
}


class GivenScenario(Section):
    """A scenario of tomorrow given by the user."""

    name: Name = Field(description="scenario name")
    probability: float = Field(gt=0, le=1, description="its probability; all sum to 1")
    series: list[str] = Field(
        default_factory=list,
        description="CSV files whose columns replace the base scenario's series of those "
        "names over the same horizon (no file: the base series)",
    )


class ForecastError(Section):
    """The forecast error of one series: a stationary AR(1) process in time."""

    series: str = Field(description="name of the series (a column of the scenario's series)")
    kind: Literal["pv", "wind", "demand", "temperature", "price"] = Field(
        description="what it is: sets the defaults of form, sigma, rho, low and high "
        "(docs/math/stochastic.md, all [A])"
    )
    form: Literal["multiplicative", "additive"] | None = Field(
        None,
        description="multiplicative: value x (1 + e_t); additive: value + e_t (default by kind)",
    )
    sigma: NonNeg | None = Field(
        None,
        description="standard deviation of e_t (a share for multiplicative, the series' unit "
        "for additive; default by kind)",
    )
    rho: float | None = Field(
        None, ge=-1, lt=1, description="lag-1 autocorrelation of e_t per hour (default by kind)"
    )
    low: float | str | None = Field(
        None,
        description="values clipped below here: a number, or the name of a series clipping "
        "period by period (a wet-bulb at its dew point; default by kind)",
    )
    high: float | str | None = Field(
        None,
        description="values clipped above here: a number, or the name of a series (a "
        "wet-bulb at its dry-bulb; default by kind)",
    )

    def resolved(self) -> tuple[str, float, float, float | str | None, float | str | None]:
        """(form, sigma, rho, low, high) with the kind's defaults filled in."""
        form, sigma, rho, low, high = KINDS[self.kind]
        given = self.model_fields_set
        return (
            self.form if self.form is not None else form,
            self.sigma if self.sigma is not None else sigma,
            self.rho if self.rho is not None else rho,
            self.low if "low" in given else low,
            self.high if "high" in given else high,
        )


class Compliance(Section):
    """How a two-stage plan holds the horizon's targets over the scenarios."""

    green_share: Literal["expectation", "per_scenario", "chance"] = Field(
        "expectation",
        description="the green share's row (share_min) in every scenario, its "
        "probability-weighted sum only, or in scenarios of probability >= chance_level "
        "(default: expectation, the annual share is an average)",
    )
    pue: Literal["expectation", "per_scenario", "chance"] = Field(
        "per_scenario",
        description="the PUE cap's row (pue_max) in every scenario (default), in expectation, "
        "or in scenarios of probability >= chance_level",
    )
    chance_level: float = Field(
        0.9,
        gt=0.0,
        le=1.0,
        description="a target held by chance holds in scenarios whose probabilities sum to at "
        "least this (1: in every scenario)",
    )


class Uncertainty(Section):
    """Tomorrow's scenarios for a two-stage plan (ignored by a deterministic solve)."""

    scenarios: list[GivenScenario] = Field(
        default_factory=list, description="scenarios given by the user (or errors: generated)"
    )
    errors: list[ForecastError] = Field(
        default_factory=list, description="forecast-error model per series (generated scenarios)"
    )
    samples: int = Field(100, gt=0, description="generated draws before the reduction")
    reduce_to: int | None = Field(
        None, gt=0, description="representatives kept by fast forward selection (default: all)"
    )
    held_out: int = Field(0, ge=0, description="further draws kept for out-of-sample evaluation")
    seed: int = Field(0, ge=0, description="seed of the generator")
    compliance: Compliance = Field(
        default_factory=Compliance,  # type: ignore[arg-type]
        description="targets per scenario or in expectation",
    )
    cvar_alpha: Fraction = Field(
        0.9, description="level alpha of the CVaR reported and, with risk_weight, minimised"
    )
    risk_weight: NonNeg = Field(
        0.0, description="weight beta of the CVaR in the objective: E[cost] + beta CVaR"
    )
    realised: list[str] = Field(
        default_factory=list,
        description="CSV files of the day as it happened, replacing the forecast's series of "
        "those names (a replay of a plan against it: suandian replay)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Uncertainty:
        if self.scenarios and self.errors:
            raise ValueError(
                "give scenarios (user-given) or errors (generated), not both; remove one"
            )
        if self.scenarios:
            total = sum(s.probability for s in self.scenarios)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"the scenarios' probabilities sum to {total:.6g}, not 1; scale them "
                    "(each probability / their sum)"
                )
            names = [s.name for s in self.scenarios]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"scenario names given twice: {twice}; name each once")
        if self.reduce_to is not None and self.reduce_to > self.samples:
            raise ValueError(
                f"reduce_to {self.reduce_to} is more than samples {self.samples}; use at most "
                f"{self.samples}"
            )
        return self


@dataclass
class ScenarioSet:
    """Tomorrow's scenarios: one validated scenario per member, with its probability.

    Attributes
    ----------
    base : Scenario
        The forecast (the scenario the set was made from).
    members : list of Scenario
        One scenario per member (``horizon.probability`` its probability).
    held_out : list of Scenario
        Draws kept out of the plan for an out-of-sample evaluation (probability 1 each).
    reduction : dict
        For a reduced set: ``method``, ``samples``, ``kept`` and ``error`` (the Kantorovich
        distance between the sampled and the reduced distribution, in the standardised units
        of :func:`fast_forward`), and ``error_one`` (that of the best single scenario).
    """

    base: Scenario
    members: list[Scenario]
    held_out: list[Scenario] = field(default_factory=list)
    reduction: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Member names (``config.name``)."""
        return [m.config.name for m in self.members]

    @property
    def probabilities(self) -> np.ndarray:
        """Member probabilities (sum 1)."""
        return np.array([m.probability for m in self.members])

    def mean(self) -> Scenario:
        """The mean forecast: the base with each uncertain series at its expected value."""
        return mean_forecast(self.members, self.base)


def mean_forecast(members: Sequence[Scenario], base: Scenario | None = None) -> Scenario:
    """The members' mean forecast, probability 1.

    ``base`` (default: the first member: every other series, the configuration) with each
    series that differs between the members at its expected value ``sum_k p_k x^k_t``
    (probabilities normalised to sum 1), named ``<base name>.mean``.
    """
    members = list(members)
    if not members:
        raise ValueError("no scenarios to average")
    base = members[0] if base is None else base
    p = np.array([m.probability for m in members], dtype=float)
    p = p / p.sum() if p.sum() > 0 else np.full(len(members), 1.0 / len(members))
    series = base.series.copy()
    for col in _varied(members):
        values = [m.series[col].to_numpy(float) for m in members]
        series[col] = sum(pk * v for pk, v in zip(p, values, strict=True))
    return _member(base, f"{base.config.name}.mean", 1.0, series)


def scenario_set(sc: Scenario, uncertainty: Uncertainty | None = None) -> ScenarioSet:
    """The scenarios of ``sc``'s ``uncertainty:`` section (or of ``uncertainty``).

    Raises
    ------
    ScenarioError
        Naming the field: no ``uncertainty`` section, a series file that cannot be read or
        whose index is not the horizon's, a column or an error model naming a series the
        scenario does not have, a member the validation refuses.
    """
    u = uncertainty if uncertainty is not None else sc.config.uncertainty
    if u is None or not (u.scenarios or u.errors):
        raise ScenarioError(
            [
                Problem(
                    "uncertainty",
                    "null",
                    "a two-stage plan needs scenarios: give uncertainty.scenarios (names, "
                    "probabilities, series files) or uncertainty.errors (a forecast-error "
                    "model per series)",
                )
            ],
            sc.config.name,
        )
    if u.scenarios:
        members, problems = [], []
        for i, g in enumerate(u.scenarios):
            try:
                members.append(_given(sc, i, g))
            except ScenarioError as exc:  # every member's problems at once
                problems += exc.problems
        if problems:
            raise ScenarioError(problems, sc.config.name)
        return ScenarioSet(sc, members)
    return _generated(sc, u)


def realised_scenario(sc: Scenario, files: list[str] | None = None) -> Scenario:
    """The day as it happened: ``sc`` with the columns of ``files`` over its series.

    ``files`` default to ``uncertainty.realised`` (paths relative to the scenario's folder);
    each is read and aligned like a given scenario's file (every period present), its
    columns replacing the forecast's series of the same names. Named ``<name>.realised``.

    Raises
    ------
    ScenarioError
        No file given, a file that cannot be read or misses a period, a column that is not a
        series of the scenario.
    """
    u = sc.config.uncertainty
    given = list(files) if files is not None else (list(u.realised) if u is not None else [])
    if not given:
        raise ScenarioError(
            [
                Problem(
                    "uncertainty.realised",
                    "[]",
                    "a replay needs the day as it happened: give uncertainty.realised (CSV "
                    "files of the realised series) or the file itself (--realised FILE)",
                )
            ],
            sc.config.name,
        )
    g = GivenScenario(name=f"{sc.config.name}.realised", probability=1.0, series=given)
    # files named here (a command line's --realised) may be read where they are
    extra = [Path(f).resolve().parent for f in files] if files is not None else []
    return _given(sc, 0, g, where="uncertainty.realised", extra_roots=extra)


def _given(
    sc: Scenario,
    i: int,
    g: GivenScenario,
    where: str | None = None,
    extra_roots: list[Path] | None = None,
) -> Scenario:
    """The member of a user-given scenario: its files' columns over the base series.

    Files are read from where the scenario's ``series:`` may be (its folder, the ``data/``
    folder beside it, the allowed data roots) and ``extra_roots``.
    """
    roots = data_roots_for(sc.base_dir) + list(extra_roots or [])
    series = sc.series.copy()
    problems: list[Problem] = []
    prefix = where if where is not None else f"uncertainty.scenarios[{i}].series"
    for j, file in enumerate(g.series):
        label = f"{prefix}[{j}]"
        path, found = resolve_series_path(file, sc.base_dir, roots, label)
        problems += found
        if path is None:
            continue
        frame, found = read_series_file(path, label, shown=file)
        problems += found
        if frame is None:
            continue
        aligned, found = align_series(frame, sc.time, sc.config.horizon.upsample, label)
        problems += found
        if aligned is None:
            continue
        for col in aligned.columns:
            if col not in series.columns:
                problems.append(
                    Problem(
                        f"{label}:{col}",
                        repr(col),
                        "not a series of the base scenario: a scenario's file replaces "
                        f"series by name; known: {', '.join(map(str, series.columns))}",
                    )
                )
                continue
            series[col] = aligned[col].to_numpy(float)
    if problems:
        raise ScenarioError(problems, sc.config.name)
    return _member(sc, g.name, g.probability, series)


def _member(sc: Scenario, name: str, probability: float, series: pd.DataFrame) -> Scenario:
    """A member scenario: the base configuration, ``series``, its probability; validated."""
    raw = raw_config(sc)
    raw.pop("uncertainty", None)
    raw["name"] = name
    horizon = dict(raw["horizon"])
    horizon["probability"] = float(probability)
    raw["horizon"] = horizon
    return sc._loader()(copy.deepcopy(raw), series, sc.base_dir, sc.history)


def _varied(members: list[Scenario]) -> list[str]:
    """The series columns that differ between members."""
    first = members[0].series
    return [
        c
        for c in first.columns
        if any(not np.array_equal(m.series[c].to_numpy(), first[c].to_numpy()) for m in members)
    ]


# ------------------------------------------------------------------ generated scenarios
def ar1_errors(
    rng: np.random.Generator, n: int, T: int, sigma: float, rho: float, dt: float = 1.0
) -> np.ndarray:
    """``n`` paths of a stationary AR(1) error over ``T`` periods, (n, T).

    ``e_0 ~ N(0, sigma^2)``, ``e_t = r e_{t-1} + sigma sqrt(1 - r^2) eps_t`` with
    ``r = rho ** dt`` (``rho`` per hour, ``dt`` hours per period): every ``e_t`` has
    standard deviation ``sigma`` and ``corr(e_t, e_s) = rho ** (dt |t - s|)``.
    """
    r = float(np.sign(rho) * abs(rho) ** dt) if rho else 0.0
    eps = rng.standard_normal((n, T))
    e = np.empty((n, T))
    e[:, 0] = sigma * eps[:, 0]
    scale = sigma * np.sqrt(1.0 - r * r)
    for t in range(1, T):
        e[:, t] = r * e[:, t - 1] + scale * eps[:, t]
    return e


def sample_series(
    sc: Scenario, errors: list[ForecastError], n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Series name -> (n, T) draws of the series under its error model."""
    out: dict[str, np.ndarray] = {}
    problems = []
    for i, err in enumerate(errors):
        if err.series not in sc.series.columns:
            problems.append(
                Problem(
                    f"uncertainty.errors[{i}].series",
                    err.series,
                    "not a series of the scenario; known: " + ", ".join(map(str, sc.series)),
                )
            )
            continue
        if err.series in out:
            problems.append(
                Problem(f"uncertainty.errors[{i}].series", err.series, "given twice; keep one")
            )
            continue
        form, sigma, rho, low, high = err.resolved()
        bounds = []
        for field_name, bound in (("low", low), ("high", high)):
            if isinstance(bound, str) and bound not in sc.series.columns:
                problems.append(
                    Problem(
                        f"uncertainty.errors[{i}].{field_name}",
                        bound,
                        "not a series of the scenario: give a number or one of "
                        + ", ".join(map(str, sc.series)),
                    )
                )
                bound = None
            bounds.append(sc.series[bound].to_numpy(float) if isinstance(bound, str) else bound)
        base = sc.series[err.series].to_numpy(float)
        e = ar1_errors(rng, n, sc.periods, sigma, rho, sc.dt)
        values = base * (1.0 + e) if form == "multiplicative" else base + e
        if bounds[0] is not None or bounds[1] is not None:
            values = np.clip(values, bounds[0], bounds[1])
        out[err.series] = values
    if problems:
        raise ScenarioError(problems, sc.config.name)
    return out


def fast_forward(
    draws: np.ndarray, probabilities: np.ndarray, keep: int
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fast forward selection of ``keep`` scenarios (Heitsch & Römisch 2003, Algorithm 2.4).

    Parameters
    ----------
    draws : numpy.ndarray
        (n, d) scenarios as points (already standardised).
    probabilities : numpy.ndarray
        (n,) their probabilities.
    keep : int
        Scenarios to keep.

    Returns
    -------
    kept : numpy.ndarray
        Indices of the kept scenarios, in the order selected.
    new_p : numpy.ndarray
        Their probabilities: each kept scenario's own plus those of the deleted scenarios
        closest to it (the optimal redistribution).
    error : float
        Kantorovich distance of the reduced to the original distribution,
        ``sum_{i deleted} p_i min_{j kept} c_ij`` with ``c_ij`` the Euclidean distance.
    error_one : float
        The same for the best single scenario (the first selected): the reduction's error
        relative to it is ``error / error_one``.
    """
    n = len(draws)
    keep = min(int(keep), n)
    sq = (draws**2).sum(axis=1)
    c = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * draws @ draws.T, 0.0))
    selected: list[int] = []
    left = np.ones(n, dtype=bool)
    dist = c.copy()  # c^{[k]}: distance to the nearest of (the candidate, the selected)
    error_one = 0.0
    for step in range(keep):
        # z_u = sum over i not selected, i != u, of p_i c^{[k]}_{iu}
        z = probabilities[left] @ dist[np.ix_(left, left)]
        u = int(np.flatnonzero(left)[int(np.argmin(z))])
        if step == 0:
            error_one = float(z.min())
        selected.append(u)
        left[u] = False
        dist = np.minimum(dist, dist[:, [u]])
    kept = np.array(selected, dtype=np.int64)
    nearest = kept[np.argmin(c[:, kept], axis=1)]
    new_p = np.array([probabilities[nearest == j].sum() for j in kept])
    error = float((probabilities * c[np.arange(n), nearest]).sum())
    return kept, new_p, error, error_one


def _generated(sc: Scenario, u: Uncertainty) -> ScenarioSet:
    """Draw ``samples`` scenarios and reduce them; draw ``held_out`` more from a second stream."""
    # two streams of the seed: the set does not change with the number held out
    draws = sample_series(sc, u.errors, u.samples, np.random.default_rng([u.seed, 0]))
    kept_out = sample_series(sc, u.errors, u.held_out, np.random.default_rng([u.seed, 1]))
    names = list(draws)
    plan = range(u.samples)
    p = np.full(u.samples, 1.0 / u.samples)
    reduction: dict = {}
    if u.reduce_to is not None and u.reduce_to < u.samples:
        # standardise each series (its spread over draws and periods) so units do not weigh
        points = np.concatenate(
            [
                (draws[k][: u.samples] - draws[k][: u.samples].mean(axis=0))
                / max(float(draws[k][: u.samples].std()), 1e-12)
                for k in names
            ],
            axis=1,
        )
        kept, p, error, error_one = fast_forward(points, p, u.reduce_to)
        plan = kept  # type: ignore[assignment]
        reduction = {
            "method": "fast forward selection (Heitsch & Römisch 2003)",
            "samples": u.samples,
            "kept": len(kept),
            "error": error,
            "error_one": error_one,
            "relative_error": error / error_one if error_one > 0 else 0.0,
        }
    members = []
    for j, (i, pk) in enumerate(zip(plan, p, strict=True)):
        series = sc.series.copy()
        for k in names:
            series[k] = draws[k][i]
        members.append(_member(sc, f"{sc.config.name}.s{j}", float(pk), series))
    held = []
    for j in range(u.held_out):
        series = sc.series.copy()
        for k in names:
            series[k] = kept_out[k][j]
        held.append(_member(sc, f"{sc.config.name}.h{j}", 1.0, series))
    return ScenarioSet(sc, members, held, reduction)
