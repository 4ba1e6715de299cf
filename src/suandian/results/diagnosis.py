"""Diagnosis of an infeasible scenario: how far each target can be met, and what binds.

The scenario is re-solved with priced slacks, in two stages so that compute is never given
up to meet a policy:

1. the green-share shortfall and the PUE excess are priced (``POLICY_PENALTY`` CNY/MWh, far
   above any energy price) while all compute stays mandatory;
2. only if that is still infeasible, unserved interactive demand and unfinished batch work
   are priced too (``COMPUTE_PENALTY`` CNY per compute unit x hour).

Slacks that stay non-zero name the targets that cannot be met and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .accounting import books

#: CNY per MWh of green-share shortfall or PUE excess in the diagnosis re-solve.
POLICY_PENALTY = 1.0e5
#: CNY per compute unit x hour not served in the second diagnosis stage.
COMPUTE_PENALTY = 1.0e4

if TYPE_CHECKING:
    from ..scenario import Scenario
    from ..solver import SolveOptions


@dataclass
class Diagnosis:
    """What cannot be met, with the amounts and the best achievable values.

    Attributes
    ----------
    findings : list of str
        One sentence per target that cannot be met.
    shortfalls : dict
        Machine-readable amounts (keys such as ``green_share_portfolio``).
    achievable : dict
        Green share and PUE achieved by the relaxed plan.
    """

    findings: list[str] = field(default_factory=list)
    shortfalls: dict[str, float] = field(default_factory=dict)
    achievable: dict[str, dict[str, float]] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.findings:
            return "diagnosis: no target shortfall found (check bounds and limits)"
        return "diagnosis: the scenario is infeasible\n" + "\n".join(
            f"  - {line}" for line in self.findings
        )

    def as_dict(self) -> dict:
        """Plain-dict form (for JSON)."""
        return {
            "findings": self.findings,
            "shortfalls": self.shortfalls,
            "achievable": self.achievable,
        }


def diagnose(scenario: Scenario, opts: SolveOptions) -> Diagnosis:
    """Re-solve with priced slacks and report which targets bind and by how much."""
    from ..model import build_model
    from ..solver import solve_model

    relaxed_opts = type(opts)(**{**opts.__dict__, "duals": False, "diagnose": False})
    out = Diagnosis()
    for compute_penalty in (None, COMPUTE_PENALTY):
        model = build_model(
            scenario, shortfall_penalty=POLICY_PENALTY, compute_shortfall_penalty=compute_penalty
        )
        info = solve_model(model, relaxed_opts, {})
        if info.has_solution:
            break
    if not info.has_solution:
        out.findings.append(
            f"even with every target relaxed HiGHS finds no plan ({info.highs_status}); "
            "check import limits and battery end-of-day rules against the load"
        )
        return out
    from .extract import build_dataset

    ds = build_dataset(model)
    k = books(ds)
    out.achievable = {"green_share": k["green_share"], "pue": k["pue"]}
    unit = ds.attrs["compute_unit"]
    dt = float(ds.attrs["dt_hours"])
    tol = 1e-6
    for w in ds["workload"].values if "x_unserved" in ds else ():
        missing = ds["x_unserved"].sel(workload=w)
        if float(missing.max()) > tol:
            worst = missing.idxmax("time").values
            out.shortfalls[f"unserved_{w}"] = float(missing.sum() * dt)
            out.findings.append(
                f"interactive workload '{w}': {float(missing.sum() * dt):,.1f} {unit}·h of "
                f"demand cannot be served (worst at {str(worst)[:16]}, "
                f"{float(missing.max()):,.1f} {unit}); add blocks at an eligible site or "
                "make more sites eligible"
            )
    for j in ds["job"].values if "x_unfinished" in ds else ():
        left = float(ds["x_unfinished"].sel(job=j))
        if left > tol:
            out.shortfalls[f"unfinished_{j}"] = left
            out.findings.append(
                f"batch job '{j}': {left:,.1f} {unit}·h of its work cannot be done by its "
                "deadline with the capacity available; widen its window, raise max_rate or "
                "add capacity"
            )
    target = ds.attrs.get("green_share_target")
    for g in ds["scope"].values:
        gap = float(ds["e_green_shortfall"].sel(scope=g))
        if gap > tol:
            best = k["green_share"].get(str(g), float("nan"))
            out.shortfalls[f"green_share_{g}"] = gap
            out.findings.append(
                f"green share ({g}): at most {best:.1%} reachable against the target "
                f"{target:.0%} ({gap:,.1f} MWh of green energy missing); binding: the green "
                "supply available (renewables, corridor and contract capacity, certificate "
                "cap)"
            )
    for s in ds["site"].values:
        excess = float(ds["e_pue_excess"].sel(site=s))
        if excess > tol:
            best = k["pue"][str(s)]
            cap = float(ds["pue_cap"].sel(site=s))
            out.shortfalls[f"pue_{s}"] = excess
            out.findings.append(
                f"PUE at site '{s}': best achievable {best:.3f} against the cap {cap:.3f} "
                f"({excess:,.1f} MWh above it); binding: cooling COP and losses over the "
                "hours the load must run"
            )
    return out
