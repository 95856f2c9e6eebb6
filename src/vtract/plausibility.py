"""Anatomical plausibility: does an estimated vocal tract fit a human body?

:func:`check_plausibility` looks at the tract estimates of consecutive
windows (typically the windows of one bigram) and returns
:class:`~vtract.report.Flag` objects, each with the measured value, the
human range it breaks and the source of that range. All limits come from
:mod:`vtract.anatomy`.

Checks (flag codes)
-------------------
``area_out_of_range``
    A section of the tract narrower or wider than any human tract
    (:data:`~vtract.anatomy.AREA_RANGE_CM2`).
``area_ratio_out_of_range``
    Widest / narrowest section beyond :data:`~vtract.anatomy.AREA_RATIO_MAX`
    (scale-free version of the previous check).
``tract_length_out_of_range``
    Length outside any human's (:data:`~vtract.anatomy.HUMAN_LENGTH_CM`);
    ``tract_length_child_range`` (severity ``info``) when it fits a child but
    not an adult (:data:`~vtract.anatomy.ADULT_LENGTH_CM`).
``straw_tract``
    Narrow and uniform: geometric-mean area below
    :data:`~vtract.anatomy.STRAW_GEOMETRIC_MEAN_CM2` *and* standard deviation
    of ln(area) below :data:`~vtract.anatomy.STRAW_LOG_AREA_STD`.
``articulator_speed``
    Between consecutive windows a section's equivalent diameter
    ``2 sqrt(A / pi)`` changes faster than walls can move
    (:data:`~vtract.anatomy.WALL_SPEED_FACTOR` x
    :data:`~vtract.anatomy.ARTICULATOR_SPEED_CM_S`).
``formants_outside_vowel_space``
    For windows inside a vowel: (F1, F2) outside the convex hull of the
    Peterson & Barney (1952) tokens in log frequency, by more than
    :data:`~vtract.anatomy.FORMANT_MARGIN`, or F3 outside their F3 range by
    the same margin.

Robustness: the per-shape checks (area, ratio, length, straw) use the
*median* shape of the windows given (section-wise median of the areas, when
all have the same number of sections; median length), so one badly
estimated window does not raise a flag; the speed and vowel-space checks
need at least half of the consecutive pairs (windows) to break the limit,
and their ``measured`` value is the one at least half of them reach, so it
lies outside the stated range whenever the flag is raised. Each flag
reports how many windows or pairs broke the limit in its message.

What the estimators let these checks see
----------------------------------------
No estimator measures absolute areas or lengths, and the checks compare
their numbers with anatomical ranges in cm^2 and cm; the flag messages say
so (:func:`scale_note`):

- ``"lpc"``, ``"lpc-refined"`` (the detector's) and ``"default"`` scale every
  window's areas to a geometric mean of
  :data:`~vtract.tract.wakita.LPC_MEAN_AREA_CM2` (3 cm^2) and clip lengths to
  :data:`~vtract.tract.wakita.LENGTH_MIN_CM`-:data:`~vtract.tract.wakita.LENGTH_MAX_CM`
  (10-22 cm). So ``area_out_of_range`` compares a section's size *relative to
  the tract's mean* with the anatomical range; ``straw_tract`` (geometric
  mean below 1 cm^2) can fire only when the windows' shapes differ so much
  that their section-wise median has a much smaller geometric mean, which
  practically never happens; ``tract_length_out_of_range`` can fire only at
  the 22 cm clip ceiling (above 21 cm), never below 6 cm (the floor is
  10 cm), and ``tract_length_child_range`` mostly at the 10 cm floor: a
  length at a clip limit says the formant fit ran to it, not what the
  length is. ``area_ratio_out_of_range``, ``articulator_speed`` (per-window
  scale: the speed mixes shape change with the fixed mean) and
  ``formants_outside_vowel_space`` are not affected by the scale.
- ``"paper"`` (the published estimator) fixes the glottal area at
  :data:`~vtract.tract.paper.PAPER_FIRST_AREA_CM2` (3.7 cm^2) and the tube
  length at 15 sections (16.4 cm at 16 kHz): its areas are relative to that
  glottal area, and the length checks cannot fire.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from . import anatomy
from .alignment.labels import CLASS_DIPHTHONG, CLASS_VOWEL, phone_class
from .errors import VtractError
from .report import Flag
from .tract.paper import PAPER_FIRST_AREA_CM2
from .tract.result import TractEstimate
from .tract.wakita import LENGTH_MAX_CM, LENGTH_MIN_CM, LPC_MEAN_AREA_CM2

__all__ = [
    "CHECKS",
    "MEAN_NORMALISED_METHODS",
    "PlausibilityError",
    "check_plausibility",
    "scale_note",
    "vowel_space_distance",
]

#: Flag codes this module can raise.
CHECKS: tuple[str, ...] = (
    "area_out_of_range",
    "area_ratio_out_of_range",
    "tract_length_out_of_range",
    "tract_length_child_range",
    "straw_tract",
    "articulator_speed",
    "formants_outside_vowel_space",
)
_VOWEL_CLASSES = (CLASS_VOWEL, CLASS_DIPHTHONG)
#: Estimators that scale every window's areas to a geometric mean of
#: :data:`~vtract.tract.wakita.LPC_MEAN_AREA_CM2` and clip lengths to
#: :data:`~vtract.tract.wakita.LENGTH_MIN_CM`-:data:`~vtract.tract.wakita.LENGTH_MAX_CM`.
MEAN_NORMALISED_METHODS = ("lpc", "lpc-refined", "default")


def scale_note(method: str, what: str) -> str:
    """What the estimator ``method`` lets a check on ``what`` (``"area"``, ``"length"``) see.

    Appended to the flag messages (module docstring); ``""`` for an estimator
    this module knows nothing about.
    """
    if method in MEAN_NORMALISED_METHODS and what == "area":
        return (
            f"; the {method} estimator scales every window's areas to a geometric mean of "
            f"{LPC_MEAN_AREA_CM2:g} cm^2, so this is a size relative to the tract's mean, not "
            "a measured area"
        )
    if method in MEAN_NORMALISED_METHODS and what == "length":
        return f"; the {method} estimator clips lengths to {LENGTH_MIN_CM:g}-{LENGTH_MAX_CM:g} cm"
    if method == "paper" and what == "area":
        return (
            f"; the paper estimator fixes the glottal area at {PAPER_FIRST_AREA_CM2:g} cm^2, so "
            "this is a size relative to it, not a measured area"
        )
    return ""


class PlausibilityError(VtractError):
    """Inputs to the plausibility checks are malformed."""


def check_plausibility(
    estimates: TractEstimate | Sequence[TractEstimate],
    *,
    bigram: str | None = None,
    times: Sequence[float] | np.ndarray | None = None,
    phones: Sequence[str] | None = None,
    window_span: tuple[float, float] | None = None,
) -> list[Flag]:
    """Anatomical findings for consecutive tract estimates.

    Parameters
    ----------
    estimates : TractEstimate or sequence of TractEstimate
        Estimates of consecutive windows (e.g. the windows of one bigram).
    bigram : str, optional
        ARPAbet bigram ``"AH-N"`` the windows belong to (copied into the
        flags; decides the vowel-space check when ``phones`` is not given:
        it applies when both phones are vowels or diphthongs).
    times : sequence of float, optional
        Window centre times (s), ascending. Without them consecutive windows
        are taken to be the published hop apart
        (:data:`~vtract.anatomy.PUBLISHED_HOP_S`).
    phones : sequence of str, optional
        Phone each window centre lies in; the vowel-space check then uses the
        windows whose phone is a vowel or diphthong.
    window_span : (float, float), optional
        Start of the first window and end of the last (s): the flags' time
        span. Without it, when ``times`` are given, the span runs half a
        published window (:data:`~vtract.anatomy.PUBLISHED_WINDOW_S`) before the first centre
        and after the last (until session 28 it was padded by the published
        hop, 28.1 ms, and reached windows of a neighbouring occurrence);
        without either the flags have no span.

    Returns
    -------
    list of Flag
        At most one flag per code, in the order of :data:`CHECKS`.
    """
    ests = [estimates] if isinstance(estimates, TractEstimate) else list(estimates)
    if not ests:
        return []
    for e in ests:
        if not isinstance(e, TractEstimate):
            raise PlausibilityError(f"expected TractEstimate objects, got {type(e).__name__}")
    t = _times(times, len(ests))
    if phones is not None and len(phones) != len(ests):
        raise PlausibilityError(f"{len(phones)} phones for {len(ests)} estimates")
    span_kw: dict[str, float] = {}
    if window_span is not None:
        start, end = (float(v) for v in window_span)
        if not (math.isfinite(start) and math.isfinite(end) and start < end):
            raise PlausibilityError(
                f"window_span must be finite with start < end, got {window_span!r}"
            )
        span_kw = {"start": start, "end": end}
    elif times is not None:
        half = anatomy.PUBLISHED_WINDOW_S / 2
        span_kw = {"start": float(t[0]) - half, "end": float(t[-1]) + half}
    ctx = {"bigram": bigram, **span_kw}
    flags: list[Flag] = []
    flags += _shape_flags(ests, ctx)
    flags += _speed_flags(ests, t, ctx)
    flags += _vowel_flags(ests, bigram, phones, ctx)
    order = {c: i for i, c in enumerate(CHECKS)}
    return sorted(flags, key=lambda f: order[f.code])


def _times(times: Sequence[float] | np.ndarray | None, n: int) -> np.ndarray:
    if times is None:
        return np.arange(n, dtype=np.float64) * anatomy.PUBLISHED_HOP_S
    t = np.asarray(times, dtype=np.float64)
    if t.shape != (n,):
        raise PlausibilityError(
            f"times must hold one value per estimate ({n}), got shape {t.shape}"
        )
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise PlausibilityError("times must be finite and strictly increasing")
    return t


def _median_shape(ests: list[TractEstimate]) -> np.ndarray | None:
    """Section-wise median of the areas (None when section counts differ)."""
    counts = {e.n_sections for e in ests}
    if len(counts) != 1:
        return None
    return np.asarray(
        np.median(np.stack([np.asarray(e.areas, dtype=np.float64) for e in ests]), axis=0)
    )


def _shape_flags(ests: list[TractEstimate], ctx: dict) -> list[Flag]:
    flags: list[Flag] = []
    n = len(ests)
    method = str(ests[0].method)
    shape = _median_shape(ests)
    if shape is None:  # different resolutions: medians of per-window summaries
        mins = np.median([np.min(e.areas) for e in ests])
        maxs = np.median([np.max(e.areas) for e in ests])
        gmean = np.median([np.exp(np.mean(np.log(e.areas))) for e in ests])
        lstd = np.median([np.std(np.log(e.areas)) for e in ests])
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            mins, maxs = float(np.min(shape)), float(np.max(shape))
            gmean = float(np.exp(np.mean(np.log(shape))))
            lstd = float(np.std(np.log(shape)))
    lo, hi = anatomy.AREA_RANGE_CM2
    bad_windows = sum(1 for e in ests if np.min(e.areas) < lo or np.max(e.areas) > hi)
    if mins < lo or maxs > hi:
        measured, which = (float(mins), "narrowest") if mins < lo else (float(maxs), "widest")
        flags.append(
            Flag(
                code="area_out_of_range",
                message=(
                    f"the {which} section of the median tract shape is {measured:.3g} cm^2, outside "
                    f"the human range {lo:g}-{hi:g} cm^2 ({bad_windows} of {n} windows outside)"
                    + scale_note(method, "area")
                ),
                measured=measured,
                expected_min=lo,
                expected_max=hi,
                unit="cm^2",
                source=anatomy.SOURCES["area_out_of_range"],
                **ctx,
            )
        )
    ratio = float(maxs / mins) if mins > 0 else float("inf")
    if ratio > anatomy.AREA_RATIO_MAX:
        flags.append(
            Flag(
                code="area_ratio_out_of_range",
                message=(
                    f"widest / narrowest section of the median tract shape is {ratio:.3g}, more than "
                    f"any human tract ({anatomy.AREA_RATIO_MAX:g})"
                ),
                measured=ratio,
                expected_min=1.0,
                expected_max=anatomy.AREA_RATIO_MAX,
                unit="ratio",
                source=anatomy.SOURCES["area_ratio_out_of_range"],
                **ctx,
            )
        )
    lengths = np.array([float(e.length_cm) for e in ests])
    length = float(np.median(lengths))
    hlo, hhi = anatomy.HUMAN_LENGTH_CM
    alo, ahi = anatomy.ADULT_LENGTH_CM
    if np.isfinite(length) and not hlo <= length <= hhi:
        outside = int(np.sum((lengths < hlo) | (lengths > hhi)))
        flags.append(
            Flag(
                code="tract_length_out_of_range",
                message=(
                    f"median vocal tract length {length:.3g} cm is outside the human range "
                    f"{hlo:g}-{hhi:g} cm ({outside} of {n} windows outside)"
                    + _clip_note(method, length)
                ),
                measured=length,
                expected_min=hlo,
                expected_max=hhi,
                unit="cm",
                source=anatomy.SOURCES["tract_length_out_of_range"],
                severity="critical",
                **ctx,
            )
        )
    elif np.isfinite(length) and length < alo:
        flags.append(
            Flag(
                code="tract_length_child_range",
                message=(
                    f"median vocal tract length {length:.3g} cm is shorter than an adult's "
                    f"({alo:g}-{ahi:g} cm): a child's tract, or a mis-estimate"
                    + _clip_note(method, length)
                ),
                measured=length,
                expected_min=alo,
                expected_max=ahi,
                unit="cm",
                source=anatomy.SOURCES["tract_length_child_range"],
                severity="info",
                **ctx,
            )
        )
    if gmean < anatomy.STRAW_GEOMETRIC_MEAN_CM2 and lstd < anatomy.STRAW_LOG_AREA_STD:
        flags.append(
            Flag(
                code="straw_tract",
                message=(
                    f"straw-like tract: narrow (geometric-mean area {gmean:.3g} cm^2 < "
                    f"{anatomy.STRAW_GEOMETRIC_MEAN_CM2:g}) and uniform (std of ln area {lstd:.3g} < "
                    f"{anatomy.STRAW_LOG_AREA_STD:g}); human tracts vary along their length"
                    + scale_note(method, "area")
                ),
                measured=float(lstd),
                expected_min=anatomy.STRAW_LOG_AREA_STD,
                expected_max=None,
                unit="std of ln(area)",
                source=anatomy.SOURCES["straw_tract"],
                **ctx,
            )
        )
    return flags


def _clip_note(method: str, length: float) -> str:
    """The length note of :func:`scale_note`, saying when the length sits at a clip limit."""
    note = scale_note(method, "length")
    if not note:
        return ""
    for limit, side in ((LENGTH_MAX_CM, "ceiling"), (LENGTH_MIN_CM, "floor")):
        if abs(length - limit) <= 1e-6 * limit:
            return (
                f"{note}, and {length:.3g} cm is its {side}: the formant fit ran to that limit, "
                "so the length is not measured"
            )
    return note


def _at_least_half(values: np.ndarray) -> float:
    """The value at least half of ``values`` reach (the ceil(n/2)-th largest).

    A flag raised when at least half of the pairs or windows break a limit
    reports this value, which then breaks the limit too (a median of an even
    count can lie inside the range).
    """
    ordered = np.sort(np.asarray(values, dtype=np.float64))[::-1]
    return float(ordered[(ordered.size + 1) // 2 - 1])


def _speed_flags(ests: list[TractEstimate], t: np.ndarray, ctx: dict) -> list[Flag]:
    if len(ests) < 2:
        return []
    limit = anatomy.WALL_SPEED_FACTOR * anatomy.ARTICULATOR_SPEED_CM_S
    speeds = []
    for a, b, dt in zip(ests[:-1], ests[1:], np.diff(t)):
        if a.n_sections != b.n_sections:
            continue
        da = 2.0 * np.sqrt(np.asarray(a.areas, dtype=np.float64) / np.pi)
        db = 2.0 * np.sqrt(np.asarray(b.areas, dtype=np.float64) / np.pi)
        speeds.append(float(np.max(np.abs(db - da)) / dt))
    if not speeds:
        return []
    v = np.asarray(speeds)
    fast = int(np.sum(v > limit))
    if fast == 0 or fast * 2 < v.size:
        return []
    reached = _at_least_half(v)
    return [
        Flag(
            code="articulator_speed",
            message=(
                f"the tract changes shape faster than articulators move: {fast} of {v.size} "
                f"window-to-window changes exceed {limit:g} cm/s in a section's equivalent "
                f"diameter (at least half reach {reached:.3g} cm/s, the fastest "
                f"{v.max():.3g} cm/s)"
            ),
            measured=reached,
            expected_min=0.0,
            expected_max=limit,
            unit="cm/s",
            source=anatomy.SOURCES["articulator_speed"],
            **ctx,
        )
    ]


@functools.cache
def _vowel_hull() -> tuple[np.ndarray, tuple[float, float]]:
    """Facet equations of the P&B (ln F1, ln F2) convex hull, and the F3 range."""
    from scipy.spatial import ConvexHull

    pb = anatomy.peterson_barney()
    hull = ConvexHull(np.log(pb[:, :2]))
    eq = np.asarray(hull.equations)  # unit normals: n . x + b <= 0 inside
    eq.setflags(write=False)
    return eq, (float(pb[:, 2].min()), float(pb[:, 2].max()))


def vowel_space_distance(f1_hz: float, f2_hz: float) -> float:
    """How far (F1, F2) lies outside the Peterson & Barney vowel space.

    Parameters
    ----------
    f1_hz, f2_hz : float
        First two formants (Hz).

    Returns
    -------
    float
        Largest signed distance from the hull's edges in natural-log
        frequency (<= 0 inside; 0.1 is about 10 % beyond the nearest edge).
    """
    if not (f1_hz > 0 and f2_hz > 0):
        raise PlausibilityError(f"formants must be positive, got F1={f1_hz}, F2={f2_hz}")
    eq, _ = _vowel_hull()
    x = np.log([f1_hz, f2_hz])
    return float(np.max(eq[:, :2] @ x + eq[:, 2]))


def _vowel_flags(
    ests: list[TractEstimate], bigram: str | None, phones: Sequence[str] | None, ctx: dict
) -> list[Flag]:
    if phones is not None:
        use = [phone_class(str(p)) in _VOWEL_CLASSES for p in phones]
    elif bigram is not None and len(parts := str(bigram).split("-")) == 2:
        both = all(phone_class(p) in _VOWEL_CLASSES for p in parts)
        use = [both] * len(ests)
    else:
        return []
    margin = float(np.log1p(anatomy.FORMANT_MARGIN))
    _, (f3_lo, f3_hi) = _vowel_hull()
    # per window, how far (natural log) it lies beyond the (F1, F2) hull or the F3 range;
    # a window is outside when either exceeds the margin
    excess: list[float] = []
    worst = -np.inf
    worst_text = ""
    for e, u in zip(ests, use):
        f = np.asarray(e.formants_hz, dtype=np.float64)
        if not u or f.size < 2 or not (f[0] > 0 and f[1] > 0):
            continue
        d = vowel_space_distance(f[0], f[1])
        f3 = float(f[2]) if f.size > 2 else np.nan
        d3 = max(np.log(f3_lo / f3), np.log(f3 / f3_hi)) if np.isfinite(f3) and f3 > 0 else -np.inf
        excess.append(max(d, d3))
        if max(d, d3) > worst:
            worst = max(d, d3)
            if d3 > d:
                side = "above" if f3 > f3_hi else "below"
                worst_text = (
                    f"F3 {f3:.0f} Hz, {100 * np.expm1(d3):.0f} % {side} the F3 range "
                    f"{f3_lo:.0f}-{f3_hi:.0f} Hz"
                )
            else:
                worst_text = (
                    f"F1 {f[0]:.0f} Hz, F2 {f[1]:.0f} Hz, {100 * np.expm1(max(d, 0.0)):.0f} % "
                    "beyond the nearest edge of the (F1, F2) vowel space"
                )
    checked = len(excess)
    outside = int(np.sum(np.asarray(excess) > margin)) if checked else 0
    if checked == 0 or outside * 2 < checked or outside == 0:
        return []
    pct = 100.0 * float(np.expm1(max(_at_least_half(np.asarray(excess)), 0.0)))
    return [
        Flag(
            code="formants_outside_vowel_space",
            message=(
                f"{outside} of {checked} vowel windows have formants outside the human vowel space "
                f"(Peterson & Barney 1952, +{100 * anatomy.FORMANT_MARGIN:g} %): at least half lie "
                f"{pct:.0f} % or more beyond it; furthest: {worst_text}"
            ),
            measured=pct,
            expected_min=None,
            expected_max=100.0 * anatomy.FORMANT_MARGIN,
            unit="% outside vowel space",
            source=anatomy.SOURCES["formants_outside_vowel_space"],
            **ctx,
        )
    ]
