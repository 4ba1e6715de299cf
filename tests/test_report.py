"""``suandian report``: one self-contained HTML page of a saved plan or sweep, opened in a real
headless Chromium (Debian's package).

The plan is the ``green`` toy of test_plot: one site drawing 3.85 MW for 2 h, grid 100
CNY/MWh, a green contract at 150 limited to [3.08, 1.54] MW, a 60 % portfolio target. On
paper: green 4.62 of 7.7 MWh = 60.0 %, PUE 1 + 1/10 = 1.100 (no cap), cost 308 (grid) +
693 (contract) = 1,001 CNY.

Without Chromium the browser test is skipped, unless ``SUANDIAN_REQUIRE_BROWSER=1`` (CI sets
it), when it fails.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import base_config, solve_ok  # noqa: E402

import suandian  # noqa: E402
from suandian.cli import main  # noqa: E402
from suandian.results.html import ReportError, report_html, write_report  # noqa: E402

#: Chromium's flags for a quiet, offline, throw-away run
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def green_config() -> dict:
    cfg = base_config(periods=2)
    cfg["nodes"][0]["grid_cfe"] = 0.5
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    cfg["green_contracts"] = [{"name": "ppa", "node": "n1", "capacity": "cap", "price": 150.0}]
    cfg["policies"]["green_share"] = {"target": 0.6, "scope": "portfolio"}
    return cfg


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """The green toy solved and saved (the module docstring's figures)."""
    folder = tmp_path_factory.mktemp("report") / "plan"
    r = solve_ok(green_config(), series=pd.DataFrame({"cap": [3.08, 1.54]}))
    assert r.objective == pytest.approx(1001.0)
    r.save(folder)
    return folder


@pytest.fixture(scope="module")
def page(saved) -> str:
    return report_html(saved)


def text_of(page: str) -> str:
    """The page's text without tags and images, whitespace collapsed."""
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", body))
    return " ".join(html.unescape(body).split())


def test_report_of_a_plan_puts_the_verdict_first(page):
    """Certified, 1,001 CNY, 60.0 % against 60.0 % (meets), PUE 1.100; then the figures."""
    text = text_of(page)
    assert "Certified : every file matches the manifest" in text
    assert "Total cost 1,001 CNY" in text
    # no year figure, no PUE; CFE (3.08 + 0.385 + 1.54 + 1.155) / 7.7 = 80 % (test_plot)
    assert "portfolio 60.0% 60.0% meets – 80.0%" in text
    assert "s1 60.0% – 1.100 – 80.0%" in text  # no target of its own, no cap
    assert page.index("Certified") < page.index("<img") < page.index("Cost by term</h2>")
    assert re.search(r"grid_energy 308 green_contract 693 total 1,001", text)
    assert page.count('src="data:image/png;base64,') >= 6
    assert "<h2>Diagnosis</h2>" not in page


def test_report_is_self_contained(page):
    """No script, no link or source outside the file, no CDN."""
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)\s*=\s*"(?!data:)', page)
    assert "http://" not in page and "https://" not in page


def test_a_tampered_folder_is_reported_not_certified(saved, tmp_path):
    """A table edited after the run: the manifest's checksum no longer matches."""
    copy = tmp_path / "plan"
    shutil.copytree(saved, copy)
    table = copy / "csv" / "site_time.csv"
    table.write_text(table.read_text() + "\n", encoding="utf-8")
    text = text_of(report_html(copy))
    assert "Not certified : 1 problem(s)" in text
    assert "csv/site_time.csv" in text


def test_report_of_an_infeasible_plan_gives_the_diagnosis(tmp_path):
    """50 units of demand on 2 blocks of 10: no plan; the page says so and shows why."""
    cfg = base_config(periods=1)
    cfg["interactive"] = [{"name": "web", "demand": 50.0, "sites": ["s1"]}]
    r = suandian.solve(suandian.load_scenario(cfg))
    assert r.status == "infeasible" and r.diagnosis is not None
    r.save(tmp_path / "none")
    page = report_html(tmp_path / "none")
    text = text_of(page)
    assert "No plan (infeasible)" in text
    assert "<h2>Diagnosis</h2>" in page
    assert r.diagnosis.findings and r.diagnosis.findings[0][:40] in text
    assert "<img" not in page


