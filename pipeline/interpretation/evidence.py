"""The evidence base of the back-strain section, as data.

Every entry is transcribed from ``shared/design/gait-evidence.md`` ("Links to low back pain" table and the
"Asymmetry and leg-length discrepancy" and "Foot-function indices" sections). Nothing here is a new claim: if a
figure is not in that note, it is not in this module. ``checked`` says whether the design note marks the source as
read in the original text.

The three kinetic-chain links the report shows are:

``pronation``
    pronated dynamic foot function -> internal rotation -> pelvic tilt -> lumbar strain.
``supination``
    supinated, rigid foot -> impact loading.
``asymmetry``
    asymmetry consistent with a leg-length difference -> pelvic drop -> one-sided strain.

Grades are the note's own words ("low", "very low", "plausible, small effect", "very low / contradicted"); none of
the links reaches moderate or high evidence, and the report says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Study:
    """One source behind a link.

    Attributes
    ----------
    citation : str
        Authors, year, journal as given in gait-evidence.md.
    design : str
        Study design (cross-sectional, RCT, systematic review, lab study, ...).
    population : str
        Who was studied, with the sample size when the note gives it.
    effect : str
        What was found, with the confidence interval when the note gives one.
    measurement : str
        How the source measured the foot (so a reader can judge how far an insole figure transfers).
    checked : bool
        True when gait-evidence.md marks the source ``[checked]``.
    verified_in : str
        For a figure that is not in gait-evidence.md: where it was read and verified (the source's DOI and what
        of it was read); empty for entries transcribed from the note.
    """

    citation: str
    design: str
    population: str
    effect: str
    measurement: str = ""
    checked: bool = False
    verified_in: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class EvidenceLink:
    """One kinetic-chain link with its evidence.

    Attributes
    ----------
    link_id : str
        ``"pronation"``, ``"supination"`` or ``"asymmetry"``.
    title : str
        Short title shown on the card.
    chain : tuple of str
        The hypothesised chain, foot first.
    grade : str
        Strength of evidence for the link to low back pain, as graded in gait-evidence.md.
    studies : tuple of Study
    limits : tuple of str
        What insoles cannot see for this link.
    """

    link_id: str
    title: str
    chain: tuple[str, ...]
    grade: str
    studies: tuple[Study, ...]
    limits: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "link_id": self.link_id,
            "title": self.title,
            "chain": list(self.chain),
            "grade": self.grade,
            "studies": [s.to_dict() for s in self.studies],
            "limits": list(self.limits),
        }


#: Source of every entry of this module (path relative to the repository's sibling ``shared/`` folder).
SOURCE_NOTE = "shared/design/gait-evidence.md"

#: Evidence on foot orthoses for low back pain (used to grade the "orthoses" next step, not a link of its own).
ORTHOSES_EVIDENCE = (
    Study(
        citation="Sahar et al. 2007, Cochrane review",
        design="systematic review of randomised trials (prevention)",
        population="trials of insoles for preventing back pain",
        effect="risk ratio 0.73 (95% CI 0.43 to 1.22)",
    ),
    Study(
        citation="Chuter et al. 2014",
        design="systematic review and meta-analysis (treatment)",
        population="trials of foot orthoses for treating back pain",
        effect="standardised mean difference -0.74 (95% CI -1.5 to 0.03); small RCTs with mixed results",
    ),
)
ORTHOSES_GRADE = "low / very low"

#: Evidence on gait asymmetry and variability in people with low back pain (context for the asymmetry link).
GAIT_LBP_EVIDENCE = Study(
    citation="Smith et al. 2022",
    design="systematic review",
    population="people with and without low back pain",
    effect="slower walking and shorter strides with low back pain; no consistent asymmetry effect",
)
GAIT_LBP_GRADE = "very low"

#: Walking speed and stride length in people with persistent low back pain: the gait measures with the most
#: consistent association. The figures are not in gait-evidence.md (its row says "slower, shorter strides"); they
#: were read in the source's abstract (``verified_in``).
SPEED_EVIDENCE = Study(
    citation="Smith JA et al. 2022, J Sport Health Sci 11:450-465",
    design="systematic review and meta-analysis of 97 studies (20 % with high reporting quality / low risk of bias)",
    population="people with persistent low back pain against back-healthy controls",
    effect="slower walking, standardised mean difference -0.59 (95% CI -0.77 to -0.42); shorter strides, -0.38 "
           "(95% CI -0.60 to -0.16)",
    measurement="laboratory and clinical gait analysis at self-selected walking speed",
    verified_in="abstract of doi:10.1016/j.jshs.2022.02.001 (PubMed 35151908), read 2026-12-01",
)
#: The source's own grade of the speed and stride-length association.
SPEED_GRADE = ("moderate to strong (the review's own conclusion for persistent low back pain); cross-sectional "
               "studies: slower walking may follow the pain rather than lead to it")

LINKS: dict[str, EvidenceLink] = {
    "pronation": EvidenceLink(
        link_id="pronation",
        title="Pronated foot function and the lower back",
        chain=("pronated dynamic foot function", "internal rotation of the leg", "pelvic tilt", "lumbar strain"),
        grade="low (foot function and back pain); plausible, small effect (kinetic chain)",
        studies=(
            Study(
                citation="Menz et al. 2013, Rheumatology (Framingham Foot Study)",
                design="cross-sectional",
                population="n = 1,930 older community adults",
                effect=(
                    "women with the most pronated foot function: odds ratio 1.51 (95% CI 1.10 to 2.07) for low back "
                    "pain, 1.48 adjusted; no association in men; static foot posture and asymmetry not associated"
                ),
                measurement="barefoot walking over a pressure platform; CPEI; pronated = the lowest sample quintile",
                checked=False,
            ),
            Study(
                citation="Khamis & Yizhar 2007",
                design="laboratory study with wedges",
                population="standing adults",
                effect="induced foot pronation was associated with pelvic tilt (standing); no pain outcome",
            ),
            Study(
                citation="Hornestam et al. 2021",
                design="laboratory study",
                population="walking adults",
                effect="pelvic drop +0.5 deg and hip internal rotation +1.4 deg with pronation; no pain outcome",
            ),
        ),
        limits=(
            "Insoles see the pressure under the foot, not the leg, pelvis or spine: the chain beyond the foot is "
            "not measured here.",
            "An insole CPEI is confined to the sensor hull and quantised; it is positioned among healthy people "
            "recorded with the same insole model (a reference cohort), never against platform CPEI values.",
        ),
    ),
    "supination": EvidenceLink(
        link_id="supination",
        title="Supinated, rigid foot and impact loading",
        chain=("supinated, rigid foot (high arch)", "less shock absorption", "impact loading of the spine"),
        grade="very low / contradicted",
        studies=(
            Study(
                citation="Ogon et al. 1999",
                design="laboratory study, running",
                population="n = 12 adults with high and normal arches",
                effect="high arches had lower L3 acceleration (opposite to the hypothesised direction)",
                measurement="static arch height; accelerometer at the third lumbar vertebra, while running",
            ),
            Study(
                citation="Menz et al. 2013 (Framingham Foot Study)",
                design="cross-sectional",
                population="n = 1,930 older community adults",
                effect="no association of supinated foot function with low back pain",
                measurement="barefoot walking over a pressure platform; CPEI; supinated = the highest sample quintile",
            ),
        ),
        limits=(
            "Insoles measure load above the midsole at 50-100 Hz: loading rate is a within-subject, between-side "
            "proxy, not an impact measurement.",
        ),
    ),
    "asymmetry": EvidenceLink(
        link_id="asymmetry",
        title="Left-right asymmetry, leg-length difference and one-sided strain",
        chain=(
            "asymmetry consistent with a leg-length difference",
            "pelvic drop",
            "one-sided lumbar strain",
        ),
        grade="low (leg-length difference and back pain); very low (gait asymmetry and back pain)",
        studies=(
            Study(
                citation="Kaufman et al. 1996",
                design="gait laboratory study",
                population="adults with leg-length differences",
                effect=(
                    "leg-length difference > 2 cm (3.7%) gave asymmetry beyond normal in contact time, force peaks "
                    "and loading rates"
                ),
                checked=True,
            ),
            Study(
                citation="Pereiro-Buceta et al. 2021",
                design="experimental (simulated leg-length difference)",
                population="healthy adults with lifts",
                effect="long-leg stance +3.5 %, long-leg peak pressure -12 %",
                checked=True,
            ),
            Study(
                citation="Knutson 2005",
                design="review",
                population="anatomical leg-length difference in the population",
                effect="leg-length difference is common (mean 5 mm); clinically relevant around 20 mm",
            ),
            Study(
                citation="Rannisto et al. 2015",
                design="cross-sectional",
                population="standing workers",
                effect="leg-length difference >= 6 mm associated with low back pain",
            ),
            GAIT_LBP_EVIDENCE,
        ),
        limits=(
            "Insoles cannot measure leg length: asymmetry has many explanations (pain, injury, footwear, "
            "habit, a leg-length difference among them).",
            "Some asymmetry is normal (Riskowski 2012).",
        ),
    ),
}

#: Reference populations used to position a patient's insole CPEI (gait-evidence.md, "Foot-function indices").
CPEI_REFERENCE = {
    "source": "military cadets, 2,180 feet, pressure platform (PMC7393860), via gait-evidence.md",
    "group_means_pct": {"planus": 21.6, "rectus": 22.8, "cavus": 23.9},
    "caveats": (
        "Framingham used sample quintiles (lowest 20 % pronated, highest 20 % supinated), not fixed cut-offs; "
        "Buldt et al. 2018 found no CPEI difference between foot types (n = 92); an insole CPEI from 8-16 cells "
        "carries about +-7 CPEI points of error per step. The CPEI describes the centre-of-pressure path, not foot "
        "posture: in neurological gait the path changes with the gait disorder (most feet of the PhysioNet "
        "Parkinson's walks fall in the controls' lowest fifth, docs/analysis-validation.md), so a low insole CPEI "
        "there need not reflect the foot."
    ),
}

#: Simulated leg-length-difference pattern (Pereiro-Buceta et al. 2021) used as the reference for asymmetry.
LLD_REFERENCE = {
    "source": "Pereiro-Buceta et al. 2021 (simulated leg-length difference), via gait-evidence.md",
    "long_leg_stance_change_pct": 3.5,
    "long_leg_peak_pressure_change_pct": -12.0,
}

#: Every work cited by the report, for the references list.
REFERENCES: tuple[str, ...] = (
    "Blades et al. 2023, Sensors - event detection from summed insole pressure in running.",
    "Buldt et al. 2018 - CPEI and lateral-medial force index by foot type (n = 92).",
    "Catalfamo et al. 2008, Gait Posture - F-Scan event detection against a force plate: the force-threshold "
    "method had the largest errors of the methods compared (IC 42 +- 11 ms).",
    "Cavanagh PR & Lafortune MA 1980, J Biomech - strike index.",
    "Clopper CJ & Pearson ES 1934, Biometrika - exact binomial confidence limits (percentile intervals).",
    "Chuter et al. 2014 - foot orthoses for low back pain (meta-analysis).",
    "Hausdorff, Ladin & Wei 1995, J Biomech - footswitch event accuracy.",
    "Hausdorff et al. 1999 - stride-time variability in healthy adults.",
    "Hornestam et al. 2021 - foot pronation, pelvic drop and hip rotation in walking.",
    "Kaufman et al. 1996 - gait asymmetry and leg-length difference.",
    "Khamis & Yizhar 2007 - induced pronation and pelvic alignment.",
    "Kirtley C, Whittle MW & Jefferson RJ 1985, J Biomed Eng - stance duration vs walking speed "
    "(stance % = 64.2 - 3.5 x speed).",
    "Knutson 2005 - prevalence and relevance of leg-length difference.",
    "Melvin et al. 2014 - number of steps for stable plantar-pressure means.",
    "Menz et al. 2013, Rheumatology - foot posture, foot function and low back pain (Framingham Foot Study; "
    "barefoot platform CPEI quintiles).",
    "Novacheck TF 1998, Gait Posture - running: stance under half of the gait cycle.",
    "Ogon et al. 1999 - arch height and spinal shock in running (n = 12).",
    "Pereiro-Buceta et al. 2021 - simulated leg-length difference and plantar pressure.",
    "Rannisto et al. 2015 - leg-length difference and low back pain in standing workers.",
    "Riskowski 2012 - normal gait asymmetry.",
    "Robinson et al. 1987 - symmetry index.",
    "Salis et al. 2021, J Biomech - gait events from a 16-cell insole using sensor clusters.",
    "Sahar et al. 2007, Cochrane - insoles for prevention and treatment of back pain.",
    "Smith et al. 2022 - gait in people with low back pain (review).",
    "Song et al. 1996, JAPMA - centre of pressure excursion index (CPEI).",
    "Woodard et al. 1999 - loading rate definitions.",
    "Zifchock et al. 2008 - symmetry angle.",
)

#: Statistical methods used by the before/after comparison (standard references, not from gait-evidence.md).
STATISTICS_REFERENCES: tuple[str, ...] = (
    "Hedges LV & Olkin I 1985, Statistical Methods for Meta-Analysis - Hedges' g (bias-corrected standardised "
    "mean difference).",
    "Cliff N 1993, Psychological Bulletin 114:494-509 - Cliff's delta (ordinal dominance).",
    "Romano J et al. 2006, Florida Association of Institutional Research - magnitude thresholds for Cliff's delta "
    "(0.147 / 0.33 / 0.474).",
    "Efron B & Tibshirani RJ 1993, An Introduction to the Bootstrap - percentile bootstrap intervals.",
    "Welch BL 1947, Biometrika 34:28-35 - confidence interval of a difference of means with unequal variances.",
    "Weir JP 2005, J Strength Cond Res 19:231-240 - standard error of measurement (SEM).",
    "Haley SM & Fragala-Pinkham MA 2006, Phys Ther 86:735-743 - minimal detectable change MDC95 = 1.96 x sqrt(2) "
    "x SEM.",
)
