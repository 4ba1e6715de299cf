"""Sphinx helpers of the suandian docs.

* ``{schema-table} ClassName`` renders the fields of a pydantic model of the scenario (name,
  type, default, description with units) as a table, so the docs cannot drift from the code.
  The models are those of :mod:`suandian.scenario.schema` and every model reachable from the
  fields of ``ScenarioConfig``, wherever it is defined (a family may declare its section class
  in its own module); the argument is the class name or, to disambiguate, its dotted path
  (``suandian.components.genset.Genset``). The directive may be used on any page.
* ``{component-table}`` renders the components (families of ``REGISTRY``, the ledger and the
  policies of ``POLICIES``: name, kind, module, math page from the module's ``Math:`` line);
  ``{carrier-table}`` and ``{carrier-matrix}`` the carriers of ``CARRIERS`` (unit, meaning,
  what the books read from them) by the families that write them (``port.<carrier>``
  recorded by each ``FamilyBuilder`` when the default scenario is built), so no table can go
  stale.
* ``{output-dictionary}`` renders the data dictionary of a result: every variable of the
  result Dataset (each component's output table, and the variables the model adds) with its
  dimensions, units, role and description, one table per component, then the index columns
  of the saved tables (:data:`suandian.results.io.DIMENSIONS`). The same attributes go into
  ``result.nc``, the Parquet field metadata and ``csv/columns.csv``.
* In ``cli.md`` the line ``<!-- cli-reference -->`` is replaced at read time by the reference
  of the command line, generated from its argparse parser (:func:`suandian.cli._parser`): per
  command its description, usage, a table of its arguments (name, default, meaning, as
  ``--help`` says them) and its epilog, so the page cannot drift from the parser.
* ``{tutorial-gallery}`` (one page name per line, relative to the page) renders a grid of
  cards, one per tutorial: its title and the first figure it draws when the docs are built
  (a card without a figure when it draws none), each linking to the tutorial. The figures
  are those of the executed notebooks, so the gallery never shows a stale picture.
* In ``data.md`` the line ``<!-- provenance-includes -->`` is replaced at read time by the
  text of ``data/README.md``, ``models/README.md`` and every ``data/*.provenance.md`` that
  exists (headings one level down, links between the notes turned into links to their
  sections, links to repository files into literal paths), so the page picks up provenance
  notes as they are written without broken references.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from pathlib import Path

from docutils import nodes
from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from suandian.scenario import schema

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- provenance-includes -->"
CLI_MARKER = "<!-- cli-reference -->"

#: Descriptions for schema fields that carry none in the code (units stated).
FALLBACK = {
    ("Node", "name"): "node name, referenced by sites, corridors and contracts",
    ("Site", "name"): "site name, referenced by workloads, renewables and storage",
    ("InteractiveWorkload", "name"): "workload name",
    ("BatchJob", "name"): "job name",
    ("Renewable", "name"): "asset name",
    ("Renewable", "site"): "site whose bus the asset feeds",
    ("Renewable", "kind"): "technology label (reporting only)",
    ("Storage", "name"): "battery name",
    ("Storage", "site"): "site whose bus the battery is connected to",
    ("Storage", "eta_charge"): "charge efficiency, fraction in (0, 1]",
    ("Storage", "eta_discharge"): "discharge efficiency, fraction in (0, 1]",
    ("Corridor", "name"): "corridor name",
    ("Corridor", "from_node"): "sending node (e.g. hami)",
    ("Corridor", "to_node"): "receiving node; its sites may take the delivered power",
    ("GreenContract", "name"): "contract name",
    ("GreenContract", "node"): "node whose sites may take the deliveries",
    ("GreenSharePolicy", "target"): "minimum green share φ of electricity consumed, fraction",
    ("GreenSharePolicy", "scope"): "'portfolio': one row over all sites; 'site': one per site",
    ("PuePolicy", "cap"): "energy-weighted PUE cap per site (1.25 for 2026, 1.2 from 2027)",
    ("ScenarioConfig", "name"): "scenario name (results carry it)",
    ("ScenarioConfig", "description"): "free text",
    ("ScenarioConfig", "compute_unit"): "label of the compute unit (default PFLOPS)",
    ("ScenarioConfig", "horizon"): "the planning horizon",
    ("ScenarioConfig", "nodes"): "grid nodes (at least one)",
    ("ScenarioConfig", "sites"): "data centers (at least one)",
    ("ScenarioConfig", "interactive"): "latency-bound workloads",
    ("ScenarioConfig", "batch"): "deferrable jobs",
    ("ScenarioConfig", "renewables"): "on-site / direct-connected renewables",
    ("ScenarioConfig", "storage"): "batteries",
    ("ScenarioConfig", "corridors"): "cross-province green-power purchases",
    ("ScenarioConfig", "green_contracts"): "local green-power contracts",
    ("ScenarioConfig", "certificates"): "unbundled green certificates (off when absent)",
    ("ScenarioConfig", "policies"): "targets",
    ("Policies", "green_share"): "green-share target (null: off)",
    ("Policies", "pue"): "PUE cap (null: off)",
}


def _reachable(annotation, found: list[type[BaseModel]]) -> None:
    """Add the pydantic models named in ``annotation`` and in their fields, recursively."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.append(annotation)
        for field in annotation.model_fields.values():
            _reachable(field.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _reachable(arg, found)


def schema_models() -> dict[str, type[BaseModel]]:
    """The pydantic models of the scenario, by class name and by dotted path.

    The public models defined in :mod:`suandian.scenario.schema` and every model reachable
    from the fields of ``ScenarioConfig`` (a family's section class in its own module).
    A class name shared by two models is only available as a dotted path.
    """
    found: list[type[BaseModel]] = []
    config = schema.config_model()  # ScenarioConfig with the fields components declare
    _reachable(config, found)
    found = [schema.ScenarioConfig if m is config else m for m in found]
    found += [
        obj
        for name, obj in vars(schema).items()
        if isinstance(obj, type)
        and issubclass(obj, BaseModel)
        and not name.startswith("_")
        and obj.__module__ == schema.__name__
        and obj not in found
    ]
    by_name: dict[str, list[type[BaseModel]]] = {}
    for model in found:
        by_name.setdefault(model.__name__, []).append(model)
    out = {f"{m.__module__}.{m.__qualname__}": m for m in found}
    out.update({name: models[0] for name, models in by_name.items() if len(models) == 1})
    out["ScenarioConfig"] = config  # its table lists the declared fields too
    return out


def _constraint_text(metadata) -> str:
    parts = []
    for item in metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value:g}")
        if getattr(item, "min_length", None):
            parts.append(f"min length {item.min_length}")
    return ", ".join(parts)


