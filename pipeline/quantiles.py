"""Quantile functions of Student's t and of the beta distribution, in plain Python (``math`` only).

The analysis needs two quantiles: Student's t for the 95 % interval of a mean (:mod:`pipeline.statistics`) and the
beta for Clopper-Pearson bounds (:mod:`pipeline.norms.position`). ``scipy.special`` gives both, but importing it
costs 0.25-0.4 s on the 2-core reference machine, a third of what ``insole analyze`` of a 60 s file may take
(issue 15). These functions agree with ``scipy.special.stdtrit`` / ``betaincinv`` to 1e-13 relative over the ranges
tests/test_quantiles.py covers (df 1 to 1e6, shapes 1 to 100,000; worst 1.5e-14 for t), except where scipy's inverse
is itself off (its stdtrit within 0.05 of p = 1/2 for df = 4; its betaincinv for shapes 1,000 against 30,000 or
100,000, up to 4e-11): there mpmath at 40 digits sided with these, and scipy's own forward function (stdtr, betainc)
puts these closer to p. They take and return scalars: every caller asks for one quantile at a time, and a scalar
loop over ``math`` is faster than numpy for that (83 t quantiles of a 60 s analysis take about 10 ms).

Method
------
- Regularised incomplete beta :math:`I_x(a, b)`: the continued fraction of Numerical Recipes (Press et al. 2007,
  3rd ed., eq. 6.4.5, routine ``betacf``) evaluated by the modified Lentz method (Lentz 1976; Thompson & Barnett
  1986; NR section 5.2), for ``x < (a + 1) / (a + b + 2)`` and through :math:`I_x(a, b) = 1 - I_{1-x}(b, a)`
  above, as NR does. Both ``x`` and ``1 - x`` are carried, each as accurately as the caller knows it.
- Its front factor :math:`x^a (1-x)^b / B(a, b)` is not formed from ``lgamma`` differences, which lose about
  ``log10(a + b)`` digits for large ``a + b``; as in DiDonato & Morris (1992, Algorithm 708, function ``brcomp``)
  it is written around the mean ``x0 = a / (a + b)``:
  ``a ln(x / x0) + b ln((1 - x) / (1 - x0))`` with ``ln(1 + u) - u`` summed directly (the first-order terms
  cancel exactly), plus ``0.5 ln(a b / (2 pi (a + b)))`` and the Stirling corrections of ``lgamma``.
- Inversion: Halley's method, safeguarded by a bracket that every evaluation narrows (a step that leaves the
  bracket is replaced by a bisection), at most :data:`MAX_HALLEY_STEPS` steps, then bisection to the last bit
  (at most :data:`MAX_BISECTION_STEPS`). Start values: for the beta, NR's ``invbetai`` (Abramowitz & Stegun 1964,
  26.5.22); for t, the Cornish-Fisher expansion of A&S 26.7.5 around the normal quantile (A&S 26.2.23 refined by
  Halley steps on ``math.erfc``), and for few degrees of freedom the leading term of the tail,
  :math:`P(T > t) \\approx c_\\nu t^{-\\nu}`.
- Closed forms: t with 1 degree of freedom (Cauchy, ``1 / tan(pi s)``) and 2 (``(1 - 2 s) / sqrt(2 s (1 - s))``),
  with ``s`` the smaller tail; beta with ``a = 1`` (``1 - (1 - p)^(1/b)``) or ``b = 1`` (``p^(1/a)``). Where the
  Cornish-Fisher expansion's estimated error is below :data:`CORNISH_FISHER_ERROR` (many degrees of freedom) it is
  the answer: there NR's fraction, with ``a = df / 2`` large and ``x`` near 1, loses up to 1e-11.
- Where the fraction would run with a large first shape, a small second one and ``x`` near 1 (a skewed beta in its
  upper part), the all-positive hypergeometric series of A&S 26.5.23 replaces it (:data:`SERIES_MAX_SHAPE`).

References
----------
Abramowitz M, Stegun IA (1964). Handbook of Mathematical Functions. NBS AMS 55 (26.2.23, 26.5.22, 26.7.5).
DiDonato AR, Morris AH (1992). Algorithm 708: significant digit computation of the incomplete beta function
ratios. ACM Trans Math Softw 18(3):360-373.
Lentz WJ (1976). Generating Bessel functions in Mie scattering calculations using continued fractions. Appl Opt
15(3):668-671. Thompson IJ, Barnett AR (1986). J Comput Phys 64:490-509.
Press WH, Teukolsky SA, Vetterling WT, Flannery BP (2007). Numerical Recipes, 3rd ed., sections 5.2, 6.4, 6.14.
"""

