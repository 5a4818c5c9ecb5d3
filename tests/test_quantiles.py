"""pipeline.quantiles against scipy.special (which the analysis no longer imports, issue 15).

Agreement is relative, to 1e-13. Where scipy's inverse itself is off (its stdtrit near p = 1/2 for df = 4, its
betaincinv for shapes of 1,000 against 30,000 or 100,000: up to 4e-11, found while writing this and confirmed with
mpmath at 40 digits), scipy's own forward function (stdtr, betainc) is the referee: it must put our quantile at
least as close to p as scipy's inverse. Every comparison goes through :func:`assert_agrees`.
"""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betainc, betaincinv, stdtr, stdtrit

from pipeline import quantiles
from pipeline.quantiles import beta_quantile, regularized_incomplete_beta, t_quantile

REL = 1e-13
#: Probabilities of the grid: the 95 % limits, the tails and the body (scipy's stdtrit is not accurate within
#: 0.05 of 1/2, where test_t_near_the_centre checks instead).
PS = (1e-10, 1e-6, 1e-4, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.45, 0.55, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999,
      0.9999, 1 - 1e-6, 1 - 1e-10)
#: Welch-Satterthwaite degrees of freedom (Welch 1947) of two groups of sizes n1, n2 with variance ratio r: the kind of
#: non-integer df pipeline.statistics.welch_ci95 passes.
WELCH = tuple((1 / n1 + r / n2) ** 2 / (1 / (n1**2 * (n1 - 1)) + r**2 / (n2**2 * (n2 - 1)))
              for n1, n2, r in ((2, 2, 3.0), (3, 5, 0.2), (5, 40, 7.5), (12, 13, 1.1), (30, 300, 0.01),
                                (150, 2000, 4.0), (4000, 60000, 0.5)))
DFS = (*range(1, 31), 1.3, 2.5, 3.7, 7.5, 15.8, 45.5, 50, 99.9, 100, 137.2, 500, 699, 700, 1000, 1234.5, 5000, 10_000,
       12_345.6, 50_000, 100_000, 314_159.3, 713_784.49, 1_000_000, *WELCH)
#: Shapes of the grid: 1, small, the Clopper-Pearson shapes (k, n - k + 1) of cohorts of 5 to 100,000, and the
#: extremes 100,000 against 1 (the most skewed) and against 100,000.
SHAPES = (1, 2, 3, 4, 5, 7, 10, 20, 37, 50, 100, 300, 1000, 3000, 10_000, 30_000, 100_000)


def rel(x: float, y: float) -> float:
    return abs(x - y) / max(abs(x), abs(y), sys.float_info.min)


def assert_agrees(ours: float, theirs: float, forward, p: float, what: str) -> None:  # noqa: ANN001
    """``ours`` equals scipy's inverse to :data:`REL`, or scipy's ``forward`` puts it at least as close to ``p``."""
    if rel(ours, theirs) <= REL:
        return
    mine, scipys = abs(forward(ours) - p), abs(forward(theirs) - p)
    assert mine <= scipys, f"{what}: ours {ours!r}, scipy {theirs!r} ({rel(ours, theirs):.1e}); " \
                           f"|F(x) - p|: ours {mine:.1e}, scipy {scipys:.1e}"


@pytest.mark.parametrize("df", DFS)
def test_t_quantile_matches_scipy_over_the_grid(df):
    for p in PS:
        assert_agrees(t_quantile(p, df), float(stdtrit(df, p)), lambda t, df=df: float(stdtr(df, t)), p,
                      f"df {df}, p {p}")


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, math.log(1e6)), st.one_of(st.sampled_from([0.025, 0.975]), st.floats(1e-10, 0.45),
                                                 st.floats(0.55, 1 - 1e-10)))
def test_t_quantile_matches_scipy_for_random_df(log_df, p):
    df = math.exp(log_df)
    assert_agrees(t_quantile(p, df), float(stdtrit(df, p)), lambda t: float(stdtr(df, t)), p, f"df {df!r}, p {p!r}")


@pytest.mark.parametrize("p", PS)
def test_t_with_one_and_two_degrees_of_freedom_is_the_closed_form(p):
    """df = 1 is Cauchy, t = tan(pi (p - 1/2)); df = 2: t = (2p - 1) / sqrt(2 p (1 - p)); both to a few ulps, and the
    iteration (df a hair off 1 and 2, where it is not special-cased) lands on them too."""
    # tan(pi (p - 1/2)) = -cot(pi p), written so that the argument of tan is small (pi (p - 1/2) near pi / 2 would
    # carry its rounding, 3e-16 absolute, into a relative error of 1e-16 / min(p, 1 - p))
    cauchy = -1 / math.tan(math.pi * p) if p < 0.5 else 1 / math.tan(math.pi * (1 - p))
    two = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    if 0.01 <= p <= 0.99:
        assert rel(t_quantile(p, 1), math.tan(math.pi * (p - 0.5))) <= 1e-14
    assert rel(t_quantile(p, 1), cauchy) <= 4 * sys.float_info.epsilon
    assert rel(t_quantile(p, 2), two) <= 4 * sys.float_info.epsilon
    assert rel(t_quantile(p, 1), float(stdtrit(1, p))) <= REL
    assert rel(t_quantile(p, 2), float(stdtrit(2, p))) <= REL
    assert rel(t_quantile(p, 1 + 1e-12), t_quantile(p, 1)) <= 1e-10
    assert rel(t_quantile(p, 2 - 1e-12), two) <= 1e-10