def type_text(annotation) -> str:
    """A short human name of a field's type (Profile, number >= 0, list of Site, ...)."""
    if annotation in (float | str, str | float):
        return "Profile"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base = type_text(args[0])
        extra = _constraint_text(args[1:])
        if base == "text" and any(getattr(a, "pattern", None) for a in args[1:]):
            return "name"
        return f"{base} ({extra})" if extra else base
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        # float | str | TimeOfUse style unions: keep Profile together
        names = []
        if float in members and str in members:
            names.append("Profile")
            members = [a for a in members if a not in (float, str)]
        names += [type_text(a) for a in members]
        text = " or ".join(names)
        return f"{text} or null" if type(None) in args else text
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is list:
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"mapping {type_text(args[0])} → {type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return {
        float: "number",
        int: "integer",
        str: "text",
        bool: "boolean",
    }.get(annotation, getattr(annotation, "__name__", str(annotation)))


def default_text(field) -> str:
    """The default of a field as text ('required' when none)."""
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return f"{type(value).__name__}()"
        return repr(value)
    if field.default is PydanticUndefined:
        return "required"
    return "null" if field.default is None else repr(field.default)


def _row(cells: list[nodes.Node | str], header: bool = False) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        para = nodes.paragraph()
        para += cell if isinstance(cell, nodes.Node) else nodes.Text(cell)
        entry += para
        row += entry
    return row


