"""Compare the books of a result before and after a change of the post-processing code.

Two steps, each under the ``PYTHONPATH`` of the code to test::

    # dump with the old code, then with the new one
    PYTHONPATH=<old>/src python benchmarks/books_compare.py dump year10.nc before.npz
    PYTHONPATH=<new>/src python benchmarks/books_compare.py dump year10.nc after.npz
    python benchmarks/books_compare.py compare before.npz after.npz      # rtol 1e-9

``dump`` reads a saved result (``result.nc`` or its folder; ``day`` solves the embedded
default day instead) and stores every figure the books give: the KPIs of ``Result.kpis``
(every cost term, energy, shares, PUE, emissions, CFE, CUE, each family's KPIs, shadow
prices), the per-site flows of :func:`~suandian.results.accounting.flows`, the hourly CFE
table of :func:`~suandian.results.accounting.cfe`, ``final_state`` at the last period and
mid-horizon, and the certifier's violations. ``compare`` checks every number of the two
dumps within ``max(atol, rtol * |before|)`` (defaults ``rtol = 1e-9``, ``atol = 1e-12``),
NaN equal to NaN, the same keys on both sides and the same violations. Exit code 1 on any
difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _flatten(prefix: str, value, out: dict) -> None:
    """Nested dicts and lists of numbers -> ``{"a.b.c": float}``; other leaves as strings."""
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, out)
    elif isinstance(value, (bool, np.bool_)):
        out[prefix] = float(value)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        out[prefix] = float(value)
    else:
        out[prefix] = str(value)


def _load(path: str):
    import suandian

    if path == "day":
        root = Path(__file__).resolve().parents[1]
        return suandian.solve(suandian.load_scenario(root / "models" / "chongqing_hami_day.yaml"))
    return suandian.read_result(path)


def dump(path: str, out: str) -> None:
    """Store every figure of the books of the result at ``path`` in ``out`` (.npz)."""
    from suandian.results.accounting import cfe, flows

    result = _load(path)
    scalars: dict = {}
    _flatten("kpis", result.kpis, scalars)
    T = result.ds.sizes["time"]
    for t in (T // 2, T - 1):
        _flatten(f"final_state@{t}", result.final_state(t), scalars)
    violations = sorted(str(v) for v in result.certify())
    arrays: dict[str, np.ndarray] = {}
    f = flows(result.ds)
    for name in f.data_vars:
        arrays[f"flows.{name}"] = f[name].transpose("site", "time").values.astype(float)
    h = cfe(result.ds)
    for name in h.data_vars:
        arrays[f"cfe.{name}"] = h[name].transpose("site", "time").values.astype(float)
    arrays["cfe.time"] = h["time"].values.astype("datetime64[ns]").astype(np.int64)
    meta = {"scalars": scalars, "violations": violations}
    np.savez(out, __meta__=np.array(json.dumps(meta)), **arrays)
    print(f"{out}: {len(scalars)} scalars, {len(arrays)} arrays, {len(violations)} violations")


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    return abs(a - b) <= max(atol, rtol * abs(a))


def compare(before: str, after: str, rtol: float = 1e-9, atol: float = 1e-12) -> list[str]:
    """Every difference between two dumps (empty when they agree)."""
    a, b = np.load(before), np.load(after)
    ma, mb = json.loads(str(a["__meta__"])), json.loads(str(b["__meta__"]))
    problems = []
    sa, sb = ma["scalars"], mb["scalars"]
    for key in sorted(set(sa) | set(sb)):
        if key not in sa or key not in sb:
            problems.append(f"{key}: only in {'before' if key in sa else 'after'}")
            continue
        x, y = sa[key], sb[key]
        if isinstance(x, str) or isinstance(y, str):
            if x != y:
                problems.append(f"{key}: {x!r} != {y!r}")
        elif not _close(x, y, rtol, atol):
            problems.append(f"{key}: {x!r} != {y!r} (rel {abs(x - y) / max(abs(x), 1e-300):.2e})")
    worst = 0.0
    names_a = {n for n in a.files if n != "__meta__"}
    names_b = {n for n in b.files if n != "__meta__"}
    for name in sorted(names_a ^ names_b):
        problems.append(f"array {name}: only in {'before' if name in names_a else 'after'}")
    for name in sorted(names_a & names_b):
        x, y = a[name], b[name]
        if x.shape != y.shape:
            problems.append(f"array {name}: shape {x.shape} != {y.shape}")
            continue
        if x.dtype.kind in "iu":
            if not np.array_equal(x, y):
                problems.append(f"array {name}: differs")
            continue
        nan = np.isnan(x) | np.isnan(y)
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            problems.append(f"array {name}: NaN pattern differs")
        diff = np.abs(x - y)[~nan]
        bound = np.maximum(atol, rtol * np.abs(x))[~nan]
        if diff.size and (diff > bound).any():
            i = int(np.argmax(diff - bound))
            problems.append(
                f"array {name}: {int((diff > bound).sum())} cells differ, worst "
                f"{x[~nan][i]!r} vs {y[~nan][i]!r}"
            )
        if diff.size:
            scale = np.maximum(np.abs(x[~nan]), 1e-300)
            worst = max(worst, float((diff / np.maximum(scale, atol / rtol)).max()))
    if ma["violations"] != mb["violations"]:
        problems.append(f"violations differ: {ma['violations'][:3]} vs {mb['violations'][:3]}")
    sc = [k for k in sa if k in sb and not isinstance(sa[k], str)]
    rel = [abs(sa[k] - sb[k]) / max(abs(sa[k]), atol / rtol) for k in sc if not np.isnan(sa[k])]
    print(
        f"{len(sa)} scalars, {len(names_a)} arrays, {len(ma['violations'])} violations; "
        f"largest relative difference: scalars {max(rel, default=0.0):.2e}, arrays {worst:.2e}"
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="store the books of a saved result ('day': solve the default)")
    d.add_argument("result")
    d.add_argument("out")
    c = sub.add_parser("compare", help="compare two dumps")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--rtol", type=float, default=1e-9)
    c.add_argument("--atol", type=float, default=1e-12)
    args = parser.parse_args(argv)
    if args.cmd == "dump":
        dump(args.result, args.out)
        return 0
    problems = compare(args.before, args.after, args.rtol, args.atol)
    for p in problems[:50]:
        print(p)
    print("SAME" if not problems else f"DIFFERENT: {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
