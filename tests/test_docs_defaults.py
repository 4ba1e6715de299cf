"""Defaults stated in the docs' prose and in the schema's descriptions match the schema's.

The field tables of the docs (``{schema-table}``, ``docs/_ext/suandian_docs.py``) print each
field's default from the pydantic model, so they cannot drift. Prose can: a page that says
"`interactive[].max_utilization` (default 1)" goes stale when the code's default changes.
This test reads every default stated in the docs and in the field descriptions and compares
it with the schema (``suandian.scenario.schema.config_model()``, which includes the sections
the components declare).

**The convention** (``docs/add-a-component.md``, "Stating a default in prose"). A default is
stated with the field's full scenario path in backticks, in one of two forms:

* ```path` (default VALUE`` or ```path`, default VALUE`` (also ``(the default VALUE``,
  ``default: VALUE``);
* ```path: VALUE` (the default`` or ```path: VALUE` (default``.

``path`` is the YAML path from the top of the scenario: ``policies.pue.basis``,
``interactive[].max_utilization`` (``[]``: an item of a list), ``policies.pue.year.<site>.
it_to_date_mwh`` (``<...>``: a key of a mapping). VALUE is compared with the field's default:

* a number with a number (``1`` matches ``1.0``; a number followed by an operator, as in
  ``10 × the peak``, is an expression, not a literal);
* ``true`` / ``false`` with a boolean; ``null`` / ``none`` with no default (``None``);
* a word or a backticked token with a text default (``horizon``, ```nearest```); a backticked
  YAML literal with a list or mapping default (```[]```);
* anything else (``the grid factor``, ``$\\beta_s$``, ```capacity``` on a number field)
  describes a default **derived** from other fields: the schema's default must then be
  ``None`` (filled in by the code).

A backticked name without ``.`` or ``[]`` that is not a top-level field (``basis: horizon``
on a page about one policy) cannot be resolved without the page's context and is not checked:
write the full path to have it checked. A full path that does not resolve fails (a renamed
field). The field descriptions follow the same value rules, with the forms
``default: VALUE``, ``default VALUE`` and ``VALUE by default``.
"""

from __future__ import annotations

import copy
import math
import re
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from suandian.scenario import schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

_PATH = r"[A-Za-z_][\w.\[\]<>-]*"
#: ``path` (default VALUE  /  `path`, default VALUE  (the default / default: also accepted)
_FORM_A = re.compile(
    rf"`(?P<path>{_PATH})`(?:\s*\(|,\s*)(?:the\s+)?default(?::\s*|\s+)(?P<value>[^;,)\n|]+)"
)
#: `path: VALUE` (the default  /  `path: VALUE` (default
_FORM_B = re.compile(rf"`(?P<path>{_PATH}):\s*(?P<value>[^`]+)`\s*\((?:the\s+)?default\b")
#: in a field's description: default: VALUE / default VALUE / VALUE by default
_DESC = re.compile(r"(?<!')(?<!by )\bdefault(?::\s*|\s+)(?P<value>[^;,)]+)")
_DESC_BY = re.compile(r"(?P<value>[\w.`'-]+) by default\b")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
_OPERATOR = re.compile(r"\s*(?:[x×*/+−-]|÷)\s")


@dataclass(frozen=True)
class Stated:
    """A default stated in the docs: where, the field's path and the text of the value."""

    where: str
    path: str
    value: str


def doc_pages() -> list[Path]:
    """Every source page of the docs (not build output)."""
    return sorted(
        p
        for p in DOCS.rglob("*.md")
        if not any(part.startswith("_") or part == "jupyter_execute" for part in p.parts)
    )


def _outside_fences(text: str) -> list[tuple[int, str]]:
    """Numbered lines of a MyST page outside fenced blocks (code examples are not prose)."""
    out, fence = [], ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if fence:
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = ""
            continue
        opening = re.match(r"(`{3,}|~{3,}|:{3,})", stripped)
        if opening:
            fence = opening.group(1)
            continue
        out.append((number, line))
    return out


