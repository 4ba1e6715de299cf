"""Loading and validating scenarios: YAML files or Python objects -> :class:`Scenario`.

Validation runs every check and raises one :class:`ScenarioError` listing all problems.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import reprlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from .. import sizing
from ..catalogue import every
from ..component import Component
from . import schema
from .errors import Problem, ScenarioError
from .scenario import Scenario
from .series import (
    align_series,
    data_roots_for,
    history_rows,
    horizon_index,
    read_series_file,
    resolve_series_path,
)
from .validation import _percent, check_scenario, section_of

#: Largest model accepted, in estimated columns (decision variables); above it
#: :func:`load_scenario` refuses the scenario before allocating anything per period.
#: Override with ``load_scenario(..., max_columns=N)`` or the environment variable
#: ``SUANDIAN_MAX_COLUMNS``.
MAX_COLUMNS = 5_000_000
#: Largest scenario YAML file read, in bytes.
MAX_YAML_BYTES = 20_000_000
#: Most alias references (``*name``) in one YAML document.
MAX_ALIASES = 1_000
#: Most YAML nodes a document may expand to once its aliases are followed.
MAX_YAML_NODES = 1_000_000
#: Deepest nesting of YAML collections.
MAX_YAML_DEPTH = 100

_HINTS = {
    "greater_than_equal": "use a value >= {ge}",
    "greater_than": "use a value > {gt}",
    "less_than_equal": "use a value <= {le}",
    "less_than": "use a value < {lt}",
    "missing": "add this required field",
    "literal_error": "use one of the allowed values",
    "too_short": "give at least one entry",
    "string_pattern_mismatch": "names are labels: letters (any script), digits, '_', '.' "
    "and '-', no spaces; e.g. 'chongqing_1' or '重庆'",
    "string_too_long": "use a shorter name",
    "finite_number": "write a finite number",
}


class SafeLoader(yaml.SafeLoader):
    """A :class:`yaml.SafeLoader` for untrusted scenario files.

    Rejects duplicate keys in a mapping (YAML would silently keep the last one), more than
    :data:`MAX_ALIASES` alias references, documents that expand to more than
    :data:`MAX_YAML_NODES` nodes once aliases are followed ("billion laughs") and nesting
    deeper than :data:`MAX_YAML_DEPTH`. Errors are :class:`yaml.YAMLError` with a line.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose a node, counting alias references and the nesting depth."""
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"more than {MAX_ALIASES} alias references (*name); "
                    "write the values out or use fewer aliases",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nesting deeper than {MAX_YAML_DEPTH} levels; flatten the document",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        """Compose the document and refuse it if its aliases expand too far."""
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """Construct a mapping, refusing a key given twice (merge keys ``<<`` excepted)."""
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                try:
                    if key in first:
                        raise yaml.constructor.ConstructorError(
                            None,
                            None,
                            f"duplicate key '{_cut(str(key), 60)}' (first at line {first[key]}, "
                            f"again at line {line}); YAML would keep only the last one: "
                            "keep one of them",
                            key_node.start_mark,
                        )
                    first[key] = line
                except TypeError:  # unhashable key: reported by the constructor
                    continue
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: Any) -> None:
    """Refuse a node graph whose aliases expand to more than MAX_YAML_NODES nodes."""
    sizes: dict[int, int] = {}
    # iterative post-order walk; shared nodes (aliases) are sized once
    stack: list[tuple[Any, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"the document expands to more than {MAX_YAML_NODES} values once its "
                    "aliases (*name) are followed; write the values out or use fewer aliases",
                    node.start_mark,
                )
            continue
        if key in sizes:
            continue
        if key in active:
            raise yaml.composer.ComposerError(
                None, None, "recursive alias (a value that contains itself)", node.start_mark
            )
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def read_yaml(path: Path) -> tuple[Any, list[Problem]]:
    """Read a scenario YAML file with :class:`SafeLoader`; problems instead of exceptions."""
    label = str(path)

    def problem(message: str) -> tuple[None, list[Problem]]:
        return None, [Problem("scenario", _cut(label, 200), message)]

    if not path.exists():
        return problem("file not found; check the path")
    if path.is_dir():
        return problem("is a directory, not a file; give the scenario's YAML file")
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            return problem(
                f"file of {size} bytes, above the {MAX_YAML_BYTES} bytes read for a scenario; "
                "put long data in series CSV files"
            )
        data = path.read_bytes()
    except OSError as exc:
        return problem(f"cannot be read ({exc.strerror or type(exc).__name__}); check it")
    if not data.strip():
        return problem("the file is empty; write the scenario (horizon, nodes, sites, ...)")
    if b"\0" in data[:8192]:
        return problem("binary file, not YAML text; give the scenario's YAML file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return problem(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); "
            "save the file as UTF-8"
        )
    try:
        raw = yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        return problem(f"invalid YAML: {_cut(str(exc), 400)}")
    except RecursionError:
        return problem(f"invalid YAML: nesting too deep (more than {MAX_YAML_DEPTH} levels)")
    if raw is None:
        return problem("the file holds no data (only comments?); write the scenario")
    return raw, []


def load_scenario(
    source: str | Path | Mapping[str, Any],
    series: pd.DataFrame | None = None,
    base_dir: str | Path | None = None,
    *,
    max_columns: int | None = None,
    data_roots: Sequence[str | Path] = (),
    history: pd.DataFrame | None = None,
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
        directory, or the working directory for dicts. Series files must lie inside it (or
        inside one of ``data_roots``); absolute paths, ``..`` and symlinks leading out are
        refused.
    max_columns : int, optional
        Refuse scenarios whose estimated model size exceeds this many columns; default:
        the environment variable ``SUANDIAN_MAX_COLUMNS``, else :data:`MAX_COLUMNS`.
    data_roots : sequence of str or Path, optional
        Further folders series files may be read from.
    history : pandas.DataFrame, optional
        Rows before the horizon, indexed by timestamp, one column per series (a meter's
        history): kept with the rows before the horizon of the time-indexed series files and
        ``series`` as :attr:`Scenario.history`, for the rules that look back (the DR baseline
        ``previous_days``).

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
        raw, found = read_yaml(path)
        if found:
            raise ScenarioError(found, label)
        base = Path(base_dir) if base_dir is not None else path.parent
    elif isinstance(source, BaseModel):
        raw = source.model_dump(mode="python", exclude_unset=False)
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    elif isinstance(source, Mapping):
        raw = dict(source)
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        raw = source
        base = Path.cwd()
    if not isinstance(raw, dict):
        raise ScenarioError(
            [
                Problem(
                    "scenario",
                    type(raw).__name__,
                    "the top level must be a mapping of keys (horizon:, nodes:, sites:, ...)",
                )
            ],
            label,
        )

    # stage 1: numbers and booleans, schema, references, model size
    problems = check_values(raw)
    flagged = {p.field for p in problems}
    config: schema.ScenarioConfig | None = None
    partial: schema.ScenarioConfig | None = None
    valid: set[str] = set()
    try:
        config = partial = schema.config_model().model_validate(raw)
        valid = set(schema.config_model().model_fields)
    except ValidationError as exc:
        errors = _one_per_union(exc.errors())
        problems += [p for p in (_from_pydantic(err) for err in errors) if p.field not in flagged]
        partial, valid = valid_sections(raw, errors)
    except RecursionError:
        problems.append(Problem("scenario", "...", "nested too deeply; flatten the data"))
    references = check_references(raw)
    problems += references
    horizon, files = _horizon_and_files(config, raw)
    if horizon is not None:
        size = check_size(config, raw, horizon.periods, max_columns)
        if size:  # refuse before anything is allocated per period
            raise ScenarioError(problems + size, label)

    # stage 2: series files, checked even when other fields are wrong (all problems at once)
    table: pd.DataFrame | None = None
    past: pd.DataFrame | None = None
    complete = False
    if horizon is not None:
        roots = data_roots_for(base, data_roots)
        table, past, series_problems = _load_series(horizon, files, series, base, roots, history)
        complete = not series_problems and "series" in valid
        problems += series_problems
    # stage 3: checks that need the series (the shared walker over series references, then
    # each component's validate hook), on every section that passed the schema
    if partial is not None and table is not None and "horizon" in valid:
        scenario = Scenario(partial, table, base, past)
        broken = {section_of(p.field) for p in references}
        problems += check_scenario(scenario, every(), valid, complete, broken)
        if not problems and config is not None:
            return scenario
    raise ScenarioError(problems, label)


def valid_sections(
    raw: Mapping[str, Any], errors: Sequence[Mapping[str, Any]]
) -> tuple[schema.ScenarioConfig | None, set[str]]:
    """The sections that passed the schema, in a configuration of them alone.

    The later checks run on these, so that a schema error in one section does not hide the
    problems of the others. Sections that failed keep their default (an empty list) or,
    when required, are absent (and every component check, which reads them, is skipped).
    A section that is one mapping of parts (``policies``) is split one level further: its
    parts that passed are given as ``policies.pue``.
    """
    if any(not e["loc"] for e in errors):
        return None, set()  # an error of the whole scenario
    config = schema.config_model()
    partial, valid = _valid_fields(config, raw, [e["loc"] for e in errors])
    for name in set(config.model_fields) - valid:
        model = config.model_fields[name].annotation
        value = raw.get(name)
        if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(value, Mapping):
            locs = [e["loc"][1:] for e in errors if e["loc"][0] == name and len(e["loc"]) > 1]
            if len(locs) < sum(1 for e in errors if e["loc"][0] == name):
                continue  # an error of the section as a whole
            part, ok = _valid_fields(model, value, locs)
            object.__setattr__(partial, name, part)
            valid |= {f"{name}.{n}" for n in ok}
    return partial, valid


def _valid_fields(
    model: type[BaseModel], raw: Mapping[str, Any], locs: Sequence[tuple[Any, ...]]
) -> tuple[Any, set[str]]:
    """``model`` built from the fields of ``raw`` without errors (``locs``), and their names."""
    failed = {str(loc[0]) for loc in locs if loc}
    partial = model.model_construct()
    valid: set[str] = set()
    for name, field in model.model_fields.items():
        if name in failed or (name not in raw and field.is_required()):
            continue
        if name in raw:
            try:
                setattr(partial, name, raw[name])  # validated on assignment
            except (ValidationError, RecursionError):
                continue
        valid.add(name)
    return partial, valid


def validate_scenario(
    source: str | Path | Mapping[str, Any], series: pd.DataFrame | None = None
) -> list[Problem]:
    """Return the list of problems of a scenario (empty when it is valid)."""
    try:
        load_scenario(source, series)
    except ScenarioError as exc:
        return exc.problems
    return []


def _one_per_union(errors: Sequence[Mapping[str, Any]], start: int = 0) -> list[Mapping[str, Any]]:
    """The errors of the union member a user most likely meant, once per field.

    Pydantic reports one error per union member (``storage[0].energy`` as a number, then as
    a :class:`~suandian.component.Capacity`; a node's ``network_charge`` as a number, a
    time-of-use table and its parts). Per union, the member kept is the one with the fewest
    errors among those that accepted the value's shape (a table given as a table, not "not a
    number"); with none, the first member, as before. Its errors are read the same way (a
    union inside it), then each field is reported once.
    """
    groups: dict[tuple[Any, ...], dict[Any, list[Mapping[str, Any]]]] = {}
    order: list[tuple[str, Any]] = []
    for err in errors:
        loc = err["loc"]
        i = next((j for j in range(start, len(loc)) if _is_tag(loc[j])), None)
        if i is None:
            order.append(("plain", err))
            continue
        prefix = tuple(loc[:i])
        if prefix not in groups:
            groups[prefix] = {}
            order.append(("union", prefix))
        groups[prefix].setdefault(loc[i], []).append(err)
    picked: list[Mapping[str, Any]] = []
    for kind, item in order:
        if kind == "plain":
            picked.append(item)
            continue
        members = groups[item]
        n = len(item)

        def at_root(errs: list[Mapping[str, Any]], n: int = n) -> bool:
            """The member refused the value's type itself, not a field or a rule inside it."""
            return all(
                all(_is_tag(p) for p in e["loc"][n + 1 :])
                and str(e["type"]).endswith(("_type", "_parsing"))
                for e in errs
            )

        fitting = [m for m, errs in members.items() if not at_root(errs)] or list(members)
        inner = {m: _one_per_union(members[m], n + 1) for m in fitting}
        best = min(fitting, key=lambda m: len(inner[m]))  # the first on a tie
        picked += inner[best]
    if start:
        return picked
    seen: set[tuple[Any, ...]] = set()
    out = []
    for err in picked:
        key = tuple(p for p in err["loc"] if not _is_tag(p))
        if key in seen:
            continue
        seen.add(key)
        out.append(err)
    return out


