"""Policies: targets that constrain only the ledgers."""

from .carbon import add_carbon_price
from .green_share import add_green_share
from .pue_cap import add_pue_cap

__all__ = ["add_carbon_price", "add_green_share", "add_pue_cap"]
