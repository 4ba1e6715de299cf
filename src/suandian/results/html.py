"""One self-contained HTML report of a saved plan, sweep or rolling run (``suandian report``).

The page holds everything it shows: the figures are PNG images embedded as ``data:`` URIs,
the style is inline, there is no script and no link to anything outside the file, so it opens
offline and can be mailed as it is. Order (``docs/outputs.md``, "HTML report"):

1. **Verdict**: whether the folder is certified (:func:`~suandian.results.certifier.
   certify_folder`: every file against the manifest, the plan against the formulation, the
   reported KPIs against the recomputed ones), the total cost and gap, and per site the
   green share and PUE against their targets and caps. For a sweep: how many cases have a
   certified plan, and the folder against its manifest; then, for a sweep of one policy
   level (a Pareto front, :func:`suandian.run.pareto.front_of`), the front's figure and table.
2. **Figures** (:mod:`suandian.plot`).
3. **Cost by term**, **shadow prices**, and the **diagnosis** of a plan that has none.

A rolling run's folder (``suandian rolling --out``): the committed windows stitched
(:class:`~suandian.YearResult`), certified as a whole, its annual rules, the month-by-month
compliance figure and table, and the cost by term.

Only the standard library (``html``, ``base64``) and :mod:`suandian.plot` (matplotlib).
"""

from __future__ import annotations

import base64
import html
import io as _bytes
import json
import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from .._version import __version__

