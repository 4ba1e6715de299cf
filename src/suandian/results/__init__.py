"""Results: the schedule as xarray, the carbon books, certification and export."""

from .accounting import books
from .certifier import Violation, certify
from .diagnosis import Diagnosis
from .result import Result, read_result
from .sweep import SweepResult, read_sweep
from .year import Part, YearResult

__all__ = [
    "Diagnosis",
    "Part",
    "Result",
    "SweepResult",
    "Violation",
    "YearResult",
    "books",
    "certify",
    "read_result",
    "read_sweep",
]
