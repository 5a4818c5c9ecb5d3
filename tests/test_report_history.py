"""Follow-up across visits (``insole report --history``) and its page in the nightly batch.

Four visits of one simulated subject, recorded by the real simulator and recorder: visits 1 and 2 in shoes, visits 3
and 4 with an orthotic that the simulator gives a real effect (first force peak later in stance and lower: a slower
loading). The recording times are set weeks apart in the files, in an order that differs from the file names; a
truncated copy sits among them. Everything runs through the real CLI, analysis, batch and headless Chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from chromium_cdp import Chromium, chromium_path  # noqa: E402

from insole.simulator.session import simulate_session  # noqa: E402
from pipeline.analysis import analyze_session  # noqa: E402
from pipeline.report.comparison import comparison_json  # noqa: E402

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
BEYOND = "change beyond measurement variability"
#: The orthotic's effect in the simulator: the first force peak at 32 % of stance instead of 24 % (a slower loading;
#: its height unchanged, so the force-scale check rescales no visit).
ORTHOTIC = "first_peak_at=0.32"
#: (file name, recorded, condition, simulator parameters) of visits 1-4; names sort in another order than the times.
VISITS = (
    ("c-visit.h5", "2026-01-05T09:00:00Z", "shoes", ""),
    ("a-visit.h5", "2026-02-02T09:30:00Z", "shoes", ""),
    ("2026-03/walk.h5", "2026-03-02T10:00:00Z", "orthotic", ORTHOTIC),
    ("b-visit.h5", "2026-03-30T08:45:00Z", "orthotic", ORTHOTIC),
)
DURATION_S = 20.0
#: Walk seed of visit 1 (visit k: SEED + k - 1). The rule flags some same-condition pairs by chance: measured on 12
#: pairs of 20 s neutral walks (seeds 100-123, both sides), 2 of 24 for the loading rate and for the force peaks,
#: 1 of 24 for stride time (the MDC is a within-session lower bound). Seeds 21-24 flagged the right loading rate
#: between visits 3 and 4 (+0.14 BW/s, MDC95 0.11); 31-34 (used) and 41-44 flag no same-condition pair.
SEED = 31


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=300)


def run_here(capsys, *args: str) -> tuple[int, str]:
    """The ``insole`` program in this process (same command table and error handling); (exit code, stderr)."""
    from insole.cli import cli
    from insole.cli import run as run_cli
    from pipeline import cli as _registers_the_analysis_commands  # noqa: F401

    code = run_cli(cli, list(args))
    return code, capsys.readouterr().err


def _set_attrs(path: Path, created_utc: str | None = None, **session: str) -> None:
    """Change the recording time and metadata text of a session file (what another day's recording holds)."""
    with h5py.File(path, "r+") as f:
        if created_utc is not None:
            f.attrs["created_utc"] = created_utc
        for k, v in session.items():
            f["session"].attrs[k] = v


@pytest.fixture(scope="module")
def subject_dir(tmp_path_factory) -> Path:
    """The subject's folder: four visits, one truncated file, a stored analysis next to visit 1 (reusable) and a
    stale one next to visit 2 (another file's hash: not reusable)."""
    root = tmp_path_factory.mktemp("history") / "P-018"
    for k, (name, recorded, condition, params) in enumerate(VISITS):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        simulate_session(path, duration_s=DURATION_S, seed=SEED + k, device_params=params,
                         metadata={"subject_id": "P-018", "condition": condition, "notes": f"visit {k + 1}"})
        _set_attrs(path, recorded)
    (root / "broken.h5").write_bytes((root / VISITS[0][0]).read_bytes()[:6000])  # an upload cut short
    first = analyze_session(root / VISITS[0][0], cohort=None)
    first.write_metrics(root / "c-visit.metrics.json")
    first.write_steps(root / "c-visit.steps.csv")
    shutil.copyfile(root / "c-visit.metrics.json", root / "a-visit.metrics.json")
    shutil.copyfile(root / "c-visit.steps.csv", root / "a-visit.steps.csv")
    return root


@pytest.fixture(scope="module")
def history(subject_dir, tmp_path_factory) -> tuple[dict, str, Path]:
    """``insole report --history FOLDER -o history.html --json history.json`` run by the real program."""
    out = tmp_path_factory.mktemp("history-out")
    proc = run("report", "--history", str(subject_dir), "-o", str(out / "history.html"), "--json",
               str(out / "history.json"), "--cohort", "none")
    assert proc.returncode == 0, proc.stderr
    assert "broken.h5" in proc.stderr  # the failed file is named on the terminal too
    html = (out / "history.html").read_text(encoding="utf-8")
    return json.loads((out / "history.json").read_text(encoding="utf-8")), html, out / "history.html"


def _pair(doc: dict, before: int, after: int) -> dict:
    return next(p for p in doc["comparisons"] if (p["before"], p["after"]) == (before, after))


def _verdict(pair: dict, measure: str, side: str) -> str:
    return next(r["verdict"] for r in pair["key"] if (r["measure"], r["side"]) == (measure, side))


def test_visits_are_ordered_by_recording_time_and_the_corrupt_file_is_listed(history):
    doc, html, _ = history
    assert doc["schema"] == "insole-history" and doc["kind"] == "history"
    assert [v["source"] for v in doc["visits"]] == [name for name, *_ in VISITS]
    assert [v["recorded_utc"] for v in doc["visits"]] == [t for _, t, *_ in VISITS]
    assert [v["date"] for v in doc["visits"]] == [t[:10] for _, t, *_ in VISITS]
    [failed] = doc["failed"]
    assert failed["source"] == "broken.h5" and "HDF5" in failed["reason"]
    assert 'data-failed="broken.h5"' in html and "could not be read or analysed" in html
    # the four others are drawn: every key measure has a mean for every visit
    names = {m["measure"] for m in doc["measures"]}
    assert {"cadence_steps_per_min", "stride_time_s", "stance_pct", "double_support_s", "peak1_force",
            "peak2_force", "loading_rate"} <= names
    for m in doc["measures"]:
        assert [r["visit"] for r in m["visits"]] == [1, 2, 3, 4]
        for r in m["visits"]:
            for side in ("left", "right"):
                lo, hi = r[side]["ci95"]
                assert lo < r[side]["mean"] < hi and r[side]["n"] >= 10
    assert html.count("<svg") == len(doc["measures"]) + len(doc["symmetry"])
    # the stored analysis of visit 1 was made from that file: reused; the one beside visit 2 was not
    assert doc["visits"][0]["origin"].startswith("reused") and doc["visits"][1]["origin"] == "analysed"


def test_the_change_at_visit_3_is_beyond_variability_and_visits_2_and_4_are_not(history, subject_dir):
    doc, html, _ = history
    for side in ("left", "right"):
        assert _verdict(_pair(doc, 2, 3), "loading_rate", side) == BEYOND
        assert _verdict(_pair(doc, 1, 4), "loading_rate", side) == BEYOND  # first vs latest
    for side in ("left", "right"):
        assert _verdict(_pair(doc, 1, 2), "loading_rate", side) != BEYOND
        assert _verdict(_pair(doc, 3, 4), "loading_rate", side) != BEYOND
    assert _pair(doc, 1, 4)["kind"] == "first_vs_latest"
    rate = next(m for m in doc["measures"] if m["measure"] == "loading_rate")
    assert rate["vs_previous"]["3"] == {"left": BEYOND, "right": BEYOND}
    # the figure rings visit 3 only, on both sides
    figure = html.split('data-figure="trend-loading_rate"', 1)[1].split("</svg>", 1)[0]
    assert figure.count('data-beyond="1"') == 2 and 'data-visit="3" data-beyond="1"' in figure
    # the same rule as insole compare, not a copy: the pair's rows are those of comparison_json
    v2, v3 = (analyze_session(subject_dir / VISITS[k][0], cohort=None) for k in (1, 2))
    expected = {(r["measure"], r["side"]): r for r in comparison_json(v2, v3)["metrics"]}
    for r in _pair(doc, 2, 3)["key"]:
        e = expected[(r["measure"], r["side"])]
        assert r["verdict"] == e["verdict"] and r["mdc95"] == pytest.approx(e["mdc95"], rel=1e-12)
        assert r["change"] == pytest.approx(e["change"], rel=1e-12)
    # the effect is large against the MDC: the simulated orthotic slows loading by far more than the band
    r = next(r for r in _pair(doc, 2, 3)["key"] if (r["measure"], r["side"]) == ("loading_rate", "left"))
    assert abs(r["change"]) > 5 * r["mdc95"]
    band = {p["visit"]: p for p in rate["mdc_band"]["left"]}
    assert set(band) == {1, 2, 3, 4} and all(p["low"] < p["centre"] < p["high"] for p in band.values())


def test_the_condition_change_is_marked_at_visit_3_from_the_metadata(history):
    doc, html, _ = history
    assert doc["condition_changes"] == [{"visit": 3, "from": "shoes", "to": "orthotic"}]
    assert [v["condition_changed"] for v in doc["visits"]] == [False, False, True, False]
    assert 'data-condition-change="3"' in html
    assert 'data-condition-change="2"' not in html and 'data-condition-change="4"' not in html
    figure = html.split('data-figure="trend-peak1_force"', 1)[1].split("</svg>", 1)[0]
    assert figure.count("data-condition-change=") == 1


def test_sessions_of_several_subjects_are_refused_unless_one_is_chosen(subject_dir, tmp_path, capsys):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for k in (0, 1):
        shutil.copyfile(subject_dir / VISITS[k][0], mixed / f"p018-{k}.h5")
    shutil.copyfile(subject_dir / VISITS[2][0], mixed / "other.h5")
    _set_attrs(mixed / "other.h5", subject_id="Q-7")
    code, err = run_here(capsys, "report", "--history", str(mixed), "-o", str(tmp_path / "h.html"), "--cohort", "none")
    assert code == 1 and not (tmp_path / "h.html").exists()
    assert err.startswith("error: the sessions belong to 2 subjects")
    assert "P-018: p018-0.h5, p018-1.h5" in err and "Q-7: other.h5" in err and "--subject" in err
    files = [str(mixed / n) for n in ("p018-0.h5", "p018-1.h5", "other.h5")]  # listed files work the same way
    code, err = run_here(capsys, "report", "--history", *files, "--subject", "P-018", "-o", str(tmp_path / "h.html"),
                         "--json", str(tmp_path / "h.json"), "--cohort", "none")
    assert code == 0, err
    doc = json.loads((tmp_path / "h.json").read_text())
    assert [v["source"] for v in doc["visits"]] == ["p018-0.h5", "p018-1.h5"]
    assert doc["excluded"] == [{"source": "other.h5", "reason": "another subject (Q-7), left out by --subject P-018"}]
    assert 'data-excluded="other.h5"' in (tmp_path / "h.html").read_text()


def _hostile_inbox(subject_dir: Path, root: Path) -> Path:
    """An inbox whose subject folder name, every text metadata field of its two sessions and the second one's
    recording time are hostile."""
    folder = root / "clinic-x" / HOSTILE[1]
    folder.mkdir(parents=True)
    for k in (0, 1):
        dest = folder / f"visit-{k}.h5"
        shutil.copyfile(subject_dir / VISITS[k][0], dest)
        _set_attrs(dest, "2026-01-01T09:00:00Z" if k == 0 else HOSTILE[0], subject_id=HOSTILE[0],
                   condition=HOSTILE[k % 2], notes=" ".join(HOSTILE))
    return root


def _assert_escaped(html: str, shown: tuple[str, ...] = HOSTILE) -> None:
    """No hostile string is in the page as markup; each of ``shown`` is there as escaped text."""
    for raw in HOSTILE:
        assert raw not in html
    assert "<script" not in html.lower() and "<img" not in html.lower()
    escaped = {HOSTILE[0]: "&lt;script&gt;alert(1)&lt;/script&gt;",
               HOSTILE[1]: "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"}
    for text in shown:
        assert escaped[text] in html


@pytest.fixture(scope="module")
def night(subject_dir, tmp_path_factory) -> tuple[Path, Path]:
    """One night of the real batch over the hostile inbox: (inbox, output folder)."""
    from pipeline.batch.night import BatchConfig, run_night

    root = tmp_path_factory.mktemp("night")
    inbox = _hostile_inbox(subject_dir, root / "inbox")
    run_night(BatchConfig(inbox=inbox, out_dir=root / "out", workers=2))
    return inbox, root / "out"


def _history_link(out: Path) -> Path:
    summary = (out / "summary.html").read_text(encoding="utf-8")
    links = [a.split('"', 1)[0] for a in summary.split('class="history" href="')[1:]]
    assert len(links) == 1
    return out / links[0]


def test_hostile_metadata_is_escaped_and_the_batch_links_each_subject_to_its_follow_up(night):
    from pipeline.batch.night import BatchConfig, run_night

    inbox, out = night
    # the summary shows the upload paths (the subject folder is hostile) and no session metadata
    _assert_escaped((out / "summary.html").read_text(encoding="utf-8"), shown=(HOSTILE[1],))
    page = _history_link(out)
    assert page.is_file() and page.name == "history.html"
    _assert_escaped(page.read_text(encoding="utf-8"))
    doc = json.loads(page.with_name("history.json").read_text(encoding="utf-8"))
    assert doc["subject"]["subject_id"] == HOSTILE[0] and doc["generated_utc"] is None
    assert [v["session"]["notes"] for v in doc["visits"]] == [" ".join(HOSTILE)] * 2
    assert [v["session"]["condition"] for v in doc["visits"]] == list(HOSTILE)
    assert doc["condition_changes"] == [{"visit": 2, "from": HOSTILE[0], "to": HOSTILE[1]}]
    assert [v["recorded_readable"] for v in doc["visits"]] == [True, False]  # the hostile time: after, and said
    for v in doc["visits"]:  # each visit links to its own session report, which exists
        assert (page.parent / v["report_href"]).is_file()
    # a rerun changes nothing: the page is neither rebuilt nor rewritten
    before = (page.read_bytes(), page.stat().st_mtime_ns)
    run_night(BatchConfig(inbox=inbox, out_dir=out, workers=2))
    assert (page.read_bytes(), page.stat().st_mtime_ns) == before


@pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed")
def test_the_pages_render_in_chromium_without_errors_or_overflow(history, night, tmp_path):
    doc, _, page = history
    with Chromium() as browser:
        for width in (390, 1280):
            browser.open(page.as_uri(), width=width, height=900)
            assert browser.problems() == []
            assert browser.evaluate("document.documentElement.scrollWidth") <= width
            boxes = browser.evaluate(
                "[...document.querySelectorAll('svg.trend')].map(s => s.getBoundingClientRect().width)")
            assert len(boxes) == len(doc["measures"]) + len(doc["symmetry"])
            assert all(300 <= w <= width for w in boxes)  # legible: no figure squeezed below 300 px
            browser.screenshot(tmp_path / f"history-{width}.png")
        browser.open(_history_link(night[1]).as_uri(), width=390, height=900)  # the hostile subject's page
        assert browser.problems() == []
        assert browser.evaluate("document.querySelectorAll('script, img').length") == 0
        assert browser.evaluate("document.getElementById('subject').textContent") == HOSTILE[0]
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