from __future__ import annotations

import math
import sys

#: Machine epsilon of a double.
_EPS = sys.float_info.epsilon
#: NR's guard against a zero denominator in the modified Lentz method (any number near the smallest normal).
_FPMIN = 1e-300
_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)
#: Halley steps before the inversion falls back to bisection. From the start values below it takes at most 5 (t) and
#: 8 (beta) evaluations over the grid of tests/test_quantiles.py (counted while writing it); the cap bounds a
#: pathological case.
MAX_HALLEY_STEPS = 60
#: Bisection steps of the fallback: halving (geometric when the bracket spans more than a factor of 2) reaches
#: adjacent doubles from any bracket within the double range in far fewer (11 halvings of the exponent + 53 bits).
MAX_BISECTION_STEPS = 400
#: Terms of the continued fraction, fixed cap plus a multiple of sqrt(max(a, b)): NR (section 6.4) states that it
#: converges in O(sqrt(max(a, b))) terms; measured, at most 252 terms over the test grid (shapes up to 100,000).
_CF_TERMS_FIXED, _CF_TERMS_PER_SQRT = 200, 10.0
#: The t quantile is the Cornish-Fisher expansion alone where its estimated relative error is below this (from
#: df ~ 700 at p = 0.975, ~5,000 at p = 1e-10). There the continued fraction is the weak link: with a = df / 2 in the
#: hundreds of thousands and x near 1 it loses up to 1e-11 (measured against mpmath), the expansion none.
CORNISH_FISHER_ERROR = 1e-17
#: The continued fraction is replaced by the positive hypergeometric series where it would run with its first
#: shape large, the other at most this, and x near 1 (NR's fraction then loses up to 4e-13 relative against mpmath,
#: e.g. a = 5, b = 100,000, p = 0.975; with both shapes 1,000 or more it kept 1e-14 over the test grid) ...
SERIES_MAX_SHAPE = 1000.0
#: ... and where the series needs few terms and its terms stay far from overflow: (a + b) x at most the small shape
#: plus 10 times its square root (10 SD of the small side's count, past every quantile asked for) plus this many.
SERIES_EXTRA_TERMS = 200.0
#: Where the value wanted is 1 minus the series, the series serves only up to this (1 - s then keeps all but
#: log10(1 / (1 - s)) <= 1 of its digits), else the fraction.
SERIES_MAX_COMPLEMENTED = 0.9
#: Cap of the series (it needs about (a + b) x + 40 terms).
SERIES_MAX_TERMS = 20000


def _stirling_correction(z: float) -> float:
    """``lgamma(z) - ((z - 1/2) ln z - z + ln sqrt(2 pi))``: the Stirling series (A&S 6.1.41) from z = 10, whose
    six terms then leave under 2e-17; below, from ``math.lgamma`` directly."""
    if z >= 10.0:
        r = 1.0 / z
        r2 = r * r
        return r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 * (1 / 1188 - r2 * 691 / 360360)))))
    return math.lgamma(z) - ((z - 0.5) * math.log(z) - z + _HALF_LN_2PI)


def _log1pmx(u: float) -> float:
    """``ln(1 + u) - u`` without the cancellation of the two terms for small ``|u|`` (power series below 0.1)."""
    if abs(u) >= 0.1:
        return math.log1p(u) - u
    term, total, k = u, 0.0, 2
    while True:  # sum of (-1)^(k+1) u^k / k from k = 2; |u| < 0.1 reaches 1e-17 relative within 16 terms
        term *= -u
        piece = term / k
        total += piece
        if abs(piece) <= 1e-17 * abs(total) or k > 40:
            return total
        k += 1


def _log_front(a: float, b: float, x: float, y: float) -> float:
    """``ln(x^a y^b / B(a, b))`` with ``y = 1 - x``, around the mean (DiDonato & Morris 1992, ``brcomp``)."""
    c = a + b
    e = x * c - a if x <= y else b - y * c  # c (x - a / c), from whichever of x, y is known to full precision
    u, v = e / a, -e / b
    # a ln(1 + u) + b ln(1 + v), of which a u + b v = 0 cancels exactly; far below the mean from x (or y) itself
    la = a * (_log1pmx(u) if u > -0.5 else math.log(x * (c / a)) - u)
    lb = b * (_log1pmx(v) if v > -0.5 else math.log(y * (c / b)) - v)
    return (la + lb + 0.5 * math.log(a * (b / c)) - _HALF_LN_2PI
            - (_stirling_correction(a) + _stirling_correction(b) - _stirling_correction(c)))


