"""A component declares its scenario section in its own module (``Component.scenario_fields``).

The toy family below is registered from this test file only; the scenario schema gains its
``toy_heaters`` field without any edit of ``suandian.scenario.schema``, and the loader's
generic checks (unknown keys with a hint, bounds, references to sites) apply to it.
"""

from __future__ import annotations

import pickle

import pytest
from conftest import base_config, scenario
from pydantic import Field

import suandian
from suandian.component import Component, Name, NonNeg, ScenarioField, Section
from suandian.components import register, unregister
from suandian.scenario import schema


class ToyHeater(Section):
    """A heater at a site (only its section matters here)."""

    name: Name
    site: Name
    power: NonNeg = Field(description="MW")


TOY = Component(
    name="toy_heat",
    sections=("toy_heaters",),
    outputs=(),
    build=lambda fb, ctx: None,
    scenario_fields=(
        ScenarioField(
            "toy_heaters",
            list[ToyHeater],
            Field(default_factory=list, description="toy heaters"),
        ),
    ),
)


@pytest.fixture(autouse=True, scope="module")
def _registered():
    """Known to the schema for this module's tests only (other tests see no toy field)."""
    register(TOY)
    yield
    unregister(TOY.name)


def _config(**heater) -> dict:
    c = base_config()
    c["toy_heaters"] = [{"name": "h1", "site": "s1", "power": 1.5, **heater}]
    return c


def test_declared_section_is_read_and_typed():
    sc = scenario(_config())
    heaters = sc.section("toy_heaters")
    assert [(h.name, h.site, h.power) for h in heaters] == [("h1", "s1", 1.5)]
    assert isinstance(heaters[0], ToyHeater)
    assert isinstance(sc.config, schema.ScenarioConfig)
    assert "toy_heaters" in type(sc.config).model_fields


def test_declared_section_gets_the_generic_checks():
    c = _config(power=-1.0, site="s9")
    c["toy_heater"] = []  # misspelt top-level key
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(c)
    fields = {p.field: p for p in err.value.problems}
    assert "toy_heaters[0].power" in fields
    assert "toy_heaters[0].site" in fields and "s9" in fields["toy_heaters[0].site"].value
    assert "toy_heaters" in fields["toy_heater"].message  # did-you-mean


def test_scenario_with_a_declared_section_pickles():
    sc = scenario(_config())
    again = pickle.loads(pickle.dumps(sc))
    assert again.section("toy_heaters")[0].power == 1.5
    assert type(again.config) is type(sc.config)


def test_unregistered_section_is_unknown():
    unregister(TOY.name)
    try:
        with pytest.raises(suandian.ScenarioError) as err:
            scenario(_config())
        assert [p.field for p in err.value.problems] == ["toy_heaters"]
    finally:
        register(TOY)


def test_two_owners_of_one_field_is_an_error():
    twin = Component(
        name="toy_twin",
        sections=(),
        outputs=(),
        build=lambda fb, ctx: None,
        scenario_fields=(ScenarioField("toy_heaters", list[ToyHeater], Field(default=[])),),
    )
    with pytest.raises(ValueError, match="'toy_heaters' is declared by 'toy_twin' and by"):
        schema.config_model((TOY, twin))
    clash = Component(
        name="toy_clash",
        sections=(),
        outputs=(),
        build=lambda fb, ctx: None,
        scenario_fields=(ScenarioField("storage", list[ToyHeater], Field(default=[])),),
    )
    with pytest.raises(ValueError, match="'storage' is declared by 'toy_clash' and by"):
        schema.config_model((clash,))