class SchemaTable(SphinxDirective):
    """``{schema-table} Site``: table of the fields of a schema model."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        models = schema_models()
        if name not in models:
            raise self.error(
                f"schema-table: no scenario model {name!r} (a class of "
                "suandian.scenario.schema or reachable from ScenarioConfig's fields, by name "
                "or dotted path)"
            )
        model = models[name]
        self.env.note_dependency(schema.__file__)
        self.env.note_dependency(sys.modules[model.__module__].__file__)
        name = model.__name__  # FALLBACK is keyed by class name
        table = nodes.table(classes=["schema-table"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (18, 26, 14, 42):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += _row(["field", "type", "default", "meaning (unit)"])
        group += head
        body = nodes.tbody()
        for fname, field in model.model_fields.items():
            doc = field.description or FALLBACK.get((name, fname), "")
            body += _row(
                [
                    nodes.literal(fname, fname),
                    type_text(field.annotation),
                    nodes.literal(text=default_text(field)),
                    doc,
                ]
            )
        group += body
        return [table]


def _components() -> list:
    from suandian.components import REGISTRY
    from suandian.ledgers import COMPONENT as LEDGER
    from suandian.policies import POLICIES

    return [*REGISTRY, LEDGER, *POLICIES]


def component_rows() -> list[list[str]]:
    """The component table (MyST cells): name, kind, module, math page."""
    rows = []
    for c in _components():
        module = sys.modules[c.build.__module__]
        path = Path(module.__file__).relative_to(Path(sys.modules["suandian"].__file__).parent)
        page = re.search(r"docs/math/([\w-]+\.md)", module.__doc__ or "")
        rows.append(
            [f"`{c.name}`", c.kind, f"`{path.as_posix()}`", f"[]({page.group(1)})" if page else ""]
        )
    return rows


def state_rows() -> list[list[str]]:
    """The state table (MyST cells): component, state field, unit, what it sets."""
    return [
        [f"`{c.name}`", f"`{f.name}`", f.unit, f.doc] for c in _components() for f in c.state_fields
    ]


def carrier_rows(scenario_path: Path | None = None) -> list[list[str]]:
    """The carrier x family matrix (MyST cells), from the ports of the default scenario's build.

    Columns: carrier, unit, carbon-free share (hourly CFE), certificate, emission factor, then
    one per family (``x`` where the family writes the carrier).
    """
    import suandian
    from suandian.component import CARRIERS
    from suandian.components import REGISTRY

    path = scenario_path or Path(__file__).resolve().parents[2] / "models/chongqing_hami_day.yaml"
    model = suandian.build_model(suandian.load_scenario(path), pyomo=False)
    families = [c.name for c in REGISTRY]
    writes = {b: model.built.builders[b].names for b in families if b in model.built.builders}
    rows = []
    for c in CARRIERS.values():
        share = "" if c.carbon_free is None else f"`{c.carbon_free}`"
        unit = c.unit + (" (horizon part)" if c.horizon else "")
        cells = [f"`{c.name}`", unit, share, "yes" if c.certificate else "", c.emission_factor]
        cells += ["x" if f"port.{c.name}" in writes.get(b, ()) else "" for b in families]
        rows.append(cells)
    return rows


def _markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


class _GeneratedTable(SphinxDirective):
    """A table generated as MyST markdown and parsed in place (links resolve as on the page)."""

    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        from docutils.statemachine import StringList

        container = nodes.container()
        self.state.nested_parse(StringList(self.lines()), self.content_offset, container)
        return list(container.children)


class ComponentTable(_GeneratedTable):
    """``{component-table}``: every component of the registries."""

    def lines(self) -> list[str]:
        return _markdown(["component", "kind", "module", "page"], component_rows())


class CarrierTable(_GeneratedTable):
    """``{carrier-table}``: every carrier of ``CARRIERS``, its unit and meaning."""

    def lines(self) -> list[str]:
        from suandian.component import CARRIERS

        rows = [[f"`{c.name}`", c.unit, c.doc] for c in CARRIERS.values()]
        return _markdown(["carrier", "unit", "meaning"], rows)


class CarrierMatrix(_GeneratedTable):
    """``{carrier-matrix}``: every carrier, what the books read from it, who writes it."""

    def lines(self) -> list[str]:
        from suandian.components import REGISTRY

        header = ["carrier", "unit", "carbon-free", "certificate", "emission factor"]
        return _markdown(header + [f"`{c.name}`" for c in REGISTRY], carrier_rows())


class StateTable(_GeneratedTable):
    """``{state-table}``: every component's state fields (``Component.state_fields``)."""

    def lines(self) -> list[str]:
        return _markdown(
            ["component", "state field", "unit", "sets in the next scenario"], state_rows()
        )


def _text(text: str) -> str:
    """Plain text for a MyST table cell (Markdown and math marks escaped)."""
    return re.sub(r"([|*_$~\[\]`<>\\])", r"\\\1", text)


def _unit_text(unit: str) -> str:
    return _text(unit.replace("{compute}", "C"))


