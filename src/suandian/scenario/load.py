"""Loading and validating scenarios: YAML files or Python objects -> :class:`Scenario`.

Validation runs every check and raises one :class:`ScenarioError` listing all problems.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from . import schema
from .errors import Problem, ScenarioError
from .scenario import Scenario
from .series import align_series, horizon_index, read_series_file

_HINTS = {
    "greater_than_equal": "use a value >= {ge}",
    "greater_than": "use a value > {gt}",
    "less_than_equal": "use a value <= {le}",
    "less_than": "use a value < {lt}",
    "missing": "add this required field",
    "literal_error": "use one of the allowed values",
    "too_short": "give at least one entry",
}


def load_scenario(
    source: str | Path | Mapping[str, Any],
    series: pd.DataFrame | None = None,
    base_dir: str | Path | None = None,
) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    source : str, Path or mapping
        A YAML file, or the scenario as a dict / :class:`~suandian.scenario.schema.ScenarioConfig`.
    series : pandas.DataFrame, optional
        Extra time series, one column per series; indexed by timestamp (aligned to the horizon)
        or positional with exactly ``horizon.periods`` rows.
    base_dir : str or Path, optional
        Directory that relative ``series:`` file paths start from; default: the YAML file's
        directory, or the working directory for dicts.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        listing every problem found, each with its field, value and fix.
    """
    label = "scenario"
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = str(path)
        if not path.exists():
            raise ScenarioError(
                [Problem("scenario", str(path), "file not found; check the path")], label
            )
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problem = Problem("scenario", str(path), f"invalid YAML: {exc}")
            raise ScenarioError([problem], label) from None
        base = Path(base_dir) if base_dir is not None else path.parent
    elif isinstance(source, BaseModel):
        raw = source.model_dump(mode="python", exclude_unset=False)
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        raw = dict(source)
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    if not isinstance(raw, dict):
        raise ScenarioError(
            [Problem("scenario", type(raw).__name__, "the top level must be a mapping of keys")],
            label,
        )

    problems: list[Problem] = []
    config: schema.ScenarioConfig | None = None
    try:
        config = schema.ScenarioConfig.model_validate(raw)
    except ValidationError as exc:
        problems += [_from_pydantic(err) for err in exc.errors()]
    problems += check_references(raw)

    # series files are checked even when other fields are wrong, so all problems come at once
    horizon, files = _horizon_and_files(config, raw)
    table: pd.DataFrame | None = None
    if horizon is not None:
        table, series_problems = _load_series(horizon, files, series, base)
        problems += series_problems
    if config is not None and table is not None and not problems:
        scenario = Scenario(config, table, base)
        problems += scenario.check()
        if not problems:
            return scenario
    raise ScenarioError(problems, label)


def validate_scenario(
    source: str | Path | Mapping[str, Any], series: pd.DataFrame | None = None
) -> list[Problem]:
    """Return the list of problems of a scenario (empty when it is valid)."""
    try:
        load_scenario(source, series)
    except ScenarioError as exc:
        return exc.problems
    return []


