"""Wall time of executing each docs tutorial, as the Sphinx build does (myst-nb, one kernel).

usage::

    python benchmarks/tutorials.py [--pages quickstart,lever_value] [--reps 1]

Each page of ``docs/tutorials/*.md`` is read as a notebook (myst-nb's reader) and executed
by nbclient in a fresh kernel, with the docs folder as the working directory, as
``nb_execution_mode = "force"`` does at every docs build. The target (issue 17) is at most
60 s per page on an idle 2-core machine; the load average at the start of each run is
printed beside it, since a busy machine shows more.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from myst_nb.core.read import read_myst_markdown_notebook
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
TARGET_S = 60.0


def run_page(page: Path) -> float:
    """Execute one tutorial page in a fresh kernel; its wall time, seconds."""
    notebook = read_myst_markdown_notebook(page.read_text(encoding="utf-8"))
    nbformat.validate(notebook)
    client = NotebookClient(
        notebook, timeout=600, resources={"metadata": {"path": str(page.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    pages = sorted(TUTORIALS.glob("*.md"))
    if args.pages:
        wanted = set(args.pages.split(","))
        pages = [p for p in pages if p.stem in wanted]
    worst = 0.0
    for page in pages:
        for _ in range(args.reps):
            load = os.getloadavg()[0]
            seconds = run_page(page)
            worst = max(worst, seconds)
            verdict = "PASS" if seconds <= TARGET_S else "OVER"
            print(
                f"{page.stem:22s} {seconds:7.1f} s  [{verdict} <= {TARGET_S:g} s]  load {load:.2f}"
            )
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
