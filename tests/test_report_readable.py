"""The session report read as a clinician would, in real headless Chromium (Debian ``chromium``, DevTools pipe).

Four real sessions, each analysed once: the simulated neutral demo walk, a PhysioNet gaitpdb control (covered by
the shipped gaitpdb cohort, and a member of it, so left out), a Moticon OpenGo export (no cohort) and a PhysioNet
gaitndd control (covered by the gaitndd cohort). Checks: screenshots at 1280 and 390 px (kept in
``test-artifacts/``), no console errors, no horizontal overflow, human-readable table headers with units, cohort
reference bars exactly when a cohort covers the device (and the stated reason otherwise), intervals in the JSON
recomputed from the cohort file the provenance names, the A4 PDF written through the CLI with no table cut by a page
break, and hostile metadata escaped in the HTML and in the PDF's text.

No table split across pages is checked on the PDF itself, not on a simulated layout: an emulated print layout is one
long page, so it cannot show where Chromium breaks pages; the PDF's own text (:mod:`pdf_text`) shows on which page
each table's first and last row landed.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from chromium_cdp import Chromium, ChromiumError, chromium_path
from pdf_text import pages_text
from session_alterations import altered

from insole.session import read_session
from pipeline.analysis import analyze_session
from pipeline.norms.registry import shipped_cohorts
from pipeline.report import report_json, write_report
from pipeline.report.chromium import print_pdf, require_chromium
from pipeline.report.norms import cohort_sha256

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SAMPLES = ROOT / "sample_recordings"
SESSIONS = {
    "simulated": SAMPLES / "simulated" / "neutral.h5",
    "gaitpdb": SAMPLES / "gaitpdb" / "GaCo01_01.h5",
    "moticon": SAMPLES / "moticon" / "230927_102114.h5",
    "gaitndd": SAMPLES / "gaitndd" / "control1.h5",
}
COVERED = {"gaitpdb": True, "gaitndd": True, "simulated": False, "moticon": False}
HOSTILE = ('<script>alert(1)</script>', '"><img src=x onerror=alert(2)>')

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (tools/test.sh installs it)")

SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
UNIT = re.compile(r"\([^)]*\S[^)]*\)|%|\bsteps?\b|\bstrides?\b")

#: Every table's header texts, and for every numeric cell the headers above it, its row label and units cell.
TABLES_JS = r"""
(() => {
  const text = (el) => { let s = ''; const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let n; while ((n = w.nextNode())) { if (!n.parentElement.closest('svg')) s += n.textContent; }
    return s.replace(/\s+/g, ' ').trim(); };
  const out = [];
  for (const t of document.querySelectorAll('table')) {
    const ths = [...t.querySelectorAll('th')];
    const unitsCol = ths.find((h) => text(h) === 'Units');
    const rows = [];
    for (const tr of t.querySelectorAll('tr')) {
      const tds = [...tr.querySelectorAll('td')];
      if (!tds.length) continue;
      const label = text(tr.cells[0]);
      let units = '';
      if (unitsCol) { const ux = unitsCol.getBoundingClientRect();
        const u = tds.find((td) => { const r = td.getBoundingClientRect();
          return r.left >= ux.left - 1 && r.right <= ux.right + 1; });
        units = u ? text(u) : ''; }
      const nums = [];
      for (const td of tds.filter((td) => td.classList.contains('num'))) {
        const r = td.getBoundingClientRect(), cx = (r.left + r.right) / 2;
        const heads = ths.filter((h) => { const b = h.getBoundingClientRect();
          return b.left <= cx && cx <= b.right && b.bottom <= r.top + 1; });
        nums.push({headers: heads.map(text).join(' / '), value: text(td)});
      }
      rows.push({label, units, nums, first: text(tr)});
    }
    out.push({id: t.id, headers: ths.map(text), rows});
  }
  return out;
})()
"""

#: Each table's first and last row text as printed (SVG titles and text hidden in print left out).
ROWS_JS = r"""
(() => { const text = (el) => { let s = ''; const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let n; while ((n = w.nextNode())) { const p = n.parentElement;
      if (!p.closest('svg') && p.getClientRects().length) s += n.textContent; } return s; };
  return [...document.querySelectorAll('table')].map((t) => { const rows = [...t.rows];
    const body = rows.findIndex((r) => r.querySelector('td'));  // header rows and the first body row, as one text
    return [rows.slice(0, body + 1).map(text).join(''), text(rows[rows.length - 1]), rows.length]; }); })()