def output_sections() -> list[tuple[str, str, list[list[str]]]]:
    """The data dictionary: (component, its math page, rows) per component, then the model's.

    Rows (MyST cells): variable, dimensions, units (``C`` is the scenario's compute unit),
    role, description.
    """
    from suandian.results.extract import MODEL_OUTPUTS

    sections = []
    for c in _components():
        module = sys.modules[c.build.__module__]
        page = re.search(r"docs/math/([\w-]+\.md)", module.__doc__ or "")
        rows = [
            [f"`{o.name}`", ", ".join(o.dims) or "—", _unit_text(o.unit), o.role, _text(o.doc)]
            for o in c.outputs
        ]
        if rows:
            sections.append((c.name, page.group(1) if page else "", rows))
    model = [
        [f"`{name}`", ", ".join(dims), attrs["units"], attrs["role"], _text(attrs["description"])]
        for name, (dims, attrs) in MODEL_OUTPUTS.items()
    ]
    sections.append(("model", "accounting.md", model))
    return sections


def dimension_rows() -> list[list[str]]:
    """The index columns of the saved tables and the labels of sparse dimensions."""
    from suandian.results.io import DIMENSIONS

    return [[f"`{name}`", _text(text)] for name, text in DIMENSIONS.items()]


class OutputDictionary(_GeneratedTable):
    """``{output-dictionary}``: every output variable with units and description."""

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, page, rows in output_sections():
            link = f" ([](/math/{page}))" if page else ""
            out += [f"**`{name}`**{link}", ""]
            out += _markdown(["variable", "dimensions", "units", "role", "description"], rows)
            out.append("")
        out += ["**Index columns and labels of the tables**", ""]
        out += _markdown(["column", "meaning"], dimension_rows())
        return out


def provenance_files() -> list[Path]:
    """Provenance notes present in this checkout, in page order."""
    files = [p for p in (ROOT / "data" / "README.md", ROOT / "models" / "README.md") if p.exists()]
    return files + sorted((ROOT / "data").glob("*.provenance.md"))


def _label(path: Path) -> str:
    stem = f"{path.parent.name}-{path.name.removesuffix('.md')}"
    return "prov-" + re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def _embed(path: Path, labels: dict[Path, str]) -> str:
    """A note's text for embedding in data.md.

    Headings go one level down; links to another embedded note point to its section; other
    relative links (files of the repository, not pages of the docs) become literal paths.
    """
    out, fence = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.lstrip()
        if fence is None and stripped[:3] in ("```", "~~~"):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None:
            if re.match(r"#{1,5} ", line):
                line = "#" + line

            def link(match: re.Match) -> str:
                bang, text, target = match.groups()
                if re.match(r"[a-z]+:", target) or target.startswith("#"):
                    return match.group(0)
                resolved = (path.parent / target.split("#")[0]).resolve()
                if resolved in labels and not bang:
                    return f"[{text}](#{labels[resolved]})"
                rel = resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else target
                return f"{text} (`{rel}`)" if text.strip("`") != str(rel) else f"`{rel}`"

            line = _LINK.sub(link, line)
        out.append(line)
    return "\n".join(out)


def _provenance_text(app: Sphinx) -> str:
    files = provenance_files()
    if not files:
        return (
            "*No provenance notes are present in this checkout yet; see* `data/` *in the "
            "repository.*\n"
        )
    labels = {p.resolve(): _label(p) for p in files}
    parts = []
    for path in files:
        app.env.note_dependency(str(path))
        parts.append(f"({labels[path.resolve()]})=\n{_embed(path, labels)}\n")
    return "\n".join(parts)


