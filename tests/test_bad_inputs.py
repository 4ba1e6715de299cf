"""The bad-input catalogue: each hostile or broken input, the field blamed and the message.

Every case is loaded from files in a scenario folder, as a user would (``suandian validate``),
and must end in a :class:`ScenarioError` naming the field, never in a traceback. The list is
the catalogue of issue 9's closing note.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import base_config

import suandian
from suandian import ScenarioError

LAUGHS = """
horizon: {start: 2026-07-15, periods: 4}
bogus:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _config(edit: Callable[[dict], None] | None = None) -> dict:
    config = base_config()
    if edit is not None:
        edit(config)
    return config


def _yaml(edit=None, text_edit: Callable[[str], str] | None = None):
    """A case writing the (edited) base config as scenario.yaml."""

    def make(folder: Path) -> Path:
        text = yaml.safe_dump(_config(edit), allow_unicode=True, sort_keys=False)
        if text_edit is not None:
            text = text_edit(text)
        path = folder / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return make


def _raw(data: bytes | str | None):
    """A case whose scenario file holds exactly ``data`` (None: a directory)."""

    def make(folder: Path) -> Path:
        path = folder / "scenario.yaml"
        if data is None:
            path.mkdir()
        elif isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        return path

    return make


def _series(content: bytes | str | None, name: str = "s.csv", setup=None):
    """A case with one series file ``name`` of ``content`` (None: not written)."""

    def edit(config: dict) -> None:
        config["series"] = [name]
        config["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]

    def make(folder: Path) -> Path:
        target = folder / name
        if content is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if setup is not None:
            setup(folder)
        return _yaml(edit)(folder)

    return make


def _set(path: str, value):
    """An edit setting the dotted ``path`` (``sites.0.blocks``) to ``value``."""

    def edit(config: dict) -> None:
        *parents, last = path.split(".")
        node = config
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[int(last) if last.isdigit() else last] = value

    return edit


def _siteless_corridor(config: dict) -> None:
    config["nodes"].append({"name": "n2", "tariff": 100.0, "emission_factor": 0.5})
    config["corridors"] = [
        {"name": "hm_cq", "from_node": "n1", "to_node": "n2", "capacity": 5, "source_price": 1}
    ]


def _siteless_contract(config: dict) -> None:
    config["nodes"].append({"name": "n2", "tariff": 100.0, "emission_factor": 0.5})
    config["green_contracts"] = [{"name": "gc", "node": "n2", "capacity": 5, "price": 1}]


def _symlink_out(folder: Path) -> None:
    outside = folder.parent.parent / "secret.csv"  # outside the scenario and project folders
    outside.write_text("root:x:0:0:secret\n1\n2\n3\n4\n", encoding="utf-8")
    (folder / "link.csv").symlink_to(outside)


GOOD_TIMES = "time,d\n" + "".join(f"2026-07-15 0{h}:00,1\n" for h in range(4))

#: (case id, maker(folder) -> scenario path, expected field, expected message fragment)
CATALOGUE = [
    # numbers
    ("tariff .nan", _yaml(_set("nodes.0.tariff", float("nan"))), "nodes[0].tariff",
     "not a finite number"),
    ("emission_factor .inf", _yaml(_set("nodes.0.emission_factor", float("inf"))),
     "nodes[0].emission_factor", "not a finite number"),
    ("demand -.inf", _yaml(lambda c: c.update(
        interactive=[{"name": "w", "demand": float("-inf"), "sites": ["s1"]}])),
     "interactive[0].demand", "not a finite number"),
    ("target: yes", _yaml(_set("policies.green_share", {"target": 0.5}),
                          lambda t: t.replace("target: 0.5", "target: yes")),
     "policies.green_share.target", "boolean"),
    ("blocks: true", _yaml(_set("sites.0.blocks", True)), "sites[0].blocks", "boolean"),
    ("target: 95%", _yaml(_set("policies.green_share", {"target": "95%"})),
     "policies.green_share.target", "write 0.95"),
    ("loss_fraction: 4%", _yaml(_set("sites.0.loss_fraction", "4%")),
     "sites[0].loss_fraction", "write 0.04"),
    # YAML structure
    ("duplicate key", _yaml(text_edit=lambda t: t + "name: again\n"), "scenario",
     "duplicate key 'name'"),
    ("billion laughs under an unknown key", _raw(LAUGHS), "scenario", "expands to more than"),
    ("2000 alias references", _raw("a: &a 1\nb: [" + ", ".join(["*a"] * 2000) + "]\n"),
     "scenario", "alias references"),
    ("nesting 500 deep", _raw("a: " + "[" * 500 + "]" * 500 + "\n"), "scenario",
     "nesting deeper"),
    ("recursive alias", _raw("a: &a [*a]\n"), "scenario", "recursive alias"),
    ("top level a list", _raw("- 1\n- 2\n"), "scenario", "top level must be a mapping"),
    # files
    ("scenario is a directory", _raw(None), "scenario", "is a directory"),
    ("empty scenario file", _raw(""), "scenario", "the file is empty"),
    ("only comments", _raw("# nothing\n"), "scenario", "holds no data"),
    ("binary scenario file", _raw(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "scenario",
     "binary file"),
    ("latin-1 scenario file", _raw("name: Chongq\xefng\n".encode("latin-1")), "scenario",
     "not UTF-8"),
    ("invalid YAML", _raw("horizon: {start: [\n"), "scenario", "invalid YAML"),
    ("series ../../etc/passwd", _series(None, name="../../etc/passwd"), "series[0]",
     "outside the scenario's folder"),
    ("series symlink leading out", _series(None, name="link.csv", setup=_symlink_out),
     "series[0]", "outside the scenario's folder"),
    ("series file is a directory", _series(None, name="sub", setup=lambda f: (f / "sub").mkdir()),
     "series[0]", "is a directory"),
    ("empty series file", _series(""), "series[0]", "the file is empty"),
    ("binary series file", _series(b"PK\x03\x04\x00\x00binary"), "series[0]", "binary file"),
    ("latin-1 series file", _series("d,\xe9\n1,2\n".encode("latin-1")), "series[0]",
     "not UTF-8"),
    ("series with inf", _series("d\n1\ninf\n2\n3\n"), "series[0] (s.csv):d", "infinite"),
    ("series with nan", _series("d\n1\nnan\n2\n3\n"), "series[0] (s.csv):d", "NaN"),
    ("series of true/false", _series("d\ntrue\nfalse\ntrue\ntrue\n"), "series[0] (s.csv):d",
     "booleans are not numbers"),
    ("series mixed UTC offsets",
     _series("time,d\n2026-07-15 00:00+08:00,1\n2026-07-15 01:00+00:00,1\n"),
     "series[0]:time", "different UTC offsets"),
    ("series bad timestamp", _series("time,d\nnot-a-time,1\n"), "series[0]:time",
     "cannot be parsed"),
    # size
    ("horizon of 10^7 periods", _yaml(_set("horizon.periods", 10_000_000)), "horizon.periods",
     "above the limit"),
    # references and context
    ("corridor to a node without a site", _yaml(_siteless_corridor), "corridors[0].to_node",
     "corridor 'hm_cq' delivers to node 'n2', which has no site"),
    ("contract at a node without a site", _yaml(_siteless_contract), "green_contracts[0].node",
     "contract 'gc' delivers to node 'n2', which has no site"),
    ("name with a space", _yaml(_set("sites.0.name", "chong qing")), "sites[0].name",
     "names are labels"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("maker", "field", "fragment"),
    [pytest.param(m, f, t, id=i) for i, m, f, t in CATALOGUE],
)
def test_bad_input_catalogue(tmp_path, maker, field, fragment):
    folder = tmp_path / "project" / "scenario"
    folder.mkdir(parents=True)
    path = maker(folder)
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(path)
    assert time.perf_counter() - start < 60  # a blow-up guard (hours), not a speed budget
    problems = info.value.problems
    matches = [p for p in problems if p.field == field]
    assert matches, f"no problem for {field}; got {[str(p) for p in problems]}"
    assert any(fragment in p.message or fragment in p.value for p in matches), [
        str(p) for p in matches
    ]
    text = str(info.value)
    assert len(text) < 5000  # small and quick, whatever the input
    assert "secret" not in text  # a file outside the folder is never echoed


def test_catalogue_lines():
    """The catalogue as the closing note lists it: one line per bad input."""
    lines = [f"{i}: {f} - {t}" for i, _, f, t in CATALOGUE]
    assert len(lines) == len({i for i, *_ in CATALOGUE}) >= 30


def test_billion_laughs_in_python_input_is_quoted_short_and_fast():
    """A shared structure of 10^9 leaves (Python input) under an unknown key: a short quote."""
    laugh: object = ["lol"] * 10
    for _ in range(8):
        laugh = [laugh] * 10
    config = _config()
    config["bogus"] = laugh
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(config)
    assert time.perf_counter() - start < 60  # a blow-up guard (hours), not a speed budget
    problem = next(p for p in info.value.problems if p.field == "bogus")
    assert "unknown key" in problem.message and len(str(info.value)) < 2000


def test_nan_in_python_input_and_dataframe():
    import numpy as np
    import pandas as pd

    config = _config(_set("nodes.0.tariff", np.float64("nan")))
    config["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    series = pd.DataFrame({"d": [1.0, np.inf, 1.0, 1.0]})
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(copy.deepcopy(config), series=series)
    fields = {p.field for p in info.value.problems}
    assert {"nodes[0].tariff", "series (DataFrame):d"} <= fields


def test_size_limit_is_configurable(monkeypatch):
    config = _config(_set("horizon.periods", 100))
    suandian.load_scenario(copy.deepcopy(config))
    with pytest.raises(ScenarioError, match="above the limit of 50"):
        suandian.load_scenario(copy.deepcopy(config), max_columns=50)
    monkeypatch.setenv("SUANDIAN_MAX_COLUMNS", "50")
    with pytest.raises(ScenarioError, match="SUANDIAN_MAX_COLUMNS"):
        suandian.load_scenario(copy.deepcopy(config))
    suandian.load_scenario(copy.deepcopy(config), max_columns=10_000)


def test_refusing_a_huge_horizon_is_fast():
    config = _config(_set("horizon.periods", 10_000_000))
    config["series"] = ["missing.csv"]
    start = time.perf_counter()
    with pytest.raises(ScenarioError):
        suandian.load_scenario(config)
    assert time.perf_counter() - start < 60  # a blow-up guard (hours), not a speed budget


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths")
def test_absolute_series_path_outside_refused(tmp_path):
    folder = tmp_path / "project" / "scenario"
    folder.mkdir(parents=True)
    secret = tmp_path / "secret.csv"
    secret.write_text("secret_column\n1\n2\n3\n4\n", encoding="utf-8")
    path = _series(None, name=str(secret))(folder)
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(path)
    problem = next(p for p in info.value.problems if p.field == "series[0]")
    assert "absolute path refused" in problem.message
    assert "secret_column" not in str(info.value)
    # inside the folder, an absolute path is fine
    inside = folder / "d.csv"
    inside.write_text("d\n1\n2\n3\n4\n", encoding="utf-8")
    suandian.load_scenario(_series(None, name=str(inside))(folder))