def test_report_of_a_sweep(tmp_path):
    """The LP of test_sweep at tariffs 50 and 100 (COP 10): 385 and 770 CNY, both
    certified."""
    from test_sweep import TARIFF, one_site

    sc = suandian.load_scenario(one_site())
    result = suandian.sweep(sc, {TARIFF: [50.0, 100.0]}, scheduler="serial", progress=False)
    result.save(tmp_path / "sweep")
    out = write_report(tmp_path / "sweep")
    assert out == tmp_path / "sweep.html"
    page = out.read_text(encoding="utf-8")
    text = text_of(page)
    assert "2 of 2 cases certified" in text
    assert re.search(r"0 50(\.0)? optimal 385 yes", text)
    assert re.search(r"1 100(\.0)? optimal 770 yes", text)
    assert page.count('src="data:image/png;base64,') >= 1


def green_front_config() -> dict:
    """test_pareto's two green contracts: A at 120 CNY/MWh for 1 MW, B at 150 for 10 MW."""
    from test_pareto import two_green_sources

    return two_green_sources()


#: the front of test_pareto at targets 0.1, 0.4, 0.8 (derived there): cost 770 + 20 min(G, 2)
#: + 50 max(G - 2, 0) CNY with G = 7.7 x target MWh green, slope 154 CNY per unit of share
#: below 2 / 7.7 = 0.26 and 385 above; the secant from 0.1 to 0.4 crosses the kink:
#: (864 - 785.4) / 0.3 = 262 CNY per unit of share
FRONT_ROWS = (
    "0 10.0% 10.0% 785 154 1.54 – optimal yes",
    "1 40.0% 40.0% 864 385 3.85 262 optimal yes",
    "2 80.0% 80.0% 1,018 385 3.85 385 optimal yes",
)


@pytest.fixture(scope="module")
def saved_front(tmp_path_factory) -> Path:
    """The front of FRONT_ROWS by suandian.pareto (serial: no cluster), saved."""
    folder = tmp_path_factory.mktemp("front") / "front"
    sc = suandian.load_scenario(green_front_config())
    front = suandian.pareto(
        sc, points=[0.1, 0.4, 0.8], scheduler="serial", progress=False, mip_rel_gap=0.0
    )
    assert front.table["cost"].to_numpy() == pytest.approx([785.4, 864.0, 1018.0])
    front.sweep.save(folder)
    return folder


def test_report_of_a_pareto_front_shows_the_front(saved_front):
    """The saved front's report: the verdict, then the front's figure and its table (cost,
    level, slope per unit of share and per percentage point, secant) as derived on paper."""
    page = report_html(saved_front)
    text = text_of(page)
    assert "3 of 3 cases certified" in text
    assert "<h2>Pareto front</h2>" in page
    for row in FRONT_ROWS:
        assert row in text, (row, text)
    front = page.index("<h2>Pareto front</h2>")
    assert page.index("cases certified") < front < page.index("<img") < page.index("<h2>Cases")


def test_a_sweep_of_one_policy_level_is_read_as_a_front(tmp_path):
    """A plain sweep of policies.green_share.target (no pareto() record): the same front,
    its scope inferred from the shadow prices; a sweep of a tariff has no front."""
    from test_sweep import TARIFF, one_site

    from suandian.run.pareto import front_of

    sc = suandian.load_scenario(green_front_config())
    plain = suandian.sweep(
        sc,
        {"policies.green_share.target": [0.1, 0.4, 0.8]},
        scheduler="serial",
        progress=False,
        mip_rel_gap=0.0,
    )
    plain.save(tmp_path / "plain")
    front = front_of(suandian.read_sweep(tmp_path / "plain"))
    assert front.against == "green_share"
    assert front.table["slope"].to_numpy() == pytest.approx([154.0, 385.0, 385.0])
    text = text_of(report_html(tmp_path / "plain"))
    for row in FRONT_ROWS:
        assert row in text
    tariff = suandian.sweep(
        suandian.load_scenario(one_site()), {TARIFF: [50.0]}, scheduler="serial", progress=False
    )
    with pytest.raises(ValueError, match="not a front"):
        front_of(tariff)
    tariff.save(tmp_path / "tariff")
    assert "Pareto front" not in report_html(tmp_path / "tariff")


