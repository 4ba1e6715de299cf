"""Independent certifier (placeholder; being written)."""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr


@dataclass(frozen=True)
class Violation:
    """One violated check."""

    check: str
    where: str
    value: float
    limit: float


def certify(ds: xr.Dataset, tol: float = 1e-5) -> list[Violation]:
    """Re-check a plan from its Dataset alone."""
    raise NotImplementedError
