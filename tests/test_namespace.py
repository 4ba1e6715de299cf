"""Output, cost-term and energy names share one namespace; a result states it holds a plan.

Two toy components defined here each claim a name another component owns: the build (or,
for energy keys, which exist only in the books, the books) stops and names both owners,
instead of one silently overwriting the other in the Dataset or the cost table.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest import base_config, scenario

import suandian
from suandian.component import Account, Component, Context, FamilyBuilder, Output
from suandian.components import REGISTRY, register
from suandian.results.extract import has_plan


def _toy(name: str, output: str, term: str, energy: str) -> Component:
    """A component with one input ``output``, a zero cost term ``term``, an energy key."""

    def build(fb: FamilyBuilder, ctx: Context) -> None:
        fb.input(output, np.zeros(ctx.S))
        fb.cost(term, fb.var(f"x_{name}", ub=0.0) * 0.0)

    def account(ds: xr.Dataset) -> Account:
        return Account(cost={term: 0.0}, energy={energy: 0.0})

    return register(
        Component(
            name=name,
            sections=(),
            outputs=(
                Output(output, ("site",), "1", "a toy input", role="input"),
                Output(f"x_{name}", ("site", "time"), "MW", "a toy decision"),
            ),
            build=build,
            account=account,
        )
    )


def _config() -> dict:
    c = base_config(periods=2)
    c["interactive"] = [{"name": "w", "demand": 10.0, "sites": ["s1"]}]
    return c


def test_an_output_owned_twice_is_an_error_naming_both():
    """A toy input called ``tariff`` would overwrite the grid's tariff in the Dataset."""
    toy = _toy("toy_out", "tariff", "toy_out_cost", "toy_out_mwh")
    with pytest.raises(
        ValueError, match=r"output 'tariff' is defined by both 'grid' and 'toy_out'"
    ):
        suandian.build_model(scenario(_config()), components=(*REGISTRY, toy))


def test_a_cost_term_owned_twice_is_an_error_naming_both():
    """Two toys with the cost term ``fuel``: the second would replace the first's."""
    a = _toy("toy_a", "toy_a_in", "fuel", "toy_a_mwh")
    b = _toy("toy_b", "toy_b_in", "fuel", "toy_b_mwh")
    with pytest.raises(
        ValueError, match=r"cost term 'fuel' is defined by both 'toy_a' and 'toy_b'"
    ):
        suandian.build_model(scenario(_config()), components=(*REGISTRY, a, b))


def test_an_energy_key_owned_twice_is_an_error_of_the_books_naming_both():
    """The toy's energy key ``grid`` (the grid family's) is found when the books merge them."""
    toy = _toy("toy_e", "toy_e_in", "toy_e_cost", "grid")
    model = suandian.build_model(scenario(_config()), components=(*REGISTRY, toy))
    result = suandian.solve(model)
    with pytest.raises(ValueError, match=r"energy key 'grid' is given by both 'grid' and 'toy_e'"):
        result.kpis  # noqa: B018


def test_has_plan_is_an_attribute_and_old_folders_still_read():
    """A solved Dataset says ``has_plan = 1``; without the attribute the grid's decisions tell."""
    result = suandian.solve(scenario(_config()))
    ds = result.ds
    assert ds.attrs["has_plan"] == 1 and has_plan(ds)
    old = ds.copy()
    del old.attrs["has_plan"]
    assert has_plan(old)
    assert not has_plan(old.drop_vars("p_grid"))
    assert not has_plan(ds.assign_attrs(has_plan=0))