class tutorial_gallery(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """Placeholder of a ``{tutorial-gallery}``, filled when the doctree is resolved."""


class TutorialGallery(SphinxDirective):
    """``{tutorial-gallery}``: a card per tutorial named in the content (title, figure, link)."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        from sphinx.util import docname_join

        node = tutorial_gallery()
        node["docnames"] = [
            docname_join(self.env.docname, line.strip().removesuffix(".md"))
            for line in self.content
            if line.strip()
        ]
        missing = [d for d in node["docnames"] if d not in self.env.found_docs]
        if missing:
            raise self.error(f"tutorial-gallery: no page {missing} (give page names, one a line)")
        _galleries(self.env)[self.env.docname] = list(node["docnames"])
        return [node]


def _first_image(env, docname: str) -> nodes.image | None:
    for image in env.get_doctree(docname).findall(nodes.image):
        return image
    return None


def _fill_galleries(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(tutorial_gallery)):
        grid = nodes.container(classes=["tutorial-gallery"])
        for target in node["docnames"]:
            card = nodes.container(classes=["gallery-card"])
            link = nodes.reference(
                "", "", internal=True, refuri=app.builder.get_relative_uri(docname, target)
            )
            image = _first_image(app.env, target)
            if image is not None:
                picture = image.deepcopy()
                for key in ("width", "height", "scale", "align"):
                    picture.attributes.pop(key, None)
                picture["alt"] = f"figure of {target}"
                picture["classes"] = ["gallery-image"]
                link += picture
            else:
                link += nodes.inline("", "(no figure)", classes=["gallery-noimage"])
            title = app.env.titles.get(target)
            link += nodes.inline("", title.astext() if title else target, classes=["gallery-title"])
            para = nodes.paragraph()
            para += link
            card += para
            grid += card
        node.replace_self(grid)


def _galleries(env) -> dict[str, list[str]]:
    """The gallery pages of the build and the tutorials each shows (kept in the environment)."""
    if not hasattr(env, "suandian_galleries"):
        env.suandian_galleries = {}
    return env.suandian_galleries


def _gallery_outdated(app, env, added, changed, removed) -> list[str]:
    """Rewrite a gallery page whenever one of its tutorials is read again."""
    touched = set(added) | set(changed)
    return [page for page, shown in _galleries(env).items() if touched & set(shown)]


def _gallery_purge(app, env, docname: str) -> None:
    _galleries(env).pop(docname, None)


def _gallery_merge(app, env, docnames, other) -> None:
    _galleries(env).update(_galleries(other))


def _cell(text: str) -> str:
    """One line of plain text for a Markdown paragraph or table cell; options (``--out``) in
    code style, so that they are not typeset (``--`` as a dash)."""
    return re.sub(r"(?<![\w`-])(--[a-z][a-z-]*)", r"`\1`", _text(" ".join(text.split())))


def _argument_rows(parser) -> list[list[str]]:
    """Rows (argument, default, meaning) of a parser's arguments, as ``--help`` states them."""
    import argparse

    formatter = parser._get_formatter()
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if action.option_strings:  # as --help writes them: "--out OUT, -o OUT"
            metavar = (
                ""
                if action.nargs == 0
                else " " + formatter._format_args(action, action.dest.upper())
            )
            name = ", ".join(f"{option}{metavar}" for option in action.option_strings)
        else:
            name = formatter._format_args(action, action.dest)
        default = action.default
        shown = (
            ""
            if default in (None, False, [], argparse.SUPPRESS) or action.nargs == 0
            else str(default)
        )
        meaning = formatter._expand_help(action) if action.help else ""
        if action.required and action.option_strings:
            meaning = f"required. {meaning}"
        rows.append([f"`{name}`", f"`{shown}`" if shown else "", _cell(meaning)])
    return rows


def cli_reference() -> str:
    """The command-line reference as MyST Markdown, generated from the argparse parser."""
    import argparse

    from suandian.cli import _parser

    parser = _parser()
    out = ["```text", parser.format_usage().strip(), "```", "", _cell(parser.description or "")]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    out += ["", "| command | what it does |", "|---|---|"]
    out += [f"| [`{name}`](#cli-{name}) | {_cell(helps.get(name) or '')} |" for name in sub.choices]
    out += ["", "Examples (`suandian --help`):", "", "```text", (parser.epilog or "").strip()]
    out += ["```", ""]
    for name, command in sub.choices.items():
        out += [f"(cli-{name})=", f"## `suandian {name}`", ""]
        out += [_cell(command.description or helps.get(name) or ""), ""]
        out += ["```text", command.format_usage().strip(), "```", ""]
        out += _markdown(["argument", "default", "meaning"], _argument_rows(command))
        if command.epilog:
            out += ["", _cell(command.epilog)]
        out.append("")
    return "\n".join(out)


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if MARKER in source[0]:
        source[0] = source[0].replace(MARKER, _provenance_text(app))
    if CLI_MARKER in source[0]:
        import suandian.cli

        app.env.note_dependency(suandian.cli.__file__)
        source[0] = source[0].replace(CLI_MARKER, cli_reference())


def setup(app: Sphinx) -> dict:
    app.add_directive("schema-table", SchemaTable)
    app.add_directive("component-table", ComponentTable)
    app.add_directive("carrier-table", CarrierTable)
    app.add_directive("carrier-matrix", CarrierMatrix)
    app.add_directive("state-table", StateTable)
    app.add_directive("output-dictionary", OutputDictionary)
    app.add_node(tutorial_gallery)
    app.add_directive("tutorial-gallery", TutorialGallery)
    app.connect("doctree-resolved", _fill_galleries)
    app.connect("env-get-outdated", _gallery_outdated)
    app.connect("env-purge-doc", _gallery_purge)
    app.connect("env-merge-info", _gallery_merge)
    app.add_css_file("gallery.css")
    app.connect("source-read", _source_read)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
