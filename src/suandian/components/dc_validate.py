"""Scenario checks of the data centers (``dc``'s validate hook): what the schema cannot see.

Sections ``sites``, ``interactive``, ``batch`` and ``data_links``: a wet-bulb above the
dry-bulb, cooling-curve fields that a given COP makes moot, a batch job whose window is empty
or too short, two data links for one pair of sites. Their series (demands, COP, ambient
temperatures) are checked by the shared walker of :mod:`suandian.scenario.validation`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .placement import check_links

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.schema import BatchJob
    from ..scenario.validation import SeriesRefs

#: cooling fields that only shape the COP derived from the ambient temperature
COOLING_CURVE = ("t_free", "t_mech", "cop_free", "cop_ref", "t_ref", "cop_slope", "cop_min")


def validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Every problem of the data-center sections that needs the horizon or the series."""
    problems = _cooling(sc, refs)
    for i, job in enumerate(sc.config.batch):
        problems += _job(sc, i, job)
    return problems + check_links(sc)


def _cooling(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Wet-bulb not above dry-bulb (read only when both series are); moot curve fields."""
    from ..errors import Problem

    problems: list[Problem] = []
    for i, s in enumerate(sc.config.sites):
        c = s.cooling
        if c.cop is not None:
            curve = [k for k in COOLING_CURVE if k in c.model_fields_set]
            if curve:
                problems.append(
                    Problem(
                        f"sites[{i}].cooling.{curve[0]}",
                        repr(getattr(c, curve[0])),
                        f"{', '.join(curve)} shape the COP derived from ambient and would be "
                        "ignored because cop is given; remove them, or give ambient instead "
                        "of cop",
                    )
                )
        wet, dry = refs.values(c.ambient), refs.values(c.dry_bulb)
        if wet is None or dry is None or refs.flagged(f"sites[{i}].cooling"):
            continue
        excess = wet - dry
        if (excess > 1e-6).any():
            problems.append(
                Problem(
                    f"sites[{i}].cooling.ambient",
                    f"wet-bulb above dry-bulb by up to {excess.max():g} K",
                    "with adiabatic_effectiveness, ambient is the wet-bulb and must "
                    "not exceed dry_bulb; check the two series",
                )
            )
    return problems


def _job(sc: Scenario, i: int, job: BatchJob) -> list[Problem]:
    """Release and deadline on the horizon's grid, in order, and the work doable between."""
    from ..errors import Problem

    problems: list[Problem] = []
    try:
        release = sc.period(job.release, 0)
    except KeyError:
        return [
            Problem(
                f"batch[{i}].release",
                str(job.release),
                f"not a period start of the horizon ({sc.time[0]} .. "
                f"{sc.time[-1]}, every {sc.config.horizon.resolution})",
            )
        ]
    try:
        deadline = sc.period(job.deadline, sc.periods)
    except KeyError:
        return [
            Problem(
                f"batch[{i}].deadline",
                str(job.deadline),
                "not a period boundary of the horizon; use a period index or a "
                "timestamp on the grid",
            )
        ]
    if not 0 <= release < sc.periods:
        problems.append(
            Problem(
                f"batch[{i}].release",
                str(job.release),
                f"release must be a period in 0..{sc.periods - 1}",
            )
        )
    if not 0 < deadline <= sc.periods:
        problems.append(
            Problem(
                f"batch[{i}].deadline",
                str(job.deadline),
                f"deadline must be in 1..{sc.periods} (exclusive end)",
            )
        )
    if release >= deadline:
        problems.append(
            Problem(
                f"batch[{i}].release",
                f"{job.release} (deadline {job.deadline})",
                "release after deadline: the job's window is empty; move the release "
                "earlier or the deadline later",
            )
        )
    elif job.max_rate * (deadline - release) * sc.dt < job.work - 1e-6 * max(1.0, job.work):
        # (relative: work left after a window is the solver's figure, within its tolerance)
        most = job.max_rate * (deadline - release) * sc.dt
        problems.append(
            Problem(
                f"batch[{i}].work",
                f"{job.work:g}",
                f"cannot finish: at max_rate {job.max_rate:g} over its window of "
                f"{(deadline - release) * sc.dt:g} h at most {most:g} can be done; "
                "raise max_rate, widen the window or reduce the work",
            )
        )
    return problems
