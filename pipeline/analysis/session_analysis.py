"""Session analysis: from a session file (or an in-memory session) to the typed result.

Per foot (:mod:`.foot_analysis`): pass 1 streams the file in blocks for total force, events and strides follow,
then force curves, then pass 2 reads the frames of each step for CoP, regions and indices. Both feet together
(:mod:`.assemble`): pairing and double support, steady-state selection, summaries (:mod:`.summary`), foot-function
label (:mod:`.foot_function`), symmetry and the LLD pattern (:mod:`.symmetry`), quality gates (:mod:`.quality`)
and provenance, into :class:`~pipeline.analysis.result.AnalysisResult`. Memory: 12 bytes per frame per foot plus
one read block (or the pressure itself when a foot fits in ``AnalysisParams.cache_mb``, to avoid reading it twice);
the per-step curves wait for assembly in a temporary file on long recordings (:mod:`.spill`), with the first
foot's step table while the second foot is analysed, the C heap's free pages are returned to the system after
each foot analysed alone (:func:`release_free_heap`), and a streamed recording's large temporaries get mappings of
their own (:func:`map_large_blocks`); a session analysed in parallel keeps its freed memory for reuse
(:func:`keep_freed_memory`).

BLAS runs on one thread while a session is analysed (``threadpoolctl``; the caller's setting is restored after):

- The products of the analysis are small (one read block of cells against a dozen weights), and a BLAS thread pool
  costs more than it gives. On the 2-core machine under load, ``insole analyze`` of a 60 s file took 1.46 s with
  the default pool against 1.04 s on one thread, and a 1-hour file 4.55 s against 3.44 s (medians of 3).
- A threaded float32 product's last bits depend on the number of threads, so the same file gave figures that
  differed in the 8th-10th digit at the command line, in the nightly batch (whose workers run one thread each) and
  on machines with other core counts. On one thread they are the same wherever the same BLAS runs the same
  kernel; OpenBLAS chooses its kernels by CPU, so a machine of another kind can differ in the last float32 bits
  (the gaitpdb cohort with its SkylakeX kernel against its Haswell one: at most 4.6e-7 relative; tests/test_norms.py).

The two feet of a session whose pressure is at most :data:`PARALLEL_MB` are analysed in two threads, and its
symmetry bootstrap runs beside the curve summaries, its draws counted in as many threads, when
:func:`insole.threads.worker_threads` allows two (numpy works without Python's lock for most of a foot's time):
each computation is the same as alone, so are the figures. The foot threads inflate their own reads (without
the pool beside them). A longer recording's feet are analysed one after the other, where memory is what limits;
so are a batch worker's (one thread each).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path

from threadpoolctl import threadpool_limits

from insole.provenance import BackgroundSha256
from insole.session import Session, inflate_in_calling_thread, open_session
from insole.threads import worker_threads
from pipeline.analysis.assemble import assemble
from pipeline.analysis.events import ContactEventDetection, definition_for
from pipeline.analysis.foot_analysis import FootAnalysis, analyse_foot
from pipeline.analysis.foot_source import FootSource
from pipeline.analysis.plausibility import plausible_body_mass
from pipeline.analysis.references import resolve_cohort
from pipeline.analysis.result import AnalysisResult
from pipeline.errors import AnalysisError
from pipeline.norms.cohort import Cohort


@dataclass(frozen=True)
class AnalysisParams:
    """Parameters of the analysis (stored in the provenance of every result).

    Attributes
    ----------
    on_share, off_share : float
        Contact hysteresis thresholds as shares of the stance level (or body weight), see :mod:`.events`.
    noise_sd_on, noise_sd_off, noise_sd_onset : float
        Minimum thresholds in SDs of the swing noise.
    baseline_window_s : float
        Running-minimum baseline window.
    merge_gap_s, min_blip_s, max_refine_s : float
        Merge short off-intervals, drop short contacts, limit of the onset refinement.
    block_frames : int
        Frames per read block.
    cache_mb : float
        A foot whose pressure fits in this many MB is read once and kept for pass 2; larger feet are streamed
        twice, so memory stays bounded for any recording length.
    event_definition : {"auto", "threshold", "onset"}
        Which IC/TO definition times strides and phases (:mod:`.events`): ``auto`` uses ``onset`` for one-sensor
        footswitch insoles and ``threshold`` for every other insole, as the real reference data support.
    """

    # the detector's own defaults, so that the two cannot drift apart
    on_share: float = ContactEventDetection.on_share
    off_share: float = ContactEventDetection.off_share
    noise_sd_on: float = ContactEventDetection.noise_sd_on
    noise_sd_off: float = ContactEventDetection.noise_sd_off
    noise_sd_onset: float = ContactEventDetection.noise_sd_onset
    onset_share: float = ContactEventDetection.onset_share
    baseline_window_s: float = ContactEventDetection.baseline_window_s
    merge_gap_s: float = ContactEventDetection.merge_gap_s
    min_blip_s: float = ContactEventDetection.min_blip_s
    max_refine_s: float = ContactEventDetection.max_refine_s
    block_frames: int = 1 << 16
    cache_mb: float = 256.0
    event_definition: str = "auto"

    def detector(self, n_sensors: int) -> ContactEventDetection:
        """The event detector with these parameters, for an insole with ``n_sensors`` cells."""
        shared = {f.name for f in fields(ContactEventDetection) if f.init} & {f.name for f in fields(self)}
        return ContactEventDetection(**{name: getattr(self, name) for name in shared},
                                     definition=definition_for(n_sensors, self.event_definition))


def analyze_session(source: str | Path | Session, params: AnalysisParams | None = None, *,
                    cohort: Cohort | str | Path | None = "auto") -> AnalysisResult:
    """Analyse a session file (streamed in blocks) or an in-memory :class:`~insole.session.Session`.

    Parameters
    ----------
    source : path or Session
    params : AnalysisParams, optional
    cohort : Cohort, path, "auto" or None
        The reference cohort every metric is positioned in (:mod:`pipeline.norms`): a cohort or its file (it must
        cover the session's insoles), ``"auto"`` for the shipped cohort of the session's device family if there is
        one, or None for no positions (then the foot-function label and the leg-length pattern are not assessed).

    Raises
    ------
    AnalysisError
        The session cannot be analysed (no walking on any foot, constant or unloaded signals, unknown units).
    insole.errors.InsoleError
        The file is not a valid session (from :func:`insole.session.open_session`).
    pipeline.norms.cohort.CohortError
        The given cohort cannot be read or covers other insoles.
    """
    with threadpool_limits(limits=1, user_api="blas"):  # see the module description
        return _analyze_session(source, params or AnalysisParams(), cohort)


def _analyze_session(source: str | Path | Session, params: AnalysisParams, cohort: Cohort | str | Path | None
                     ) -> AnalysisResult:
    with contextlib.ExitStack() as stack:
        if isinstance(source, Session):
            path = Path(source.path)
            attrs, metadata = dict(source.attrs), source.metadata
            sources = {s: FootSource.from_foot(f) for s, f in source.feet.items()}
        else:
            path = Path(source)
            sf = stack.enter_context(open_session(path))
            attrs, metadata = dict(sf.attrs), sf.metadata
            sources = {s: FootSource.from_file(sf, s) for s in sf.sides}
        if not sources:
            raise AnalysisError(f"{path}: the session has no foot recorded")
        digest = BackgroundSha256(path) if path.is_file() else None  # while the feet are analysed
        chosen = resolve_cohort(cohort, sources)  # a cohort of other insoles is refused before any work
        pressure_bytes = [src.n_frames * src.n_sensors * 4 for src in sources.values()]
        streamed = any(b > params.cache_mb * 1e6 for b in pressure_bytes)
        in_parallel = worker_threads() > 1 and sum(pressure_bytes) <= PARALLEL_MB * 1e6
        if streamed:
            map_large_blocks()  # a streamed (long) recording: keep the heap from holding its freed temporaries
        elif in_parallel:
            keep_freed_memory()  # memory is not what limits here: reuse freed temporaries instead of faulting anew
        body_mass_kg, mass_warning = plausible_body_mass(metadata.body_mass_kg)
        feet: dict[str, FootAnalysis] = {}
        errors: dict[str, str] = {}
        if len(sources) > 1 and in_parallel:
            with ThreadPoolExecutor(max_workers=len(sources), thread_name_prefix="insole-foot") as pool:
                tasks = {side: pool.submit(_analyse_foot_here, src, params, body_mass_kg)
                         for side, src in sources.items()}
                for side, task in tasks.items():  # a foot's analysis has no wait of its own: it ends
                    try:
                        feet[side] = task.result()
                    except AnalysisError as exc:
                        errors[side] = str(exc)
        else:
            for k, (side, src) in enumerate(sources.items()):
                try:
                    feet[side] = analyse_foot(src, params, body_mass_kg)
                    if k < len(sources) - 1:  # out of the way (of memory, on long recordings) of the next foot
                        feet[side].set_aside()
                except AnalysisError as exc:
                    errors[side] = str(exc)
                release_free_heap()
        if not feet:
            raise AnalysisError(f"{path}: " + "; ".join(errors.values()))
    return assemble(path, attrs, metadata, sources, feet, errors, params, chosen,
                    input_warnings=input_warnings(attrs, mass_warning),
                    input_sha256=digest.result if digest is not None else (lambda: ""), in_parallel=in_parallel)


def _analyse_foot_here(source: FootSource, params: AnalysisParams, body_mass_kg: float | None) -> FootAnalysis:
    """:func:`analyse_foot` in a thread analysing one of two feet at once: its reads inflate in this thread (the
    feet are the parallel work; :func:`insole.session.inflate_in_calling_thread`)."""
    with inflate_in_calling_thread():
        return analyse_foot(source, params, body_mass_kg)


#: Largest pressure of all feet together (MB, float32) analysed in parallel threads: above it the feet are
#: analysed one after the other, so that one foot's frames and temporaries are in memory at a time (a 6-hour
#: 2 x 16-cell session, 2 x 138 MB, peaked at 538 MB in parallel against 326 MB; a day-long one, streamed, at 420
#: MB against 358 MB when its symmetry bootstrap ran beside the curve summaries).
PARALLEL_MB = 128.0


def release_free_heap() -> None:
    """Return the C heap's free pages to the operating system (glibc's ``malloc_trim``; nothing elsewhere).

    A foot's analysis frees many temporaries of 1-32 MB (masks, read blocks, batch buffers), which glibc keeps in
    its heap for reuse instead of unmapping them; between the feet of a day-long session that is about 100 MB of
    resident memory holding nothing, under the second foot's own peak. Trimming takes milliseconds.
    """
    if (trim := _glibc("malloc_trim")) is not None:
        trim(0)


#: Allocations from this size on get a mapping of their own once :func:`map_large_blocks` ran (glibc).
MMAP_THRESHOLD_BYTES = 4 << 20


def map_large_blocks() -> None:
    """From now on, let glibc serve every allocation of :data:`MMAP_THRESHOLD_BYTES` or more from a mapping of
    its own, returned to the system when it is freed (``mallopt(M_MMAP_THRESHOLD)``; nothing elsewhere).

    By default glibc raises that threshold, up to 32 MB, each time a large block is freed, so after the first foot
    of a day-long recording its per-frame temporaries of 8-32 MB are served from the heap, where freed memory stays
    resident until the next :func:`release_free_heap`. Measured on a 24-hour two-foot session (2 x 16 cells, 100
    Hz): peak RSS 415 -> 356 MB, wall 49.7 -> 49.6 s in an alternated pair (single runs 47 -> 54 s: the pages of
    each mapping are faulted in again, at most 15 % of the time). Done only for
    recordings that are streamed (too long for ``AnalysisParams.cache_mb``), where memory is what limits; the
    setting stays for the rest of the process.
    """
    if (mallopt := _glibc("mallopt")) is not None:
        mallopt(-3, MMAP_THRESHOLD_BYTES)  # M_MMAP_THRESHOLD (malloc.h)


#: glibc's heap settings of :func:`keep_freed_memory`: allocations below this size come from the heap ...
KEEP_MMAP_THRESHOLD_BYTES = 32 << 20
#: ... whose free top is returned to the system only beyond this size.
KEEP_TRIM_THRESHOLD_BYTES = 512 << 20


def keep_freed_memory() -> None:
    """From now on, let glibc serve allocations below :data:`KEEP_MMAP_THRESHOLD_BYTES` from its heap and keep
    freed memory there for reuse (``mallopt`` of ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD``; nothing elsewhere).

    For sessions analysed in parallel (at most :data:`PARALLEL_MB` of pressure), whose peak is what the process
    holds anyway. By default glibc's mapping threshold starts at 128 KB and grows only as large blocks are freed,
    so the analysis's first temporaries of each size get mappings of their own, unmapped when freed and faulted in
    again on the next use; on this 2-vCPU virtual machine each page fault costs a few microseconds. A one-hour
    two-foot session (2 x 16 cells, 100 Hz), one analysis per process, 4 alternated runs: 60,500-63,600 ->
    32,300-32,800 page faults, system time 219-259 -> 104-164 ms, wall 813-938 -> 649-779 ms, peak RSS 175 -> 192
    MB. The setting stays for the rest of the process (a later streamed recording sets its own mapping threshold,
    :func:`map_large_blocks`, and trims its heap between feet); batch workers (one thread) never set it.
    """
    if (mallopt := _glibc("mallopt")) is not None:
        mallopt(-3, KEEP_MMAP_THRESHOLD_BYTES)  # M_MMAP_THRESHOLD (malloc.h)
        mallopt(-1, KEEP_TRIM_THRESHOLD_BYTES)  # M_TRIM_THRESHOLD


def _glibc(name: str):
    """The C library function ``name`` of this process, or None where the C library is not glibc (macOS,
    Windows, musl)."""
    import ctypes  # here, not at import: the CLI's start-up does not pay for it

    try:
        return getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return None


def input_warnings(attrs: dict, mass_warning: str) -> list[tuple[str, str]]:
    """(code, message) of what is wrong with the inputs but leaves the analysis usable: an implausible body mass,
    a recording that did not finish."""
    out = [("metadata", mass_warning)] if mass_warning else []
    if attrs.get("complete") is not None and not bool(attrs.get("complete")):
        out.append(("interrupted", "the recording did not finish (the recorder was stopped abruptly or lost "
                                   "power): frames after the last save are missing and the end of the walk may be "
                                   "cut; the frames that were saved are analysed"))
    return out
