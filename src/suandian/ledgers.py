"""Ledgers: the only place that sums component ports.

Math: ``docs/math/ledgers.md``. Component ``ledger``: the electricity balance per site and
period (``ledger.balance``, whose dual is the energy price) and, for policies, the books per
carrier: per (site, period) with :meth:`Ledger.flow` and per site over the horizon with
:meth:`Ledger.total`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .checks import Rows
from .component import Component, Context, FamilyBuilder, Output
from .linear import Expr


class Ledger:
    """Sums of every family's ports, by carrier.

    Parameters
    ----------
    ports : dict
        ``{family: {carrier: Expr}}`` as built (``carrier:horizon`` for horizon parts).
    S, T : int
        Sites and periods.
    dt : float
        Period length, hours.
    weights : numpy.ndarray, optional
        Per-period weights ``w_t`` (T,) for representative periods (``None``: all 1).
    """

    def __init__(
        self,
        ports: dict[str, dict[str, Expr]],
        S: int,
        T: int,
        dt: float,
        weights: np.ndarray | None = None,
        budget: np.ndarray | None = None,
    ):
        self.ports = ports
        self.S, self.T, self.dt = S, T, dt
        self.weights = None if weights is None or np.all(weights == 1.0) else weights
        self.budget = budget

    def flow(self, carrier: str) -> Expr:
        """Sum over families of a per-period port, shape (S, T) (zero if no family has it)."""
        total = Expr.zeros((self.S, self.T))
        for ports in self.ports.values():
            if carrier in ports:
                total = total + ports[carrier]
        return total

    def total(self, carrier: str, counted: bool = False) -> Expr:
        """Per-site horizon total, (S,): ``dt * sum_t w_t * flow`` plus horizon parts.

        ``counted``: only the periods annual budgets count (``horizon.budget_periods``,
        ``budget_period`` b_t in the Dataset): ``dt * sum_t w_t * b_t * flow``.
        """
        flow = self.flow(carrier)
        if counted and self.budget is not None:
            flow = flow * self.budget
        if self.weights is not None:
            flow = flow * self.weights
        out = flow.sum(1) * self.dt
        for ports in self.ports.values():
            if carrier + ":horizon" in ports:
                out = out + ports[carrier + ":horizon"]
        return out

    def year_total(self, carrier: str) -> Expr:
        """What an annual budget (basis ``year``) counts of the horizon: ``total(counted=True)``."""
        return self.total(carrier, counted=True)

    def consumption(self) -> Expr:
        """Electricity consumed per site over the horizon, MWh (total intake)."""
        return self.total("intake")

    def green(self) -> Expr:
        """Green energy per site over the horizon, MWh (green intake plus certificates)."""
        return self.total("green") + self.total("certificates")


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    ledger = ctx.ledger
    fb.constrain(
        "balance", ledger.flow("power"), "==", 0.0, dual="energy_price", dual_factor=1.0 / ctx.dt
    )
    if ledger.budget is not None:
        fb.input("budget_period", ledger.budget)


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """Balance per site and period: the families' power flows sum to zero."""
    flows = [a.flows["power"] for a in rows.accounts.values() if "power" in a.flows]
    inflow = sum((np.maximum(p, 0.0) for p in flows), 0.0)
    outflow = sum((np.maximum(-p, 0.0) for p in flows), 0.0)
    rows.eq(
        "ledger.balance",
        inflow - outflow,
        0.0,
        scale=np.maximum(np.abs(inflow), np.abs(outflow)),
    )


def _estimate(sc, options) -> int:
    """Columns of ``ledger``: none (its flows are expressions of the families' columns)."""
    return 0


COMPONENT = Component(
    name="ledger",
    sections=(),
    doc="electricity balance and books by carrier",
    stateless="the balance holds per period",
    outputs=(
        Output(
            "energy_price",
            ("site", "time"),
            "CNY/MWh",
            "marginal cost of one more MWh consumed at the site in the period",
            role="dual",
        ),
        Output(
            "budget_period",
            ("time",),
            "1",
            "1 where annual budgets (basis year) count the period's energy, 0 in a rolling "
            "window's look-ahead (only when horizon.budget_periods is set)",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    check=_check,
    kind="ledger",
)
