"""Policies: targets and prices that read the ledgers only.

:data:`POLICIES` lists them in build order; each is a :class:`~suandian.component.Component`
of kind ``policy``.
"""

from . import (
    bill,
    carbon,
    cfe,
    demand_response,
    direct_supply,
    grants,
    green_share,
    net_metering,
    pue_cap,
    reserves,
)

#: every policy, in build order
POLICIES = (
    green_share.COMPONENT,
    cfe.COMPONENT,
    pue_cap.COMPONENT,
    carbon.COMPONENT,
    direct_supply.COMPONENT,
    demand_response.COMPONENT,
    reserves.COMPONENT,
    bill.COMPONENT,
    net_metering.COMPONENT,
    grants.COMPONENT,
)

__all__ = ["POLICIES"]