@pytest.mark.parametrize("df", [1.5, 3, 4, 7.5, 30])
@pytest.mark.parametrize("d", [1e-3, 1e-6, 1e-9, 1e-12])
def test_t_near_the_centre(df, d):
    """Near p = 1/2, where scipy's stdtrit loses digits: the quantile's Taylor series t = u + (df + 1) / (6 df) u^3
    + O(u^5), u = (p - 1/2) / f(0), f(0) = G((df + 1) / 2) / (sqrt(df pi) G(df / 2)) (from F(t) = 1/2 + f(0) (t -
    (df + 1) / (6 df) t^3 + ...)), to 1e-13 plus the size of the omitted u^5 term."""
    p = 0.5 - d
    f0 = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    u = (p - 0.5) / f0  # p - 1/2 is exact (Sterbenz): what the double p holds
    series = u + (df + 1) / (6 * df) * u**3
    ours = t_quantile(p, df)
    assert ours < 0
    assert rel(ours, series) <= 1e-13 + 10 * u**4


@pytest.mark.parametrize("a", SHAPES)
def test_beta_quantile_matches_scipy_over_the_grid(a):
    for b in SHAPES:
        for p in (0.025, 0.975, 1e-6, 0.3, 0.5, 0.9):
            assert_agrees(beta_quantile(p, a, b), float(betaincinv(a, b, p)),
                          lambda x, a=a, b=b: float(betainc(a, b, x)), p, f"a {a}, b {b}, p {p}")


@pytest.mark.parametrize("n", [5, 6, 20, 39, 100, 1000, 100_000])
def test_beta_quantile_matches_scipy_for_clopper_pearson_bounds(n):
    """The shapes pipeline.norms.position asks for: (k, n - k + 1) at 0.025 and (k + 1, n - k) at 0.975."""
    for k in sorted({1, 2, n // 3, n // 2, n - 2, n - 1, n} - {0}):
        for p, a, b in ((0.025, k, n - k + 1), (0.975, k + 1, n - k)):
            if b < 1:
                continue
            assert_agrees(beta_quantile(p, a, b), float(betaincinv(a, b, p)),
                          lambda x, a=a, b=b: float(betainc(a, b, x)), p, f"n {n}, k {k}, a {a}, b {b}, p {p}")


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 100_000), st.integers(1, 100_000), st.sampled_from([0.025, 0.975]))
def test_beta_quantile_matches_scipy_for_random_integer_shapes(a, b, p):
    assert_agrees(beta_quantile(p, a, b), float(betaincinv(a, b, p)), lambda x: float(betainc(a, b, x)), p,
                  f"a {a}, b {b}, p {p}")


def test_beta_quantile_closed_forms():
    """a = 1: x = 1 - (1 - p)^(1/b); b = 1: x = p^(1/a) (scipy's values)."""
    for n in (1, 2, 7, 1000, 100_000):
        for p in (0.025, 0.5, 0.975):
            assert rel(beta_quantile(p, 1, n), float(betaincinv(1, n, p))) <= REL
            assert rel(beta_quantile(p, n, 1), float(betaincinv(n, 1, p))) <= REL


def test_regularized_incomplete_beta_matches_scipy():
    for a in (0.5, 1, 2, 5, 10, 37.5, 100, 1000, 10_000, 100_000):
        for b in (0.5, 1, 2, 5, 10, 100, 1000, 10_000, 100_000):
            for x in (1e-6, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999999):
                ref = float(betainc(a, b, x))
                if ref > 1e-250:
                    assert rel(regularized_incomplete_beta(x, a, b), ref) <= 1e-12, (a, b, x)


BAD_P = (-0.1, 1.1, math.nan, -math.inf, math.inf)


@pytest.mark.parametrize("df", [0.0, -1.0, -math.inf, math.nan])
def test_invalid_degrees_of_freedom_give_nan_as_scipy(df):
    assert math.isnan(t_quantile(0.975, df)) and math.isnan(float(stdtrit(df, 0.975)))


