"""No import circle among the modules of ``suandian``, imports inside functions counted.

Every module of ``src/suandian`` is parsed with :mod:`ast`; every ``import`` and
``from ... import`` statement anywhere in it (module level, inside functions, classes and
``try`` blocks) is an arrow from that module to the module it names. Statements under
``if TYPE_CHECKING:`` are left out: they never run.

How a statement becomes arrows (relative names resolved against the importing module):

- ``import suandian.a.b`` and ``from suandian.a.b import name`` point at ``suandian.a.b``;
  ``from .a import name`` likewise at ``.a``.
- ``from . import x`` / ``from .pkg import x`` point at the submodule ``pkg.x`` when ``x`` is a
  module of the package, else at the package ``pkg`` itself (``x`` is a name it defines or
  re-exports).
- A package is a node of its own, its ``__init__``. Its re-exports are its arrows: a
  package that imports its submodules points at them, so a module importing a name from
  the package depends on everything the package imports. That is how Python runs it: the
  whole ``__init__`` executes first.
- Importing ``pkg.sub`` runs ``pkg/__init__`` first, so it is an arrow to ``pkg`` as well,
  unless ``pkg`` contains the importing module: a module's own packages are initialised
  before it runs (counting them would make every package whose ``__init__`` imports its own
  submodules a circle). So ``components/thermal.py`` importing ``scenario/errors.py``
  depends on everything ``scenario/__init__.py`` imports, as it does at run time.
- Imports of other libraries are ignored.

A circle is a strongly connected component of more than one module (or a module importing
itself); the test lists every one with the arrows inside it.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "suandian"

#: Circles allowed for now, each as the sorted tuple of its modules. Only the
#: scenario <-> families circle may stand here: ``Scenario.check`` imports the family check
#: functions inside the function while ``scenario/schema.py`` imports their section classes.
#: Another branch of issue 17 replaces ``Scenario.check`` by per-family ``validate`` hooks;
#: the lead empties this constant after merging it.
KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset()


def modules() -> dict[str, Path]:
    """Module name -> file, packages under their own name (their ``__init__.py``)."""
    out = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST):
    """Every import statement of ``tree`` that runs, i.e. not under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of the package that module ``name`` imports (its arrows)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    out = set()
    for node in _statements(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = []
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                targets.append(sub if sub in known else target)
        for target in targets:
            while target and target not in known:  # e.g. import suandian.x.attr
                target = target.rpartition(".")[0]
            if target.split(".")[0] != PACKAGE:
                continue
            out.add(target)
            parent = target.rpartition(".")[0]
            while parent and not (name == parent or name.startswith(parent + ".")):
                out.add(parent)
                parent = parent.rpartition(".")[0]
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(arrows: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components of more than one module, and self-imports (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(arrows[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1 or v in arrows[v]:
                found.append(tuple(sorted(part)))

    for v in sorted(arrows):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking(tmp_path):
    """A hand-made package. ``a`` imports ``b`` inside a function; ``b`` imports ``a`` only
    under ``TYPE_CHECKING``, the module ``c`` by ``from . import c`` and a name from the
    package; ``c`` imports ``sub.d``, which runs ``sub/__init__`` too; ``sub/__init__``
    imports its own ``d`` (no arrow back to ``sub``). Arrows: pkg -> c, a -> b, b -> {pkg, c},
    c -> {sub, sub.d}, sub -> sub.d: no circle. Then ``sub/__init__`` imports ``a`` inside a
    function: pkg -> c -> sub -> a -> b -> pkg closes one circle of five modules."""
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .c import g\n")
    (pkg / "a.py").write_text("def f():\n    from .b import h\n    return h\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import c as _c\n"
        "if TYPE_CHECKING:\n    from .a import f\nfrom suandian import g\nh = 1\n"
    )
    (pkg / "c.py").write_text("import numpy\nfrom .sub.d import k\ng = 2\n")
    (pkg / "sub" / "__init__.py").write_text("from .d import k\n")
    (pkg / "sub" / "d.py").write_text("k = 3\n")
    p, sub = PACKAGE, f"{PACKAGE}.sub"
    known = {
        p: pkg / "__init__.py",
        **{f"{p}.{m}": pkg / f"{m}.py" for m in "abc"},
        sub: pkg / "sub" / "__init__.py",
        f"{sub}.d": pkg / "sub" / "d.py",
    }
    arrows = {name: imports(name, path, known) for name, path in known.items()}
    assert arrows == {
        p: {f"{p}.c"},
        f"{p}.a": {f"{p}.b"},
        f"{p}.b": {p, f"{p}.c"},
        f"{p}.c": {sub, f"{sub}.d"},
        sub: {f"{sub}.d"},
        f"{sub}.d": set(),
    }
    assert cycles(arrows) == []
    (pkg / "sub" / "__init__.py").write_text("from .d import k\ndef f():\n    from .. import a\n")
    arrows = {name: imports(name, path, known) for name, path in known.items()}
    assert cycles(arrows) == [(p, f"{p}.a", f"{p}.b", f"{p}.c", sub)]


def test_no_import_circle():
    arrows = graph()
    assert len(arrows) > 40  # every module was found
    found = [c for c in cycles(arrows) if c not in KNOWN_CYCLES]
    lines = []
    for part in found:
        inside = set(part)
        lines.append(" <-> ".join(part))
        lines += [f"    {v} -> {w}" for v in part for w in sorted(arrows[v] & inside)]
    assert not found, "import circles:\n" + "\n".join(lines)


def test_known_cycles_are_still_circles():
    """An allowed circle that no longer exists must leave :data:`KNOWN_CYCLES`."""
    assert KNOWN_CYCLES <= set(cycles(graph()))


def test_highs_is_below_the_strategy_and_used_through_its_public_names():
    """``highs.py`` imports nothing from ``run/``; ``run/`` imports no private name of it."""
    arrows = graph()
    assert not {m for m in arrows[f"{PACKAGE}.highs"] if m.startswith(f"{PACKAGE}.run")}
    private = []
    for path in sorted((SRC / PACKAGE / "run").glob("*.py")):
        for node in _statements(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("highs"):
                private += [f"{path.name}: {a.name}" for a in node.names if a.name[0] == "_"]
    assert not private
