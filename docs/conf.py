"""Sphinx configuration of the suandian documentation (MyST markdown, executed tutorials).

Build with warnings as errors::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The package is normally installed (editable) in the environment; fall back to src/ so that
# autodoc always documents this checkout.
try:
    import suandian  # noqa: F401
except ImportError:  # pragma: no cover - only without an installed package
    sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(DOCS / "_ext"))

project = "suandian"
author = "suandian developers"
copyright = "2026, suandian developers"  # noqa: A001
release = __import__("suandian").__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "suandian_docs",
]

# ------------------------------------------------------------------ MyST / myst-nb
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "force"  # every tutorial is executed at every build
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_timeout = 600  # seconds per cell: a safety net on a busy machine; pages run in <= 60 s
nb_merge_streams = True

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]

# ------------------------------------------------------------------ autodoc / napoleon
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# ------------------------------------------------------------------ math, offline
# MathJax is bundled (docs/_static/mathjax, see its README.md): formulas render without network
# access. The path is relative to html_static_path.
mathjax_path = "mathjax/tex-svg-full.js"

# ------------------------------------------------------------------ HTML
html_static_path = ["_static"]
html_theme = "alabaster"
html_title = f"suandian {release}"
html_theme_options = {
    "description": "Co-optimise data-center compute with the electricity that powers it",
    "fixed_sidebar": True,
}
