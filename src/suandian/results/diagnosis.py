"""``Diagnosis``: what an infeasible scenario cannot meet (data only; made by ``run.diagnose``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Diagnosis:
    """What cannot be met, with the amounts and the best achievable values.

    Attributes
    ----------
    findings : list of str
        One sentence per target that cannot be met, naming what binds.
    shortfalls : dict
        Machine-readable amounts (keys such as ``green_share_portfolio``).
    achievable : dict
        Green share and PUE achieved by the relaxed plan.
    proven : bool
        True when every finding is proven: by a data check (no solve), or by a relaxed
        re-solve that closed its gap, so the "at most" figures are proven bounds. False when
        a re-solve stopped at the time budget (best found, not proven), and always False
        without a finding: a diagnosis that found nothing proves nothing.
    status : str
        How the relaxed re-solve ended, or ``"no cause found within the budget"`` when no
        stage found anything (``note`` says why).
    seconds : float
        Time the diagnosis took.
    stage : str
        What had to be relaxed to find a plan: ``"policies"``, ``"batch work"``,
        ``"interactive demand"`` or ``"hard limits"`` (see ``docs/math/diagnosis.md``).
    note : str
        Why nothing was found, when ``findings`` is empty (else empty).
    """

    findings: list[str] = field(default_factory=list)
    shortfalls: dict[str, float] = field(default_factory=dict)
    achievable: dict[str, dict[str, float]] = field(default_factory=dict)
    proven: bool = False
    status: str = ""
    seconds: float = 0.0
    stage: str = ""
    note: str = ""

    def __str__(self) -> str:
        if not self.findings:
            why = f": {self.note}" if self.note else " (check bounds and limits)"
            return f"diagnosis: {self.status or 'no cause found'} ({self.seconds:.1f} s){why}"
        how = "proven" if self.proven else f"best found, not proven ({self.status})"
        return f"diagnosis: the scenario is infeasible ({how}, {self.seconds:.1f} s)\n" + "\n".join(
            f"  - {line}" for line in self.findings
        )

    def as_dict(self) -> dict:
        """Plain-dict form (for JSON)."""
        return {
            "findings": self.findings,
            "shortfalls": self.shortfalls,
            "achievable": self.achievable,
            "proven": self.proven,
            "status": self.status,
            "seconds": self.seconds,
            "stage": self.stage,
            "note": self.note,
        }