"""


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


@pytest.fixture(scope="module")
def browser():
    with Chromium() as b:
        yield b


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """kind -> (result, report JSON, HTML path): one analysis per session kind."""
    folder = tmp_path_factory.mktemp("readable")
    out = {}
    for kind, path in SESSIONS.items():
        result = analyze_session(path)
        out[kind] = (result, report_json(result), write_report(result, folder / f"{kind}.html"))
    return out


@pytest.mark.parametrize("kind", list(SESSIONS))
def test_report_at_desktop_and_phone_width(kind, reports, browser):
    """Screenshots at 1280 and 390 px; no console error; nothing wider than the window (tables scroll inside)."""
    page = reports[kind][2]
    for width in (1280, 390):
        browser.open(page.as_uri(), width=width, height=900)
        sizes = browser.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert browser.problems() == []
        assert sizes[0] <= sizes[1], f"{kind} at {width} px: page {sizes[0]} px wide in a {sizes[1]} px window"
        if width == 1280:  # on a desktop no table hides columns behind its own scroll bar
            hidden = browser.evaluate("[...document.querySelectorAll('.scroll')].filter("
                                      "(d) => d.scrollWidth > d.clientWidth + 1).map((d) => d.scrollWidth)")
            assert hidden == [], f"{kind}: tables wider than the page at 1280 px: {hidden}"
        shot = browser.screenshot(ARTIFACTS / f"readable-{kind}-{width}.png")
        assert shot.stat().st_size > 20_000


@pytest.mark.parametrize("kind", list(SESSIONS))
def test_every_table_header_is_readable_and_every_number_has_a_unit(kind, reports, browser):
    browser.open(reports[kind][2].as_uri(), width=1280, height=900)
    tables = browser.evaluate(TABLES_JS)
    assert len(tables) >= 8
    n_numbers = 0
    for t in tables:
        for h in t["headers"]:
            assert h and not SNAKE.search(h), f"table header {h!r}"
        for row in t["rows"]:
            assert not SNAKE.search(row["label"]), f"row label {row['label']!r} in a table headed {t['headers'][:3]}"
            for cell in row["nums"]:
                n_numbers += 1
                where = f"{cell['headers']} | {row['label']} | {row['units']}"
                assert cell["headers"], f"numeric cell {cell['value']!r} of row {row['label']!r} has no header"
                assert UNIT.search(cell["headers"]) or UNIT.search(row["label"]) or row["units"], where
    assert n_numbers > 100


@pytest.mark.parametrize("kind", list(SESSIONS))
def test_norm_bands_exactly_when_a_cohort_covers_the_device(kind, reports, browser):
    result, doc, page = reports[kind]
    browser.open(page.as_uri(), width=1280, height=900)
    state = browser.evaluate("""({bars: document.querySelectorAll('svg.normbar').length,
        covered: [...document.querySelectorAll('[data-norms=covered]')].map((e) => e.textContent),
        none: [...document.querySelectorAll('[data-norms=none]')].map((e) => e.textContent),
        forceCaption: (document.querySelector('figure[data-figure=force_curves] figcaption') || {}).textContent || '',
        strideCv: (document.getElementById('stride-cv') || {}).textContent || ''})""")
    norms = doc["norms"]
    assert norms["covered"] is COVERED[kind]
    assert "Published healthy values, not a cohort" in state["strideCv"] and "Hausdorff" in state["strideCv"]
    if not COVERED[kind]:
        feet = {f"{f['layout_id']}, {f['n_sensors']} cells, {f['units']}" for f in doc["session"]["feet"].values()}
        reason = f"no reference for this device ({feet.pop()})"
        assert norms["reason"] == reason and not feet
        assert state["bars"] == 0 and not state["covered"]
        assert len(state["none"]) == 3 and all(reason in t for t in state["none"])
        assert "No healthy band" in state["forceCaption"] or doc["withheld"].get("force_curves")
        assert all(not r["reference_interval"]["available"] for r in doc["temporal"] + doc["kinetics"])
        return
    cohort = next(c for c in shipped_cohorts() if cohort_sha256(c) == doc["provenance"]["reference_cohort_sha256"])
    assert norms["cohort"]["name"] == cohort.name and norms["cohort"]["n_subjects"] == cohort.n_subjects
    assert len(state["covered"]) == 3 and all(cohort.name in t for t in state["covered"])
    assert "not force curves, so no healthy band" in state["forceCaption"]
    subject = result.metrics.session.subject_id
    shown = 0
    for row in doc["temporal"] + doc["kinetics"]:
        ri, entry = row["reference_interval"], cohort.metrics.get(row["metric"])
        if entry is None or entry.unit != row["units"]:
            assert not ri["available"]
            continue
        vals = np.array([e.value for e in entry.entries if e.subject != subject])
        assert ri["available"] and ri["n"] == vals.size
        assert ri["left_out"] is (vals.size < len(entry.entries))
        assert (ri["low"], ri["high"]) == pytest.approx((vals.min(), vals.max()))  # n < 39: the observed range
        assert ri["low"] <= ri["q1"] <= ri["median"] <= ri["q3"] <= ri["high"]
        for side in ("left", "right"):
            cell = row[side]
            if cell and cell["status"] == "computed" and cell["reference"]:
                below, equal = (vals < cell["median"]).sum(), (vals == cell["median"]).sum()
                assert cell["reference"]["percentile"] == pytest.approx(100 * (below + 0.5 * equal) / vals.size)
        shown += 1
    assert shown >= (5 if kind == "gaitndd" else 20)
    assert state["bars"] >= shown  # one per row with an interval (and again in the key figures)
    if kind == "gaitpdb":
        assert norms["cohort"]["n_recordings"] == cohort.n_recordings
        assert any(r["reference_interval"].get("left_out") for r in doc["temporal"])  # GaCo01 is in the cohort


def test_pdf_from_the_cli_is_a4_with_no_table_across_a_page_break(reports, browser, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    run = CliRunner().invoke(cli, ["report", str(SESSIONS["gaitpdb"]), "-o", str(html), "--pdf", str(pdf)])
    assert run.exit_code == 0, run.output
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    (ARTIFACTS / "readable-gaitpdb.pdf").write_bytes(data)
    boxes = {tuple(round(float(v)) for v in m) for m in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)}
    assert boxes == {(595, 842)}  # A4 in points
    pages = [_squash(p) for p in pages_text(data)]
    assert len(pages) >= 5
    assert "Keyfigures" in pages[0] and pages[1].startswith("Subjectandsession")  # the one-page summary first
    browser.open(html.as_uri(), width=718, height=1047)  # A4 less 10 mm margins, at 96 px per inch
    browser.send("Emulation.setEmulatedMedia", {"media": "print"})
    tables = browser.evaluate(ROWS_JS)
    browser.send("Emulation.setEmulatedMedia", {"media": ""})
    assert len(tables) >= 8
    for first, last, n_rows in tables:
        on = [i for i, p in enumerate(pages) if _squash(first) in p]
        assert on, f"table starting {first[:60]!r} not found in the PDF"
        end = [i for i, p in enumerate(pages) if _squash(last) in p and i >= on[0]]
        assert end and end[0] == on[0], f"table starting {first[:60]!r} ({n_rows} rows) runs over pages {on[0]}-{end}"


def test_pdf_option_defaults_to_the_html_name(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    run = CliRunner().invoke(cli, ["report", str(SESSIONS["moticon"]), "-o", str(tmp_path / "m.html"), "--pdf"])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")


def test_missing_chromium_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH without the browser
    with pytest.raises(ChromiumError, match="Debian package `chromium`"):
        require_chromium()
    run = subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", "report",
                          str(SESSIONS["moticon"]), "-o", str(tmp_path / "m.html"), "--pdf"],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": str(tmp_path)})
    assert run.returncode != 0 and "install the Debian package `chromium`" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "m.html").exists()  # refused before any work


def test_hostile_metadata_is_escaped_in_the_html_and_the_pdf(browser, tmp_path):
    sess = read_session(SESSIONS["gaitpdb"])
    evil_a, evil_b = HOSTILE
    feet = {s: dataclasses.replace(f, attrs={**f.attrs, "device_model": evil_a, "device_serial_number": evil_b})
            for s, f in sess.feet.items()}
    hostile = dataclasses.replace(altered(SESSIONS["gaitpdb"], metadata={
        "subject_id": evil_a, "condition": evil_b, "notes": f"{evil_a}\n{evil_b}"}), feet=feet,
        attrs={**sess.attrs, "source": evil_b})
    result = analyze_session(hostile)
    html = write_report(result, tmp_path / "evil.html")
    text = html.read_text()
    for evil in HOSTILE:
        assert evil not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    browser.open(html.as_uri(), width=1280, height=900)
    state = browser.evaluate("""({scripts: document.scripts.length,
        imgs: document.querySelectorAll('img[onerror]').length, body: document.body.innerText})""")
    assert browser.problems() == []
    assert state["scripts"] == 0 and state["imgs"] == 0
    assert all(evil in state["body"] for evil in HOSTILE)
    pdf = print_pdf(html, tmp_path / "evil.pdf")
    whole = unicodedata.normalize("NFKC", "".join(pages_text(pdf.read_bytes())))
    for evil in HOSTILE:
        assert evil in whole, evil
    # under another subject id nobody is left out of the cohort
    assert not any(r["reference_interval"].get("left_out") for r in report_json(result)["temporal"])