def _beta_cf(a: float, b: float, x: float) -> float:
    """NR's continued fraction for ``I_x(a, b) B(a, b) a / (x^a (1-x)^b)`` by the modified Lentz method; NaN when it
    has not converged within its cap of terms."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) >= _FPMIN else _FPMIN)
    h = d
    for m in range(1, int(_CF_TERMS_FIXED + _CF_TERMS_PER_SQRT * math.sqrt(max(a, b)))):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) >= _FPMIN else _FPMIN)
        c = 1.0 + aa / c
        c = c if abs(c) >= _FPMIN else _FPMIN
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) >= _FPMIN else _FPMIN)
        c = 1.0 + aa / c
        c = c if abs(c) >= _FPMIN else _FPMIN
        step = d * c
        h *= step
        if abs(step - 1.0) <= _EPS:
            return h
    return math.nan


def _ibeta_pair(a: float, b: float, x: float, y: float, log_front: float) -> tuple[float, float]:
    """``(I_x(a, b), 1 - I_x(a, b))``, the one from the continued fraction to full relative precision, the other its
    complement; ``log_front`` is :func:`_log_front` of the same arguments."""
    direct = x < (a + 1.0) / (a + b + 2.0)
    big, small, w = (a, b, y) if direct else (b, a, x)  # the fraction's first parameter, the other, 1 - its x
    if (big > small and small <= SERIES_MAX_SHAPE and w <= 0.5
            and (a + b) * w <= small + 10.0 * math.sqrt(small) + SERIES_EXTRA_TERMS):
        # the fraction would run with a large first parameter and its x near 1: the positive series instead,
        # unless the value wanted is its complement and small (1 - s would then lose digits)
        s = math.exp(log_front) * _beta_series(small, big, w) / small  # I_w(small, big)
        if 0.0 <= s <= 1.0 and not direct:
            return s, 1.0 - s
        if 0.0 <= s <= SERIES_MAX_COMPLEMENTED:
            return 1.0 - s, s
    if direct:
        i = math.exp(log_front) * _beta_cf(a, b, x) / a
        return i, 1.0 - i
    j = math.exp(log_front) * _beta_cf(b, a, y) / b
    return 1.0 - j, j


def _beta_series(a: float, b: float, x: float) -> float:
    """``I_x(a, b) B(a, b) a / (x^a (1-x)^b) = 2F1(a + b, 1; a + 1; x)`` (A&S 26.5.23 with 15.3.3), summed as the
    hypergeometric series, all of whose terms are positive (no cancellation); ``(a + b) x / (a + 1)`` terms and a few
    dozen more for double precision. NaN past :data:`SERIES_MAX_TERMS`."""
    term, total, n = 1.0, 1.0, 0
    c = a + b
    while n < SERIES_MAX_TERMS:
        ratio = (c + n) * x / (a + 1.0 + n)
        term *= ratio
        total += term
        n += 1
        bound = max(ratio, x)  # later ratios are at most this (they tend to x, from above when b > 1)
        if bound < 1.0 and term * bound <= 0.25 * _EPS * total * (1.0 - bound):  # geometric bound on the rest
            return total
    return math.nan


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """:math:`I_x(a, b)`, the beta distribution function (``scipy.special.betainc(a, b, x)``); NaN for ``a <= 0``,
    ``b <= 0``, ``x`` outside [0, 1] or NaN."""
    if not (a > 0 and b > 0 and 0.0 <= x <= 1.0) or math.isinf(a) or math.isinf(b):
        return math.nan
    if x == 0.0 or x == 1.0:
        return x
    y = 1.0 - x
    return _ibeta_pair(a, b, x, y, _log_front(a, b, x, y))[0]


def _bisection_point(lo: float, hi: float) -> float:
    """The next point of a bisection of ``(lo, hi)``: geometric when that spans more than a factor of 2 (so that a
    root near 0 or far out is reached in as many steps as bits), else arithmetic."""
    if math.isinf(hi):
        return 2.0 * lo if lo > 0 else 1.0
    if lo > 0 and hi > 2.0 * lo:
        return math.sqrt(lo) * math.sqrt(hi)
    if lo == 0 and hi > 0:
        return 0.5 * hi
    return 0.5 * (lo + hi)


def _solve(residual, start: float, lo: float, hi: float) -> float:  # noqa: ANN001 (a private callable)
    """Root of an increasing ``residual`` in ``(lo, hi)`` (a bound may be infinite), which returns
    ``(r, r', r'' / r')``: safeguarded Halley steps from ``start``, then bisection.

    A Newton step of relative size d leaves an error of about ``(x r'' / (2 r')) d^2`` (Halley's less); the
    iteration stops once that is below a quarter of machine epsilon, i.e. at the last bit.
    """
    x = start if lo < start < hi else _bisection_point(lo, hi)
    for _ in range(MAX_HALLEY_STEPS):
        r, slope, curvature = residual(x)
        if r == 0.0:
            return x
        if not (math.isfinite(r) and slope > 0 and math.isfinite(slope)):
            break
        if r < 0:
            lo = x
        else:
            hi = x
        u = r / slope
        # Halley's correction where it is small (|u r''/r'| <= 1), else Newton's step: far from the root the
        # correction could shrink a step to a crawl (a bisection then takes over when Newton leaves the bracket)
        step = u / (1.0 - 0.5 * u * curvature) if abs(u * curvature) <= 1.0 else u
        new = x - step
        d = step / x
        if d * d * max(1.0, 0.5 * abs(x * curvature)) <= 0.25 * _EPS:  # converged: the error left is below rounding
            return new if lo <= new <= hi else x
        x = new if lo < new < hi else _bisection_point(lo, hi)
    for _ in range(MAX_BISECTION_STEPS):  # fallback: plain bisection of what is left of the bracket
        mid = _bisection_point(lo, hi)
        if not lo < mid < hi:
            return mid if math.isfinite(mid) else math.nan
        r = residual(mid)[0]
        if r != r:
            return math.nan
        if r == 0.0:
            return mid
        if r < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi) if math.isfinite(hi) else math.nan


def _beta_start(p: float, a: float, b: float) -> float:
    """NR's start value of ``invbetai``: A&S 26.5.22 for a, b >= 1, else the leading power of either tail."""
    if a >= 1 and b >= 1:
        pp = p if p < 0.5 else 1.0 - p
        t = math.sqrt(-2.0 * math.log(pp))
        z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t
        z = -z if p < 0.5 else z
        al = (z * z - 3.0) / 6.0
        h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0))
        skew = 1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)
        w = z * math.sqrt(al + h) / h - skew * (al + 5.0 / 6.0 - 2.0 / (3.0 * h))
        return a / (a + b * math.exp(2.0 * w)) if w < 350 else 0.0
    lna, lnb = math.log(a / (a + b)), math.log(b / (a + b))
    t, u = math.exp(a * lna) / a, math.exp(b * lnb) / b
    w = t + u
    return (a * w * p) ** (1.0 / a) if p < t / w else 1.0 - (b * w * (1.0 - p)) ** (1.0 / b)