def test_cli_report_writes_beside_the_folder(saved, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(saved), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path)]) == 1
    assert "neither a saved plan" in capsys.readouterr().err
    with pytest.raises(ReportError, match="not a folder"):
        report_html(tmp_path / "missing")


# ------------------------------------------------------------------------------ browser
def chromium() -> str:
    """Chromium's path; skip without it, unless SUANDIAN_REQUIRE_BROWSER=1 (then fail)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("SUANDIAN_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "SUANDIAN_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)"
            )
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    return found


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def console_lines(stderr: str) -> list[str]:
    """The page's console messages in Chromium's log (``INFO:CONSOLE``)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def colours(png: Path) -> int:
    """Number of distinct colours of a PNG (PIL comes with matplotlib)."""
    from PIL import Image

    with Image.open(png) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return len(found or [])


def test_report_renders_in_chromium(saved, tmp_path):
    """The page renders in headless Chromium with no console message, the verdict is in the
    DOM, and the screenshot is not blank (many colours: the figures). A page that logs an
    error is caught by the same scan (the control)."""
    binary = chromium()
    report = write_report(saved, tmp_path / "plan.html")
    run = run_chromium(binary, tmp_path / "profile1", "--dump-dom", report.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert "<b>Certified</b>" in run.stdout
    assert "Total cost 1,001 CNY" in run.stdout
    assert console_lines(run.stderr) == []

    _assert_screenshot_not_blank(binary, report, tmp_path, "1200,1800")

    control = tmp_path / "control.html"
    control.write_text('<p>x</p><script>console.error("control-error")</script>', "utf-8")
    run = run_chromium(binary, tmp_path / "profile3", "--dump-dom", control.as_uri())
    assert any("control-error" in line for line in console_lines(run.stderr))


def _assert_screenshot_not_blank(binary, report, tmp_path, size: str) -> None:
    """Chromium's screenshot of ``report`` at ``size`` is written and has more than 50
    colours (a page that drew, not a blank one)."""
    shot = tmp_path / "shot.png"
    run = run_chromium(
        binary,
        tmp_path / "profile2",
        f"--screenshot={shot}",
        f"--window-size={size}",
        report.as_uri(),
    )
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    assert colours(shot) > 50


def test_report_of_a_pareto_front_renders_in_chromium(saved_front, tmp_path):
    """The front's report in headless Chromium: no console message, the verdict and the
    front's table in the DOM, a screenshot that is not blank."""
    binary = chromium()
    report = write_report(saved_front, tmp_path / "front.html")
    run = run_chromium(binary, tmp_path / "profile1", "--dump-dom", report.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert "<b>3 of 3 cases certified</b>" in run.stdout
    dom = text_of(run.stdout)
    assert "Pareto front" in dom and FRONT_ROWS[1] in dom
    assert console_lines(run.stderr) == []
    _assert_screenshot_not_blank(binary, report, tmp_path, "1200,1400")


def test_numbers_never_show_minus_zero():
    """A shadow price of -1e-9 prints 0.00, not -0.00 (the KPI table's "-0" of issue 20)."""
    from suandian.results.html import _num, _pct

    assert _num(-1e-9, "{:,.2f}") == "0.00"
    assert _num(-0.3) == "0"
    assert _num(-401.0) == "-401"
    assert _pct(-1e-7) == "0.0%"
    assert _num(float("nan")) == "–"


def test_report_of_a_rolling_run(tmp_path):
    """The green year of test_rolling (commit 2, look-ahead 1) from 31 July 22:00, rolled
    into a folder: 2 windows, 1,058.75 + 1,828.75 = 2,887.5 CNY, the annual 50 % met on the
    year, 25 % to date in July and 50 % in August (test_plot's year case)."""
    from test_rolling import GREEN_PRICES, green_year, rolled

    cfg = green_year()
    cfg["horizon"]["start"] = "2026-07-31 22:00"
    rolled(cfg, GREEN_PRICES, 2, 1, forecast="neutral", out=tmp_path / "year")
    text = text_of(report_html(tmp_path / "year"))
    assert "Certified : every window's plan" in text
    assert "Total cost 2,888 CNY" in text  # 2,887.5 to the CNY (round half to even)
    assert "green share portfolio 50.0% 50.0% year meets" in text
    assert re.search(r"2026-07 1,059 1\.1000 25\.0% 2026-08 1,829 1\.1000 50\.0%", text), text