@pytest.mark.parametrize("p", BAD_P)
def test_invalid_probability_gives_nan_as_scipy(p):
    assert math.isnan(t_quantile(p, 5)) and math.isnan(float(stdtrit(5, p)))
    assert math.isnan(beta_quantile(p, 2, 3)) and math.isnan(float(betaincinv(2, 3, p)))


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, 0), (-1, 2), (math.nan, 2), (2, math.nan)])
def test_invalid_shapes_give_nan_as_scipy(a, b):
    assert math.isnan(beta_quantile(0.5, a, b)) and math.isnan(float(betaincinv(a, b, 0.5)))
    assert math.isnan(regularized_incomplete_beta(0.5, a, b))


def test_the_ends_of_the_probability_range():
    """p = 0 and 1 are the ends of the support (scipy agrees for the beta and for t at p = 1; its stdtrit(df, 0)
    gives +inf, which is not the lower end)."""
    assert t_quantile(0.0, 5) == -math.inf and t_quantile(1.0, 5) == math.inf == float(stdtrit(5, 1.0))
    assert t_quantile(0.5, 5) == 0.0 and t_quantile(0.5, 1.3) == 0.0
    assert beta_quantile(0.0, 2, 3) == 0.0 == float(betaincinv(2, 3, 0.0))
    assert beta_quantile(1.0, 2, 3) == 1.0 == float(betaincinv(2, 3, 1.0))
    assert t_quantile(0.975, math.inf) == pytest.approx(1.959963984540054, rel=1e-15)


def test_the_inversion_is_bounded_when_newton_is_useless():
    """A residual whose slope is wrong by 30 orders of magnitude (every Halley step leaves the bracket), one whose
    slope is NaN, and one whose root is a jump (no step converges): each ends in bisection, within the caps."""
    calls = []

    def wild(x):
        calls.append(x)
        return x - 0.3, 1e-30, 0.0

    calls.clear()
    assert quantiles._solve(wild, 0.9, 0.0, 1.0) == pytest.approx(0.3, abs=1e-15)
    assert len(calls) <= quantiles.MAX_HALLEY_STEPS + quantiles.MAX_BISECTION_STEPS

    def no_slope(x):
        calls.append(x)
        return x - 0.7, math.nan, 0.0

    calls.clear()
    assert quantiles._solve(no_slope, 0.1, 0.0, 1.0) == pytest.approx(0.7, abs=1e-15)
    assert len(calls) <= 1 + quantiles.MAX_BISECTION_STEPS

    def step(x):
        calls.append(x)
        return (-1.0 if x < 0.25 else 1.0), 1.0, 0.0

    calls.clear()
    root = quantiles._solve(step, 0.9, 0.0, 1.0)
    assert root == pytest.approx(0.25, abs=1e-15)
    assert len(calls) <= quantiles.MAX_HALLEY_STEPS + quantiles.MAX_BISECTION_STEPS


def test_the_analysis_modules_use_these_quantiles_not_scipy():
    """statistics and norms.position import no scipy (checked on the source: the startup test checks the process)."""
    from pathlib import Path

    root = Path(quantiles.__file__).parent
    for rel_path in ("statistics.py", "norms/position.py", "quantiles.py"):
        imports = [line.split("#")[0] for line in (root / rel_path).read_text().splitlines()
                   if line.lstrip().startswith(("import ", "from "))]
        assert not [line for line in imports if "scipy" in line], rel_path


def test_a_real_analysis_gives_scipy_s_intervals():
    """The 95 % CIs of the means and the Clopper-Pearson bounds of the cohort positions of a real gaitpdb recording
    (sample_recordings/gaitpdb/GaCo01_01.h5, positioned in the shipped gaitpdb cohort) are scipy's to 1e-12."""
    from pathlib import Path

    from pipeline.analysis import analyze_session

    result = analyze_session(Path(__file__).resolve().parents[1] / "sample_recordings/gaitpdb/GaCo01_01.h5")
    n_ci = n_ref = 0
    for side in (result.metrics.left, result.metrics.right):
        for m in side.metrics():
            if m.ci95 is not None:
                half = float(stdtrit(m.n - 1, 0.975)) * m.sd / math.sqrt(m.n)
                assert rel((m.ci95[1] - m.ci95[0]) / 2, half) <= 1e-12, m.name
                n_ci += 1
            if m.reference is not None:
                n, (low, high) = m.reference.n, m.reference.percentile_ci
                lows = [0.0] + [100 * float(betaincinv(k, n - k + 1, 0.025)) for k in range(1, n + 1)]
                highs = [100 * float(betaincinv(k + 1, n - k, 0.975)) for k in range(n)] + [100.0]
                assert min(rel(low, x) for x in lows) <= 1e-12 and min(rel(high, x) for x in highs) <= 1e-12, m.name
                n_ref += 1
    assert n_ci >= 40 and n_ref >= 40  # both sides' metrics, nearly all with an interval and a position
