"""One wall-clock deadline for a whole solve, shared by its phases.

A :class:`Deadline` is made once per :func:`suandian.solve` from ``time_limit`` and handed
to every phase (the presolved plans, the build, the MIP start, the decomposition, HiGHS's
branch and bound, the shadow-price LP): each phase asks it what is left and takes at most
that. Math and measurements: ``docs/math/solver.md`` (section "The time asked is the time
taken").
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

#: What a call may take beyond ``time_limit`` at most, as promised in ``docs/math/solver.md``:
#: ``time_limit * (1 + OVER_SHARE) + OVER_SECONDS``.
OVER_SHARE, OVER_SECONDS = 0.1, 0.5


class Deadline:
    """A point in wall time that the phases of one solve share.

    Parameters
    ----------
    seconds : float
        Time from now to the deadline (``inf`` for none).
    clock : callable, optional
        Seconds of a monotonic clock (default :func:`time.perf_counter`); a test passes a
        fake one.

    Attributes
    ----------
    began, end : float
        The clock's reading at creation and at the deadline.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter):
        if not seconds >= 0:  # NaN too
            raise ValueError(f"seconds={seconds!r}: use seconds >= 0 (inf for none)")
        self.clock = clock
        self.began = clock()
        self.seconds = float(seconds)
        self.end = self.began + self.seconds

    @property
    def finite(self) -> bool:
        """Whether there is a deadline at all."""
        return math.isfinite(self.end)

    def left(self) -> float:
        """Seconds left before the deadline (0 once passed, ``inf`` without one)."""
        return max(self.end - self.clock(), 0.0)

    def elapsed(self) -> float:
        """Seconds since the deadline was made."""
        return self.clock() - self.began

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.clock() >= self.end

    def share(self, fraction: float) -> Deadline:
        """A deadline of its own for a phase: ``fraction`` of what is left, on the same clock."""
        return Deadline(fraction * self.left(), self.clock)

    def before(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` earlier than this one (not before now), on the same clock."""
        return Deadline(max(self.left() - max(seconds, 0.0), 0.0), self.clock)

    def limit(self, cap: float = math.inf) -> float:
        """The ``time_limit`` to hand HiGHS for a run: what is left, at most ``cap``."""
        return min(self.left(), cap)

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.left():.3g} s left)"
