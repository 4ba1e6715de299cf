"""Results: the schedule as xarray, the carbon books, certification and export."""

from .accounting import books
from .certifier import Violation, certify
from .diagnosis import Diagnosis
from .result import Result, read_result

__all__ = ["Diagnosis", "Result", "Violation", "books", "certify", "read_result"]