def stated_defaults(text: str, where: str = "") -> list[Stated]:
    """The defaults a page states by the convention (both forms), in page order."""
    found = []
    for number, line in _outside_fences(text):
        for form in (_FORM_A, _FORM_B):
            for m in form.finditer(line):
                found.append(Stated(f"{where}:{number}", m["path"], m["value"].strip()))
    return found


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic models named in a field's annotation (through lists, unions, mappings)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def resolve(path: str, config: type[BaseModel] | None = None):
    """The pydantic field at a scenario path (``nodes[].grid_cfe``), or None if none is there.

    ``[]`` steps into a list's items, a ``<...>`` segment into a mapping's values.
    """
    model = config or schema.config_model()
    field = None
    for segment in path.split("."):
        if segment.startswith("<") and segment.endswith(">"):
            if field is None:
                return None
            inner = _models_in(field.annotation)
            if not inner:
                return None
            model, field = inner[0], None
            continue
        if field is not None:
            inner = _models_in(field.annotation)
            if not inner:
                return None
            model = inner[0]
        name = segment.removesuffix("[]")
        field = model.model_fields.get(name)
        if field is None:
            return None
    return field


def _default(field):
    """The field's default value; ``PydanticUndefined`` when it is required."""
    if field.default_factory is not None:
        return field.default_factory()
    return field.default


def mismatch(value: str, default) -> str | None:
    """Why the stated ``value`` does not describe the schema's ``default`` (None: it does)."""
    text = value.strip()
    ticked = re.fullmatch(r"`([^`]*)`.*", text)
    token = ticked.group(1) if ticked else text.split()[0] if text.split() else ""
    token = token.strip("'\"").rstrip(".:")
    number = _NUMBER.match(token)
    literal_number = (
        number is not None
        and number.end() == len(token)
        and not _OPERATOR.match(text[len(token) + (2 if ticked else 0) :])
    )
    if default is PydanticUndefined:
        return "the field is required: it has no default"
    if default is None:
        if token.lower() in ("null", "none"):
            return None
        if literal_number or token.lower() in ("true", "false"):
            return f"states the literal {token}, but the schema's default is null (derived)"
        return None  # a derived default, described in words or math
    if isinstance(default, bool):
        if token.lower() in ("true", "false") and (token.lower() == "true") == default:
            return None
        return f"states {value!r}, the schema's default is {str(default).lower()}"
    if isinstance(default, int | float):
        if literal_number and math.isclose(float(token), float(default), rel_tol=1e-12):
            return None
        return f"states {value!r}, the schema's default is {default:g}"
    if isinstance(default, str):
        if token == default:
            return None
        return f"states {value!r}, the schema's default is {default!r}"
    if ticked:
        try:
            if yaml.safe_load(ticked.group(1)) == default:
                return None
        except yaml.YAMLError:
            pass
    return f"states {value!r}, the schema's default is {default!r}"


def check_page(text: str, where: str = "page") -> tuple[list[str], int]:
    """Problems of a page's stated defaults, and how many statements were checked."""
    config = schema.config_model()
    problems, checked = [], 0
    for st in stated_defaults(text, where):
        if "." not in st.path and "[]" not in st.path and st.path not in config.model_fields:
            continue  # a bare name: needs the page's context, not checked
        field = resolve(st.path, config)
        if field is None:
            problems.append(f"{st.where}: `{st.path}` is not a field of the scenario schema")
            continue
        checked += 1
        why = mismatch(st.value, _default(field))
        if why:
            problems.append(f"{st.where}: `{st.path}` {why}")
    return problems, checked


def schema_fields() -> list[tuple[str, object]]:
    """Every field of every scenario model, as ``(Model.field, FieldInfo)``."""
    found: list[type[BaseModel]] = []

    def walk(annotation) -> None:
        for model in _models_in(annotation):
            if model not in found:
                found.append(model)
                for f in model.model_fields.values():
                    walk(f.annotation)

    walk(schema.config_model())
    return [(f"{m.__name__}.{n}", f) for m in found for n, f in m.model_fields.items()]


def description_problems(fields) -> tuple[list[str], int]:
    """Problems of the defaults the fields' descriptions state, and how many were checked."""
    problems, checked = [], 0
    for name, field in fields:
        doc = field.description or ""
        for m in [*_DESC.finditer(doc), *_DESC_BY.finditer(doc)]:
            checked += 1
            why = mismatch(m["value"], _default(field))
            if why:
                problems.append(f"{name}: description {why}")
    return problems, checked


# ---------------------------------------------------------------------------------------------


def test_docs_pages_state_the_schema_defaults():
    problems, checked = [], 0
    for page in doc_pages():
        p, n = check_page(page.read_text(encoding="utf-8"), str(page.relative_to(ROOT)))
        problems += p
        checked += n
    assert not problems, "defaults stated in the docs differ from the schema:\n" + "\n".join(
        problems
    )
    assert checked >= 15, f"only {checked} stated defaults found: is the convention parsed?"