def beta_quantile(p: float, a: float, b: float) -> float:
    """The ``p`` quantile of the beta distribution with shapes ``a``, ``b`` (``scipy.special.betaincinv(a, b, p)``).

    Parameters
    ----------
    p : float
        Probability, 0 to 1 (0 gives 0, 1 gives 1).
    a, b : float
        Shape parameters, > 0 and finite.

    Returns
    -------
    float
        ``x`` with ``I_x(a, b) = p``; NaN for an invalid argument (``p`` outside [0, 1], ``a`` or ``b`` <= 0,
        infinite, or NaN), as scipy gives.
    """
    if not (a > 0 and b > 0 and 0.0 <= p <= 1.0) or math.isinf(a) or math.isinf(b):
        return math.nan
    if p == 0.0 or p == 1.0:
        return p
    if a == 1.0:  # I_x(1, b) = 1 - (1 - x)^b
        return -math.expm1(math.log1p(-p) / b)
    if b == 1.0:  # I_x(a, 1) = x^a
        return math.exp(math.log(p) / a)
    lower = p <= 0.5
    q = 1.0 - p  # exact for p >= 0.5 (Sterbenz)

    def residual(x: float) -> tuple[float, float, float]:
        y = 1.0 - x
        lf = _log_front(a, b, x, y)
        i, j = _ibeta_pair(a, b, x, y, lf)
        r = i - p if lower else q - j
        return r, math.exp(lf) / (x * y), (a - 1.0) / x - (b - 1.0) / y

    return _solve(residual, _beta_start(p, a, b), 0.0, 1.0)