def _is_tag(part: Any) -> bool:
    """Whether a location part is a union member's tag pydantic inserts, not a field name."""
    return isinstance(part, str) and (part in _UNION_TAGS or part.startswith(_TAG_PREFIXES))


def _from_pydantic(err: Mapping[str, Any]) -> Problem:
    loc = [p for p in err["loc"] if not _is_tag(p)]
    field = _path(loc)
    value = _short(err.get("input"))
    kind = err["type"]
    message = _cut(str(err["msg"]), 400)
    raw = err.get("input")
    if kind == "extra_forbidden":
        key = _cut(str(loc[-1]), 60) if loc else ""
        close = difflib.get_close_matches(key, _collect_fields(), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        message = f"unknown key; {hint}remove it or fix its spelling"
        value = key
    elif kind in _HINTS:
        hint = _HINTS[kind].format(**(err.get("ctx") or {}))
        message = f"{message}; fix: {hint}"
        if loc and str(loc[-1]).startswith("eta"):
            message += " (efficiencies are fractions: 95 % is written 0.95)"
    if isinstance(raw, str) and kind in ("float_parsing", "int_parsing"):
        percent = _percent(raw)
        if percent is not None:
            message += f"; fractions are written as numbers: write {percent / 100:g}"
    return Problem(field, value, message)


def _path(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "scenario"


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 60
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 4


def _short(value: Any, limit: int = 60) -> str:
    """A short quotation of a value, at most ``limit`` characters.

    Built by :mod:`reprlib`, which walks at most a few levels and items of a container, so
    a huge (or alias-expanded) structure is never turned into text as a whole.
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - e.g. an int too long to print
        text = f"<{type(value).__name__}>"
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def schema_models() -> list[type[BaseModel]]:
    """The pydantic models of ``schema.py`` and every model reachable from the scenario's fields.

    Reachable models include the sections that components declare in their own modules.
    """
    return _models(schema.config_model())


@functools.cache
def _models(config: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    stack: list[Any] = [config]
    stack += [o for o in vars(schema).values() if isinstance(o, type)]
    while stack:
        annotation = stack.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation is BaseModel or annotation in found:
                continue
            found.append(annotation)
            stack += [f.annotation for f in annotation.model_fields.values()]
        else:
            stack += list(getattr(annotation, "__args__", ()))
    return found


def _collect_fields() -> list[str]:
    return sorted({n for model in schema_models() for n in model.model_fields})


# pydantic inserts the union member's type into locations ("float", "str", ...): drop them
_UNION_TAGS = {
    "float",
    "str",
    "int",
    "datetime",
    "TimeOfUse",
    "function-after[_bands_priced()]",
    "constrained-float",  # a number or a Capacity (NonNeg | Capacity)
    "constrained-int",  # a count or a Capacity (sites[].blocks)
    "Capacity",
    "NetworkCharge",
}
#: tags of union members with a validator or of a nested union ("union[float,str]")
_TAG_PREFIXES = ("function-after[", "function-before[", "function-wrap[", "union[")


#: fields that name a grid node, in any section
NODE_FIELDS = ("node", "from_node", "to_node")


def check_references(raw: Mapping[str, Any]) -> list[Problem]:
    """Check that names refer to declared nodes and sites (works on the raw mapping)."""
    problems: list[Problem] = []

    def names(key: str) -> list[str]:
        items = raw.get(key) or []
        return [str(i["name"]) for i in items if isinstance(i, Mapping) and i.get("name")]

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
            if isinstance(item.get("latency_ms"), Mapping):
                for site in item["latency_ms"]:
                    check(site, sites, f"{key}[{i}].latency_ms.{site}", "site")
    return problems


def check_values(raw: Any) -> list[Problem]:
    """Every number finite, and no boolean where a number or a name is expected.

    Walks the raw mapping (YAML or Python input), each shared object once, so an
    alias-expanded structure costs no more than its distinct parts.
    """
    problems: list[Problem] = []
    seen: set[int] = set()
    stack: list[tuple[Any, list[Any]]] = [(raw, [])]
    while stack and len(problems) < 100:
        value, loc = stack.pop()
        if isinstance(value, bool):
            key = loc[-1] if loc else None
            if key not in _bool_fields():
                problems.append(
                    Problem(
                        _path(loc),
                        repr(value),
                        "a yes/no (boolean) value where a number or a name is expected "
                        "(YAML reads yes, no, true, false, on, off as booleans); write a "
                        "number, e.g. 1.0 for 100 %, or quote text ('yes')",
                    )
                )
        elif isinstance(value, float) or _is_real(value):
            try:
                finite = math.isfinite(value)
            except (TypeError, ValueError, OverflowError):
                finite = True
            if not finite:
                problems.append(
                    Problem(
                        _path(loc),
                        _short(value),
                        "not a finite number (NaN or infinity); write a number, or remove "
                        "the field to use its default",
                    )
                )
        elif isinstance(value, (Mapping, list, tuple)):
            if id(value) in seen or len(loc) > MAX_YAML_DEPTH:
                continue
            seen.add(id(value))
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            stack.extend((v, [*loc, k]) for k, v in reversed(list(items)))
    return problems


def _is_real(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, int)


def _bool_fields() -> set[str]:
    return {
        n
        for model in schema_models()
        for n, f in model.model_fields.items()
        if f.annotation is bool
    }


def max_columns_limit(max_columns: int | None = None) -> int:
    """The model-size limit in use: the argument, else ``SUANDIAN_MAX_COLUMNS``, else default."""
    if max_columns is not None:
        return int(max_columns)
    env = os.environ.get("SUANDIAN_MAX_COLUMNS", "").strip().replace("_", "")
    return int(env) if env.isdigit() else MAX_COLUMNS


def estimate_columns(
    config: schema.ScenarioConfig,
    components: Sequence[Component] | None = None,
    policies: Sequence[Component] | None = None,
) -> tuple[int, str]:
    """Estimated number of model columns of a validated scenario, and its largest contributors.

    The sum of the ``estimate`` hooks of the components (default: the registry, the ledger,
    the policies and the registered components; :mod:`suandian.sizing`), counted from the
    configuration alone: the series are not read. Within ±10 % of the columns built for every
    scenario of the test suite and the generated benchmarks (exact for most).
    """
    sc = Scenario(config, pd.DataFrame(), Path.cwd())
    by_component = sizing.estimate(sc, components, policies)
    return sizing.total(by_component), f"largest: {sizing.largest(by_component)}"


def check_size(
    config: schema.ScenarioConfig | None,
    raw: Mapping[str, Any],
    periods: int,
    max_columns: int | None,
) -> list[Problem]:
    """Refuse a scenario whose model would exceed the column limit (before building).

    First a floor that needs no hook: every site has a column ``dc.n_on`` per period, so a
    horizon of ``periods`` x sites above the limit is refused at once (a scenario of 10^7
    periods is refused before any per-period array). Otherwise, once the schema holds, the
    estimate of :func:`estimate_columns`; a scenario that fails the schema is judged by the
    floor alone (it is refused for its schema problems anyway).
    """
    limit = max_columns_limit(max_columns)
    sites = raw.get("sites")
    n_sites = (
        len(config.sites) if config is not None else (len(sites) if isinstance(sites, list) else 0)
    )
    floor = periods * max(n_sites, 1)
    if floor > limit:
        columns, how = floor, f"at least: {max(n_sites, 1)} sites' dc.n_on alone"
    elif config is None:
        return []
    else:
        columns, how = estimate_columns(config)
        if columns <= limit:
            return []
    return [
        Problem(
            "horizon.periods",
            str(periods),
            f"{periods} periods ≈ {columns:,} columns ({how}), above the limit of "
            f"{limit:,}; split the horizon into shorter runs or raise suandian's max_columns "
            "(load_scenario(..., max_columns=N) or the SUANDIAN_MAX_COLUMNS variable)",
        )
    ]


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
    horizon: schema.Horizon,
    files: list[str],
    extra: pd.DataFrame | None,
    base: Path,
    roots: list[Path],
    history: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Problem]]:
    """The series table, its rows before the horizon (the history) and the problems.

    The table of the files and DataFrame that could be read. A time-indexed table whose rows
    all lie before the horizon is history only (not aligned).
    """
    problems: list[Problem] = []
    inputs: list[tuple[str, pd.DataFrame | None]] = []
    for i, file in enumerate(files):
        label = f"series[{i}]"
        path, found = resolve_series_path(file, base, roots, label)
        problems += found
        if path is None:
            continue
        frame, found = read_series_file(path, label, shown=_cut(file, 120))
        problems += found
        inputs.append((f"{label} ({_cut(file, 120)})", frame))
    if extra is not None:
        if isinstance(extra, pd.DataFrame):
            inputs.append(("series (DataFrame)", extra.copy()))
        else:
            problems.append(
                Problem(
                    "series (DataFrame)",
                    type(extra).__name__,
                    "series= must be a pandas DataFrame, one column per series",
                )
            )
    try:
        index = horizon_index(horizon.start, horizon.periods, horizon.resolution)
    except (ValueError, OverflowError) as exc:
        problems.append(
            Problem("horizon", _short(str(horizon.start)), f"horizon cannot be laid out ({exc})")
        )
        return None, None, problems
    tables: list[pd.DataFrame] = []
    sources: dict[str, str] = {}
    pasts: list[pd.DataFrame] = []
    past_sources: dict[str, str] = {}
    if history is not None:
        rows, found = history_rows(history, index, "history (DataFrame)")
        problems += found
        if rows is not None:
            pasts.append(rows)
            past_sources.update(dict.fromkeys(rows.columns, "history (DataFrame)"))
    for label, frame in inputs:
        if frame is None:
            continue
        if isinstance(frame.index, pd.DatetimeIndex):
            rows, found = history_rows(frame, index, label)
            problems += found
            if rows is None:
                continue
            for column in rows.columns:
                if column in past_sources and not rows[column].dropna().empty:
                    problems.append(
                        Problem(
                            f"{label}:{column}",
                            repr(column),
                            f"series name also defined in {past_sources[column]}; rename one "
                            "of them",
                        )
                    )
                past_sources.setdefault(column, label)
            if len(rows):
                pasts.append(rows)
            if len(rows) and len(rows) == len(frame):
                continue  # every row before the horizon: history only
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
    table = pd.concat(tables, axis=1) if tables else pd.DataFrame(index=index)
    table = table.loc[:, ~table.columns.duplicated()]
    past = None
    if pasts:
        past = pd.concat(pasts).sort_index() if len(pasts) > 1 else pasts[0]
        past = past.loc[:, ~past.columns.duplicated()]
    return table, past, problems


def _reload(
    raw: dict[str, Any], series: pd.DataFrame, base_dir: Path, history: pd.DataFrame | None = None
) -> Scenario:
    """Validate a configuration built from a scenario (a window, a state) like a file."""
    return load_scenario(raw, series=series, base_dir=base_dir, history=history)


Scenario._reload = staticmethod(_reload)