def test_known_statements_are_found():
    """The parser sees the statements the pages are known to make (so it cannot go blind)."""
    found = {
        (page.name, st.path)
        for page in doc_pages()
        for st in stated_defaults(page.read_text(encoding="utf-8"))
    }
    for expected in [
        ("pue_cap.md", "policies.pue.cap"),
        ("pue_cap.md", "policies.pue.basis"),
        ("green_share.md", "policies.green_share.basis"),
        ("green_share.md", "policies.green_share.target"),
        ("datacenter.md", "interactive[].max_utilization"),
        ("accounting.md", "nodes[].grid_cfe"),
    ]:
        assert expected in found, expected


def test_schema_descriptions_state_the_schema_defaults():
    problems, checked = description_problems(schema_fields())
    assert not problems, "\n".join(problems)
    assert checked >= 10


def test_a_default_changed_in_one_place_fails():
    """A fabricated page and field: each mismatch is caught, each match passes.

    By hand: the schema says ``max_utilization`` 1.0, ``policies.pue.basis`` 'horizon',
    ``policies.pue.cap`` 1.25, ``sites[].design_it`` None (derived), ``nodes[].grid_cfe`` 0.0.
    The page below states 1, horizon, 1.25, a formula and 0 -> no problem; then each is
    changed on the page only (0.7, year, 1.2, a number, 0.3) -> one problem each. A renamed
    path fails, a bare name is skipped.
    """
    good = (
        "`interactive[].max_utilization` (default 1) and "
        "`policies.pue.basis: horizon` (the default); `policies.pue.cap` (default 1.25 for "
        "2026), `sites[].design_it` (default $P^{on} + K(\\alpha + \\beta C)$), "
        "`nodes[].grid_cfe`, default 0.\n"
        "```yaml\n`policies.pue.cap` (default 9.9)  # inside a fence: an example, not prose\n```\n"
        "`basis: year` (the default) is a bare name: not checked."
    )
    problems, checked = check_page(good, "fabricated.md")
    assert problems == [] and checked == 5
    for old, new, path in [
        ("(default 1)", "(default 0.7)", "interactive[].max_utilization"),
        ("`policies.pue.basis: horizon`", "`policies.pue.basis: year`", "policies.pue.basis"),
        ("(default 1.25 for", "(default 1.2 for", "policies.pue.cap"),
        ("(default $P^{on} + K(\\alpha + \\beta C)$)", "(default 51.35)", "sites[].design_it"),
        ("default 0.", "default 0.3.", "nodes[].grid_cfe"),
        ("`nodes[].grid_cfe`", "`nodes[].grid_cfe_share`", "nodes[].grid_cfe_share"),
    ]:
        assert old in good
        problems, _ = check_page(good.replace(old, new), "fabricated.md")
        assert len(problems) == 1 and f"`{path}`" in problems[0], (new, problems)

    # the other place: the schema's default changes, the page does not
    field = resolve("interactive[].max_utilization")
    changed = copy.copy(field)
    changed.default = 0.7
    assert mismatch("1", _default(field)) is None
    assert mismatch("1", _default(changed)) is not None


def test_a_description_stating_another_default_fails():
    """Descriptions: '0 by default' on a field whose default is 0.5, a number on a derived one."""
    from pydantic.fields import FieldInfo

    fields = [
        ("F.a", FieldInfo(default=0.0, description="credit; 0 by default (no credit)")),
        ("F.b", FieldInfo(default=None, description="MW; default: capacity")),
        ("F.c", FieldInfo(default=1.0, description="weight; default 1")),
        ("F.d", FieldInfo(default=None, description="MW; default: 10 x the peak")),
    ]
    assert description_problems(fields) == ([], 4)
    fields[0] = ("F.a", FieldInfo(default=0.5, description="credit; 0 by default (no credit)"))
    fields[1] = ("F.b", FieldInfo(default=None, description="MW; default: 10"))
    problems, _ = description_problems(fields)
    assert [p.split(":")[0] for p in problems] == ["F.a", "F.b"]


@pytest.mark.parametrize(
    "path", ["policies.pue.year.<site>.it_to_date_mwh", "sites[].cooling.liquid_fraction"]
)
def test_nested_paths_resolve(path):
    assert resolve(path) is not None