def _normal_upper_quantile(s: float) -> float:
    """``z > 0`` with ``P(Z > z) = s`` for ``0 < s < 0.5``: A&S 26.2.23 (|error| < 4.5e-4), then Halley steps on
    ``0.5 erfc(z / sqrt 2)``, each of which cubes the relative error."""
    t = math.sqrt(-2.0 * math.log(s))
    z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
    for _ in range(4):
        u = (0.5 * math.erfc(z / math.sqrt(2.0)) - s) / math.exp(-0.5 * z * z - _HALF_LN_2PI)
        step = u / (1.0 - 0.5 * u * z)
        z += step
        if abs(step) <= 1e-6 * z:  # the next error is ~step^3 relative: below rounding
            break
    return z


def _cornish_fisher(z: float, df: float) -> tuple[float, float]:
    """The t quantile from the normal one ``z`` by the Cornish-Fisher expansion to the fifth power of 1 / df
    (A&S 26.7.5 gives g1-g4; g5 from Fisher & Cornish 1960, checked here against scipy: adding it shrinks the error
    by the factor ~z^2 / df the next term predicts), and an estimate of its relative error: the last term times
    ``(1 + z^2) / df`` (measured: the error left is 0.9 / df to 1.9 / df of the last term for z = 2 to 4.8)."""
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    g5 = (((((27.0 * z2 + 339.0) * z2 + 930.0) * z2 - 1782.0) * z2 - 765.0) * z2 + 17955.0) * z / 368640.0
    t = z + (g1 + (g2 + (g3 + (g4 + g5 / df) / df) / df) / df) / df
    return t, abs(g5 / df**5) * (1.0 + z2) / df / t


def _t_upper(s: float, df: float) -> float:
    """``t > 0`` with ``P(T > t) = s`` (``0 < s < 0.5``) for ``df`` degrees of freedom."""
    if df == 1.0:
        return 1.0 / math.tan(math.pi * s)
    if df == 2.0:
        return (1.0 - 2.0 * s) / math.sqrt(2.0 * s * (1.0 - s))
    z = _normal_upper_quantile(s)
    if math.isinf(df):
        return z
    start, error = _cornish_fisher(z, df)
    if error <= CORNISH_FISHER_ERROR:
        return start
    a = 0.5 * df
    # P(T > t) ~ c t^-df with c = df^(df/2 - 1/2) Gamma((df+1)/2) / (sqrt(pi) Gamma(df/2)) (the density's tail)
    log_c = (a - 0.5) * math.log(df) + math.lgamma(a + 0.5) - math.lgamma(a) - 0.5 * math.log(math.pi)
    tail_start = math.exp((log_c - math.log(s)) / df)
    if df < 4 and s < 0.1:  # few df, in the tail: the expansion in 1 / df falls short, the tail's power is close
        start = max(start, tail_start)

    def residual(t: float) -> tuple[float, float, float]:
        tt = t * t
        den = df + tt
        x, y = df / den, tt / den
        lf = _log_front(a, 0.5, x, y)
        i, j = _ibeta_pair(a, 0.5, x, y, lf)  # I_x(df/2, 1/2) = P(|T| > t), and P(|T| <= t)
        # near the centre from P(|T| <= t), small and accurate there, and s - 1/2, exact for s >= 1/4 (Sterbenz)
        r = (s - 0.5) + 0.5 * j if s >= 0.25 else s - 0.5 * i
        return r, math.exp(lf) / t, -(df + 1.0) * t / den

    return _solve(residual, start, 0.0, math.inf)


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``scipy.special.stdtrit(df, p)``).

    Parameters
    ----------
    p : float
        Probability, 0 to 1 (0 gives -inf, 1 gives +inf).
    df : float
        Degrees of freedom, > 0, not necessarily an integer (a Welch df); ``inf`` gives the normal quantile.

    Returns
    -------
    float
        ``t`` with ``P(T <= t) = p``; NaN for an invalid argument (``p`` outside [0, 1], ``df <= 0``, NaN), as scipy
        gives.
    """
    if not (df > 0 and 0.0 <= p <= 1.0):
        return math.nan
    if p == 0.5:
        return 0.0
    if p == 0.0 or p == 1.0:
        return math.copysign(math.inf, p - 0.5)
    if p > 0.5:
        return _t_upper(1.0 - p, df)  # 1 - p exact for p >= 0.5 (Sterbenz)
    return -_t_upper(p, df)