#: style of the page (inline: the file needs nothing else)
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC",sans-serif;
margin:2em auto;max-width:1100px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}
.verdict{padding:.8em 1.2em;border-radius:6px;margin:1em 0;font-size:1.15em}
.ok{background:#e6f4ea;border:1px solid #34a853}.bad{background:#fce8e6;border:1px solid #d93025}
table{border-collapse:collapse;margin:.6em 0}th,td{padding:.25em .8em;text-align:right;
border-bottom:1px solid #e0e0e0}th{background:#f5f5f5}td.l,th.l{text-align:left}
.meets{color:#188038;font-weight:600}.misses{color:#d93025;font-weight:600}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto}figcaption{color:#555;
font-size:.9em}.small{color:#666;font-size:.85em}ul.problems{color:#a50e0e}
"""


class ReportError(ValueError):
    """A folder the report cannot be made of (not a saved plan or sweep)."""


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the HTML report of a saved plan or sweep; returns the file written.

    Parameters
    ----------
    folder : str or Path
        A results folder written by :meth:`suandian.Result.save` (``suandian solve --out``)
        or :meth:`suandian.SweepResult.save` (``suandian sweep --out``).
    out : str or Path, optional
        The HTML file; default: beside the folder, ``<folder>.html`` (a file inside the
        folder would not be part of the run its manifest lists).

    Raises
    ------
    ReportError
        if ``folder`` is not a saved plan or sweep.
    OSError
        if ``out`` cannot be written.
    """
    folder = Path(folder)
    page = report_html(folder)
    target = Path(out) if out is not None else folder.parent / f"{folder.resolve().name}.html"
    from .io import atomic_write

    return atomic_write(target, lambda tmp: tmp.write_text(page, encoding="utf-8"))


def report_html(folder: str | Path) -> str:
    """The report of a saved plan or sweep as one HTML document (a string)."""
    from .sweep import SWEEP_FILE

    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a folder; give the --out folder of a solve or sweep")
    if (folder / SWEEP_FILE).is_file():
        return _sweep_page(folder)
    if (folder / "windows").is_dir():
        return _year_page(folder)
    if (folder / "kpis.json").is_file():
        return _plan_page(folder)
    raise ReportError(
        f"{folder}: neither a saved plan (kpis.json, result.nc), a saved sweep ({SWEEP_FILE}) "
        "nor a rolling run (windows/); give the --out folder of 'suandian solve', 'suandian "
        "sweep' or 'suandian rolling'"
    )


# ------------------------------------------------------------------------------ pieces
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, fmt: str = "{:,.0f}") -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return _e(value)
    if math.isnan(x):
        return "–"
    out = fmt.format(x)
    if out.startswith("-") and not any(c in "123456789" for c in out):
        out = out[1:]  # no "-0", "-0.00"
    return out


def _pct(value: Any) -> str:
    return _num(value, "{:.1%}")


def _table(head: list[str], rows: list[list[str]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns left-aligned; cells are HTML already."""

    def cls(i: int) -> str:
        return ' class="l"' if i < left else ""

    out = ["<table><tr>"]
    out += [f"<th{cls(i)}>{_e(h)}</th>" for i, h in enumerate(head)]
    out.append("</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _figure(draw: Callable[[], Any], caption: str) -> str:
    """A figure drawn by ``draw()`` as an embedded PNG (or the error it raised, as text)."""
    import matplotlib.pyplot as plt

    try:
        fig = draw()
    except Exception as exc:  # a figure that cannot be drawn must not lose the report
        plt.close("all")
        return (
            f'<p class="small">{_e(caption)}: not drawn ({_e(type(exc).__name__)}: {_e(exc)})</p>'
        )
    buffer = _bytes.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f'\n<p class="small">suandian {_e(__version__)}: report written from the saved '
        "folder alone (no network).</p>\n</body></html>\n"
    )


# ------------------------------------------------------------------------------ a plan
def _plan_page(folder: Path) -> str:
    from .. import plot
    from .certifier import certify_folder
    from .io import MANIFEST, read_manifest

    report = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    solver = report.get("solver", {})
    manifest = read_manifest(folder) if (folder / MANIFEST).is_file() else {}
    scenario = manifest.get("scenario", "")
    status = solver.get("status", manifest.get("status", "?"))
    result = None
    if (folder / "result.nc").is_file():
        from .result import read_result

        try:
            result = read_result(folder)
        except Exception:  # a corrupt file: certify_folder names it
            result = None
    problems = certify_folder(folder, ds=None if result is None else result.ds)
    if result is not None:
        scenario = scenario or str(result.ds.attrs.get("scenario", ""))
    has_plan = result is not None and result.has_plan
    kpis = result.kpis if has_plan and result is not None else report.get("kpis", {})
    body = [f"<h1>{_e(scenario or folder.name)}: plan report</h1>"]
    body.append(
        f'<p class="small">folder {_e(folder.resolve())}; run {_e(manifest.get("run_id", "?"))}'
        f"; solver status {_e(status)} (HiGHS: {_e(solver.get('highs_status', '?'))})</p>"
    )
    # -- verdict
    body.append("<h2>Verdict</h2>")
    if not has_plan and not kpis:
        body.append(
            f'<div class="verdict bad"><b>No plan</b> ({_e(status)}): nothing to certify. '
            "The diagnosis below says what cannot be met.</div>"
        )
    elif not problems:
        body.append(
            '<div class="verdict ok"><b>Certified</b>: every file matches the manifest, the '
            "plan satisfies every check of the formulation, and the reported KPIs are those "
            "the plan gives.</div>"
        )
    else:
        body.append(
            f'<div class="verdict bad"><b>Not certified</b>: {len(problems)} problem(s)'
            '<ul class="problems">'
            + "".join(f"<li>{_e(p)}</li>" for p in problems[:30])
            + ("<li>…</li>" if len(problems) > 30 else "")
            + "</ul></div>"
        )
    if kpis:
        cost = kpis.get("cost", {})
        total = cost.get("total", solver.get("objective"))
        gap = solver.get("mip_gap")
        body.append(f"<p><b>Total cost {_num(total)} CNY</b> (MIP gap {_num(gap, '{:.3%}')})</p>")
        body.append(_targets_table(kpis, result))
    # -- figures
    if has_plan and result is not None:
        body.append("<h2>Figures</h2>")
        sites = [str(s) for s in result.ds["site"].values]
        body.append(_figure(lambda: plot.cost_waterfall(result), "Cost by term (CNY)"))
        body.append(
            _figure(lambda: plot.dispatch(result), "Dispatch of the portfolio by family (MW)")
        )
        if len(sites) > 1:
            for s in sites:
                body.append(
                    _figure(partial(plot.dispatch, result, site=s), f"Dispatch of {s} (MW)")
                )
        body.append(_figure(lambda: plot.green_by_hour(result), "Green share and 24/7 CFE by hour"))
        body.append(_figure(lambda: plot.pue_vs_load(result), "PUE against load and temperature"))
        ds = result.ds
        if ds.sizes.get("storage", 0) or ds.sizes.get("tes", 0):
            body.append(_figure(lambda: plot.state_of_charge(result), "Batteries and tanks"))
        body.append(_figure(lambda: plot.commitment(result), "Blocks on"))
        body.append(_figure(lambda: plot.placement(result), "Compute placement"))
    # -- tables
    if kpis:
        cost = kpis.get("cost", {})
        body.append("<h2>Cost by term</h2>")
        rows = [[_e(k), _num(v)] for k, v in cost.items() if k != "total" and abs(v or 0) >= 0.5]
        rows.append(["<b>total</b>", f"<b>{_num(cost.get('total'))}</b>"])
        body.append(_table(["term", "CNY"], rows))
        shadow = kpis.get("shadow_prices", {})
        body.append("<h2>Shadow prices</h2>")
        if shadow:
            body.append(
                '<p class="small">From the LP with the integers fixed at the plan '
                "(docs/math/solver.md); the name ends with the unit.</p>"
            )
            body.append(
                _table(["name", "value"], [[_e(k), _num(v, "{:,.2f}")] for k, v in shadow.items()])
            )
        else:
            body.append("<p>None reported.</p>")
    diagnosis = report.get("diagnosis")
    if diagnosis:
        body.append("<h2>Diagnosis</h2>")
        body.append(_diagnosis(diagnosis))
    return _page(f"{scenario or folder.name}: plan report", body)


def _targets_table(kpis: dict, result: Any) -> str:
    """Per site (and the portfolio): green share and PUE against target and cap."""
    ds = result.ds if result is not None else None
    targets: dict[str, float] = {}
    caps: dict[str, float] = {}
    pue_basis = green_basis = "horizon"
    if ds is not None:
        if "green_target" in ds and ds.sizes.get("scope", 0):
            targets = {
                str(k): float(v)
                for k, v in zip(ds["scope"].values, ds["green_target"].values, strict=True)
                if v == v
            }
        if "pue_cap" in ds:
            caps = {str(s): float(v) for s, v in ds["pue_cap"].to_series().items() if v == v}
        pue_basis = str(ds.attrs.get("pue_basis", "horizon"))
        green_basis = str(ds.attrs.get("green_share_basis", "horizon"))
    share = kpis.get("green_share", {})
    share_year = kpis.get("green_share_year", {})
    pue = kpis.get("pue", {})
    pue_year = kpis.get("pue_year", {})
    cfe = kpis.get("cfe_hourly", {})
    rows = []
    for scope in share:
        g = share.get(scope)
        target = targets.get(scope)
        judged = share_year.get(scope, g) if green_basis == "year" else g
        green_mark = _mark(judged, target, above=True)
        p = pue.get(scope)
        cap = caps.get(scope)
        p_judged = pue_year.get(scope, p) if pue_basis == "year" else p
        pue_mark = _mark(p_judged, cap, above=False) if scope != "portfolio" else ""
        rows.append(
            [
                _e(scope),
                _pct(g),
                _pct(share_year[scope]) if scope in share_year else "",
                _pct(target) if target is not None else "–",
                green_mark,
                _num(p, "{:.3f}") if p is not None else "",
                _num(pue_year[scope], "{:.3f}") if scope in pue_year else "",
                _num(cap, "{:.3f}") if cap is not None else "–",
                pue_mark,
                _pct(cfe[scope]) if scope in cfe else "",
            ]
        )
    head = [
        "site",
        "green share",
        "green share, year",
        f"target ({green_basis})",
        "",
        "PUE",
        "PUE, year",
        f"cap ({pue_basis})",
        "",
        "24/7 CFE",
    ]
    note = (
        '<p class="small">Green share: green intake and certificates over consumption; '
        "PUE: facility over IT energy. A rule on the year is judged on the year's figure (the "
        "year to date and forecast the scenario states, plus this plan). 24/7 CFE: the "
        "carbon-free energy that served the load hour by hour (no target; certificates "
        "excluded).</p>"
    )
    return _table(head, rows) + note


def _mark(value: Any, limit: float | None, above: bool) -> str:
    if limit is None or value is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if math.isnan(v):
        return ""
    ok = v >= limit - 1e-9 if above else v <= limit + 1e-9
    return '<span class="meets">meets</span>' if ok else '<span class="misses">misses</span>'


def _diagnosis(d: dict) -> str:
    findings = d.get("findings", [])
    how = "proven" if d.get("proven") else f"best found, not proven ({d.get('status', '')})"
    parts = [f"<p>{_e(how)}; what had to be relaxed: {_e(d.get('stage') or '–')}</p>"]
    if findings:
        parts.append("<ul>" + "".join(f"<li>{_e(f)}</li>" for f in findings) + "</ul>")
    elif d.get("note"):
        parts.append(f"<p>{_e(d['note'])}</p>")
    achievable = d.get("achievable", {})
    for name, values in achievable.items():
        if isinstance(values, dict) and values:
            rows = [[_e(k), _num(v, "{:.4g}")] for k, v in values.items()]
            parts.append(f"<p>achievable {_e(name)}:</p>" + _table(["key", "value"], rows))
    return "".join(parts)


# ------------------------------------------------------------------------------ a sweep
def _sweep_page(folder: Path) -> str:
    from .. import plot
    from .io import verify_folder
    from .sweep import read_sweep

    sweep = read_sweep(folder)
    ds = sweep.ds
    problems = verify_folder(folder)
    n = int(ds.sizes["case"])
    certified = int(ds["certified"].sum())
    name = str(ds.attrs.get("scenario", folder.name))
    body = [f"<h1>{_e(name)}: sweep report</h1>"]
    body.append(
        f'<p class="small">folder {_e(folder.resolve())}; design {_e(ds.attrs.get("design"))} '
        f"over {_e(', '.join(sweep.paths))}; seed {_e(ds.attrs.get('seed'))}</p>"
    )
    body.append("<h2>Verdict</h2>")
    good = certified == n and not problems
    body.append(
        f'<div class="verdict {"ok" if good else "bad"}"><b>{certified} of {n} cases '
        "certified</b> (each plan re-checked by the certifier on its worker)"
        + (
            "; every file matches the manifest."
            if not problems
            else '; the folder does not match its manifest:<ul class="problems">'
            + "".join(f"<li>{_e(p)}</li>" for p in problems[:30])
            + "</ul>"
        )
        + "</div>"
    )
    body += _pareto_section(sweep)
    table = sweep.table()
    keep = [*sweep.paths, "status", "objective", "certified"]
    keep += [c for c in table.columns if c.startswith("green_share.")][:3]
    keep += [c for c in table.columns if c.startswith("pue.")][:3]
    rows = []
    for _, row in table.iterrows():
        cells = [f"{int(row['case'])}"]
        for c in keep:
            v = row[c]
            if c.startswith("green_share."):
                cells.append(_pct(v))
            elif c.startswith("pue."):
                cells.append(_num(v, "{:.3f}"))
            elif c == "objective":
                cells.append(_num(v))
            elif c == "certified":
                cells.append(
                    '<span class="meets">yes</span>' if v else '<span class="misses">no</span>'
                )
            else:
                cells.append(_e(v))
        rows.append(cells)
    body.append("<h2>Cases</h2>")
    body.append(_table(["case", *keep], rows, left=1 + len(sweep.paths)))
    body.append("<h2>Figures</h2>")
    for path in sweep.paths[:2]:
        body.append(
            _figure(
                partial(plot.sweep_kpi, sweep, y="objective", x=path),
                f"Cost (CNY) against {path}",
            )
        )
        if "green_share.portfolio" in table:
            body.append(
                _figure(
                    partial(plot.sweep_kpi, sweep, y="green_share.portfolio", x=path),
                    f"Portfolio green share against {path}",
                )
            )
    costs = [c for c in table.columns if c.startswith("cost.") and c != "cost.total"]
    if costs:
        body.append("<h2>Cost by term</h2>")
        head = ["case", *[c[5:] for c in costs]]
        body.append(
            _table(
                head,
                [[f"{int(r['case'])}", *[_num(r[c]) for c in costs]] for _, r in table.iterrows()],
            )
        )
    shadow = [c for c in table.columns if c.startswith("shadow_prices.")]
    if shadow:
        body.append("<h2>Shadow prices</h2>")
        body.append(
            _table(
                ["case", *[c[len("shadow_prices.") :] for c in shadow]],
                [
                    [f"{int(r['case'])}", *[_num(r[c], "{:,.2f}") for c in shadow]]
                    for _, r in table.iterrows()
                ],
            )
        )
    failed = [(int(c), ds.sel(case=c)) for c in sweep.failed]
    if failed:
        body.append("<h2>Diagnosis</h2><ul>")
        for case, row in failed:
            why = row["diagnosis"].item() or row["error"].item() or row["certifier"].item()
            body.append(f"<li>case {case} ({_e(row['status'].item())}): <pre>{_e(why)}</pre></li>")
        body.append("</ul>")
    return _page(f"{name}: sweep report", body)


#: how a front's level is printed, by ``against``
_LEVEL_FORMAT: dict[str, Callable[[Any], str]] = {
    "green_share": _pct,
    "cfe_score": _pct,
    "pue_cap": partial(_num, fmt="{:.4f}"),
    "emissions": partial(_num, fmt="{:,.2f}"),
}
#: how the epsilon of a front is printed (the carbon price in CNY/tCO2 for emissions)
_EPSILON_FORMAT: dict[str, Callable[[Any], str]] = {
    **_LEVEL_FORMAT,
    "pue_cap": partial(_num, fmt="{:.3f}"),
    "emissions": partial(_num, fmt="{:,.0f}"),
}


def _pareto_section(sweep: Any) -> list[str]:
    """A sweep of one policy level as a cost front: its figure and its table.

    :func:`suandian.run.pareto.front_of` reads the front from the saved sweep (a sweep made
    by :func:`suandian.pareto`, or any sweep of exactly one policy level); nothing for
    another sweep.
    """
    from .. import plot
    from ..run.pareto import front_of

    try:
        front = front_of(sweep)
    except ValueError:  # not a sweep of one policy level
        return []
    except Exception as exc:  # a front that cannot be read must not lose the report
        return [
            "<h2>Pareto front</h2>",
            f'<p class="small">not read ({_e(type(exc).__name__)}: {_e(exc)})</p>',
        ]
    t = front.table
    per_point = front.against in ("green_share", "cfe_score")
    unit = {"green_share": "share", "cfe_score": "score", "pue_cap": "PUE", "emissions": "tCO2"}[
        front.against
    ]
    out = ["<h2>Pareto front</h2>"]
    method = (
        f"each point the least-cost plan at <code>{_e(front.path)}</code> = epsilon"
        if front.method == "epsilon-constraint"
        else f"each point the plan at the carbon price <code>{_e(front.path)}</code> = epsilon "
        "(CNY/tCO2), its cost without the carbon charge"
    )
    out.append(
        f'<p class="small">Cost against {_e(front.against)} ({_e(front.method)}: {method}). '
        f"Slope: d cost / d level from the shadow prices of the plan (on a MIP, the LP with "
        f"the integers fixed at the plan), CNY per unit of {_e(unit)}"
        + ("; per percentage point: the slope / 100" if per_point else "")
        + "; secant: between this point and the previous one with a plan. A secant that "
        "differs from the slopes beside it marks a change of plan between the points: a "
        "resource that ran out (the slope rises) or an integer decision (the slope may "
        "fall) (docs/math/sweeps.md).</p>"
    )
    out.append(_figure(partial(plot.pareto_front, front), f"Cost against {front.against}"))
    level, eps = _LEVEL_FORMAT[front.against], _EPSILON_FORMAT[front.against]
    head = ["case", "epsilon", "level", "cost (CNY)", f"slope (CNY/{unit})"]
    head += ["slope (CNY/point)"] if per_point else []
    head += [f"secant (CNY/{unit})", "status", "certified"]
    rows = []
    for case, (_, r) in zip(sweep.ds["case"].values, t.iterrows(), strict=True):
        cells = [f"{int(case)}", eps(r["epsilon"]), level(r["level"]), _num(r["cost"])]
        cells.append(_num(r["slope"]))
        if per_point:
            cells.append(_num(r["slope"] / 100.0, "{:,.2f}"))
        cells += [_num(r["secant"]), _e(r["status"])]
        cells.append(
            '<span class="meets">yes</span>' if r["certified"] else '<span class="misses">no</span>'
        )
        rows.append(cells)
    out.append(_table(head, rows))
    return out


# ------------------------------------------------------------------------------ a year
def _year_page(folder: Path) -> str:
    """A rolling run (``suandian rolling --out``): its committed windows, stitched."""
    from .. import plot
    from .year import YearResult, read_parts

    parts, datasets = read_parts(folder / "windows")
    if not parts:
        raise ReportError(f"{folder}: a rolling run without any committed window")
    year = YearResult.from_parts(parts, datasets)
    violations = year.certify()
    name = str(datasets[0].attrs.get("scenario", folder.name))
    saved = {}
    if (folder / "kpis.json").is_file():
        saved = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
    finished = (folder / "year.nc").is_file()
    body = [f"<h1>{_e(name)}: rolling horizon report</h1>"]
    body.append(
        f'<p class="small">folder {_e(folder.resolve())}; {len(parts)} windows committed, '
        f"{year.ds.sizes['time']} periods from {_e(parts[0].time)}"
        + ("" if finished else " (the run stopped before the horizon's end)")
        + "</p>"
    )
    body.append("<h2>Verdict</h2>")
    if not violations:
        body.append(
            '<div class="verdict ok"><b>Certified</b>: every window\'s plan, the state handed '
            "over between windows, the committed costs and the annual rules re-checked from "
            "the windows' data.</div>"
        )
    else:
        body.append(
            f'<div class="verdict bad"><b>Not certified</b>: {len(violations)} violation(s)'
            '<ul class="problems">'
            + "".join(f"<li>{_e(v)}</li>" for v in violations[:30])
            + "</ul></div>"
        )
    body.append(f"<p><b>Total cost {_num(year.objective)} CNY</b> (the committed windows)</p>")
    rules = year.compliance()
    rows = []
    for site, c in rules["pue"].items():
        ok = '<span class="meets">meets</span>' if c["ok"] else '<span class="misses">misses</span>'
        rows.append(
            [
                "PUE",
                _e(site),
                _num(c["pue"], "{:.4f}"),
                _num(c["cap"], "{:.3f}"),
                _e(c["basis"]),
                ok,
            ]
        )
    for scope, c in rules["green_share"].items():
        ok = '<span class="meets">meets</span>' if c["ok"] else '<span class="misses">misses</span>'
        rows.append(
            ["green share", _e(scope), _pct(c["share"]), _pct(c["target"]), _e(c["basis"]), ok]
        )
    if rows:
        body.append(_table(["rule", "scope", "achieved", "cap or target", "basis", ""], rows, 2))
    foresight = saved.get("foresight") or {}
    if foresight.get("objective") is not None:
        body.append(
            f"<p>Perfect foresight: {_num(foresight['objective'])} CNY; value of foresight "
            f"{_num(saved.get('value_of_foresight'))} CNY.</p>"
        )
    body.append("<h2>Figures</h2>")
    body.append(_figure(partial(plot.year_compliance, year), "Compliance to date, by month"))
    body.append(_figure(partial(plot.cost_waterfall, year.costs), "Cost by term (CNY)"))
    months = year.months()
    body.append("<h2>Month by month</h2>")
    columns = [c for c in months.columns if c.startswith(("pue_to_date", "green_share_to"))]
    body.append(
        _table(
            ["month", "cost", *columns],
            [
                [
                    _e(m),
                    _num(row["cost_total"]),
                    *[
                        _num(row[c], "{:.4f}") if c.startswith("pue") else _pct(row[c])
                        for c in columns
                    ],
                ]
                for m, row in months.iterrows()
            ],
        )
    )
    body.append("<h2>Cost by term</h2>")
    cost_rows = [[_e(k), _num(v)] for k, v in year.costs.items() if k != "total" and abs(v) >= 0.5]
    cost_rows.append(["<b>total</b>", f"<b>{_num(year.objective)}</b>"])
    body.append(_table(["term", "CNY"], cost_rows))
    return _page(f"{name}: rolling horizon report", body)


__all__ = ["ReportError", "report_html", "write_report"]