def _from_pydantic(err: Mapping[str, Any]) -> Problem:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
    field = _path(loc)
    value = _short(err.get("input"))
    kind = err["type"]
    message = err["msg"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(key, _ALL_FIELDS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        message = f"unknown key; {hint}remove it or fix its spelling"
        value = key
    elif kind in _HINTS:
        hint = _HINTS[kind].format(**(err.get("ctx") or {}))
        message = f"{message}; fix: {hint}"
        if loc and str(loc[-1]).startswith("eta"):
            message += " (efficiencies are fractions: 95 % is written 0.95)"
    return Problem(field, value, message)


def _path(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "scenario"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _collect_fields() -> list[str]:
    names: set[str] = set()
    for obj in vars(schema).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            names.update(obj.model_fields)
    return sorted(names)


_ALL_FIELDS = _collect_fields()
# pydantic inserts the union member's type into locations ("float", "str", ...): drop them
_UNION_TAGS = {"float", "str", "int", "datetime", "TimeOfUse", "function-after[_bands_priced()]"}


#: fields that name a grid node, in any section
NODE_FIELDS = ("node", "from_node", "to_node")


def check_references(raw: Mapping[str, Any]) -> list[Problem]:
    """Check that names refer to declared nodes and sites (works on the raw mapping)."""
    problems: list[Problem] = []

    def names(key: str) -> list[str]:
        items = raw.get(key) or []
        return [i.get("name") for i in items if isinstance(i, Mapping) and i.get("name")]

    def check_unique(key: str) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names(key)):
            if name in seen:
                problems.append(
                    Problem(f"{key}[{i}].name", repr(name), "duplicate name; names must be unique")
                )
            seen.add(name)

    # every section that is a list of named items (any family's, present or future)
    sections = [
        key
        for key, value in raw.items()
        if isinstance(value, list) and any(isinstance(i, Mapping) and "name" in i for i in value)
    ]
    for key in sections:
        check_unique(key)
    nodes, sites = names("nodes"), names("sites")

    def check(value: Any, known: list[str], field: str, kind: str) -> None:
        if isinstance(value, str) and value not in known:
            close = difflib.get_close_matches(value, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                Problem(
                    field,
                    repr(value),
                    f"unknown {kind}; {hint}use one of the {kind}s declared under "
                    f"'{kind}s': {', '.join(known) or '(none)'}",
                )
            )

    # references by convention: fields node / from_node / to_node name a node, site a
    # site, sites a list of sites — in every section, so a new family is checked too
    for key in sections:
        for i, item in enumerate(raw.get(key) or []):
            if not isinstance(item, Mapping):
                continue
            for field in NODE_FIELDS:
                if field in item and key != "nodes":
                    check(item.get(field), nodes, f"{key}[{i}].{field}", "node")
            if "site" in item:
                check(item.get("site"), sites, f"{key}[{i}].site", "site")
            if isinstance(item.get("sites"), list):
                for j, site in enumerate(item["sites"]):
                    check(site, sites, f"{key}[{i}].sites[{j}]", "site")
    return problems


def _horizon_and_files(
    config: schema.ScenarioConfig | None, raw: Mapping[str, Any]
) -> tuple[schema.Horizon | None, list[str]]:
    """The horizon and series files, from the config or, if it failed, the raw mapping."""
    if config is not None:
        return config.horizon, config.series
    try:
        horizon = schema.Horizon.model_validate(raw.get("horizon"))
    except ValidationError:
        return None, []
    files = raw.get("series") or []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return horizon, []
    return horizon, files


def _load_series(
    horizon: schema.Horizon, files: list[str], extra: pd.DataFrame | None, base: Path
) -> tuple[pd.DataFrame | None, list[Problem]]:
    index = horizon_index(horizon.start, horizon.periods, horizon.resolution)
    problems: list[Problem] = []
    tables: list[pd.DataFrame] = []
    sources: dict[str, str] = {}
    inputs: list[tuple[str, pd.DataFrame | None]] = []
    for i, file in enumerate(files):
        frame, found = read_series_file(base / file, f"series[{i}]")
        problems += found
        inputs.append((f"series[{i}] ({file})", frame))
    if extra is not None:
        inputs.append(("series (DataFrame)", extra.copy()))
    for label, frame in inputs:
        if frame is None:
            continue
        aligned, found = align_series(frame, index, horizon.upsample, label)
        problems += found
        if aligned is None:
            continue
        for column in aligned.columns:
            if column in sources:
                problems.append(
                    Problem(
                        f"{label}:{column}",
                        repr(column),
                        f"series name also defined in {sources[column]}; rename one of them",
                    )
                )
            sources[column] = label
        tables.append(aligned.loc[:, ~aligned.columns.duplicated()])
    if problems:
        return None, problems
    table = pd.concat(tables, axis=1) if tables else pd.DataFrame(index=index)
    table = table.loc[:, ~table.columns.duplicated()]
    return table, []
