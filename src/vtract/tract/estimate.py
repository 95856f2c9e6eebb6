"""Public entry points: :func:`estimate_tract` and :func:`estimate_tracts`.

Methods
-------
``"paper"``
    The published estimator (:mod:`vtract.tract.paper`), 16 kHz only: inputs
    at other rates are resampled to 16 kHz; inputs below 10 kHz are refused
    because the published target needs content up to 5 kHz. Its tube is
    fixed (15 sections of c / 2fs = 16.4 cm), so ``length_cm`` is that model
    length; the formant-based length estimate of the same window is in
    ``params["estimated_length_cm"]``.
``"lpc"``
    Wakita inverse filtering (:mod:`vtract.tract.wakita`).
``"default"``
    The project's own estimator (:mod:`vtract.tract.default`): a shape from
    the measured formants (a formant-pole polynomial,
    :mod:`vtract.tract.formant_poles`), its prior pulled halfway toward the
    vowels of real speakers measured with MRI whose formant pattern is like
    the frame's (a codebook of 32 vowels, :mod:`vtract.tract.shape_prior`),
    refined by formant matching; the most
    accurate shapes on the ground-truth harness.
``"lpc-refined"``
    The same refinement from an LPC-pole Wakita shape with equalised
    bandwidths (:mod:`vtract.tract.default`). Its shapes are less accurate,
    but their dynamics separate synthetic speech far better, so the detector,
    the shipped reference and the feature tables use it
    (:data:`vtract.features.DETECTION_METHOD`, ``docs/DETECTION.md``).
``"formant"``
    Deprecated name of ``"default"`` (26 Nov 2026; a
    :class:`DeprecationWarning`); until then ``"default"`` named what is now
    ``"lpc-refined"``.

Offsets: ``"lpc"``, ``"default"`` and ``"lpc-refined"`` first subtract each
window's least-squares straight line
(:func:`vtract.tract.preprocess.remove_linear_trend`), so a DC offset or a
slow drift of the recording does not shape the tract; ``"paper"`` takes the
window as the published estimator does
(:data:`vtract.tract.preprocess.PUBLISHED_INPUT_METHODS`). Mains hum and
rumble (below 80 Hz) are removed one level up: the feature extraction
high-passes the whole recording before cutting windows
(:mod:`vtract.tract.highpass`); a frame given here is not filtered.

Sampling rates: 8 to 48 kHz are accepted (others raise
:class:`~vtract.errors.EstimationError`). ``"lpc"``, ``"default"`` and ``"lpc-refined"``
resample inputs above 16 kHz down to 16 kHz and analyse 8-16 kHz inputs at
their own rate with proportionally fewer sections (``N = 2 L fs / c``);
``"paper"`` always works at 16 kHz. The rate actually analysed is in
``params["analysis_rate"]``.

Reflection coefficients: ``reflection[k]`` is the junction after section
``k`` (glottis first); the last entry is the lip termination (+1, an ideal
open end, for ``"lpc"``, ``"default"`` and ``"lpc-refined"``; fitted for ``"paper"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import EstimationError
from . import paper as _paper
from .formants import lpc_formants
from .length import SPEED_OF_SOUND_CM_S
from .lpc import step_up
from .preprocess import estimator_input, to_rate, validate_frame, validate_rate
from .result import TractEstimate
from .tube import areas_from_reflection
from .wakita import MAX_FORMANT_BANDWIDTH_HZ, wakita_core

__all__ = ["METHODS", "estimate_tract", "estimate_tracts"]

METHODS = ("default", "paper", "lpc", "lpc-refined")
#: Old method names -> current ones (accepted with a DeprecationWarning).
DEPRECATED_METHODS = {"formant": "default"}
SOLVERS = ("fast", "published")
#: Wakita's rate: inputs above it are resampled down to it.
LPC_RATE = 16000
#: Iteration budget of the fast paper solver.
PAPER_FAST_ITERATIONS = 25


def _current_method(method: str) -> str:
    """``method`` with deprecated names replaced (and a DeprecationWarning)."""
    if method in DEPRECATED_METHODS:
        new = DEPRECATED_METHODS[method]
        warnings.warn(
            f"estimator method {method!r} is now called {new!r}", DeprecationWarning, stacklevel=3
        )
        return new
    return method


def _check_options(
    method: str, n_sections: int | None, length_cm: float | None, solver: str | None
) -> None:
    if method not in METHODS:
        raise EstimationError(f"method is {method!r}; expected one of {', '.join(METHODS)}")
    if n_sections is not None and not _whole_number_in(n_sections, 2, 64):
        raise EstimationError(f"n_sections is {n_sections!r}; expected an integer from 2 to 64")
    if length_cm is not None and not (
        _real_number(length_cm) and np.isfinite(length_cm) and 5.0 <= length_cm <= 30.0
    ):
        raise EstimationError(f"length_cm is {length_cm!r}; expected 5 to 30 cm")
    if solver is not None and (method != "paper" or solver not in SOLVERS):
        raise EstimationError(
            f"solver is {solver!r}; only method='paper' takes a solver ({', '.join(SOLVERS)})"
        )
    if method == "paper" and (n_sections not in (None, _paper.PAPER_N_SECTIONS)):
        raise EstimationError(
            f"method='paper' uses {_paper.PAPER_N_SECTIONS} sections; got n_sections={n_sections}"
        )
    if method == "paper" and length_cm is not None:
        raise EstimationError(
            f"method='paper' uses the published tube of fixed length ({_paper.PAPER_N_SECTIONS} "
            f"sections at 16 kHz); got length_cm={length_cm}, which it cannot honour"
        )


def _real_number(value: object) -> bool:
    """A Python or NumPy real number, not a bool (``True`` is not a length)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _whole_number_in(value: object, low: int, high: int) -> bool:
    if not _real_number(value) or not np.isfinite(value):  # type: ignore[call-overload]
        return False
    return float(value).is_integer() and low <= value <= high  # type: ignore[arg-type, operator]


def estimate_tract(
    frame: np.ndarray,
    sr: int,
    *,
    method: str = "default",
    n_sections: int | None = None,
    length_cm: float | None = None,
    solver: str | None = None,
) -> TractEstimate:
    """Estimate the vocal-tract area function of one window of speech.

    Parameters
    ----------
    frame : numpy.ndarray
        1-D window of samples (any scale), e.g. 20-40 ms of a vowel.
    sr : int
        Sampling rate of ``frame`` in Hz, 8000 to 48000.
    method : {"default", "paper", "lpc", "lpc-refined"}
        Estimator (see module docstring); ``"formant"`` is a deprecated name of
        ``"default"``.
    n_sections : int, optional
        Number of tube sections. ``None`` ties it to the tract length and the
        analysis rate (``N = 2 L fs / c``); ``"paper"`` always uses 15.
    length_cm : float, optional
        Known tract length (cm); ``None`` estimates it from the formants.
    solver : {"fast", "published"}, optional
        Only for ``method="paper"``: ``"published"`` runs the slow published
        gradient descent; the default ``"fast"`` minimises the same objective.

    Returns
    -------
    TractEstimate
        Areas glottis to lips (cm^2), reflection coefficients (glottis to
        lips, last = lip termination), formants with bandwidths, length.

    Raises
    ------
    EstimationError
        Bad options, sample rate outside 8-48 kHz, non-finite, too short or
        silent frame, or (except ``"paper"``) a frame that is only a
        straight line.
    """
    method = _current_method(method)
    _check_options(method, n_sections, length_cm, solver)
    rate = validate_rate(sr)
    x = validate_frame(frame, rate)
    x = estimator_input(x, method)
    if method == "paper":
        return _estimate_paper(x, rate, solver or "fast")
    if method == "lpc":
        return _estimate_lpc(x, rate, n_sections, length_cm)
    from .default import estimate_default

    return estimate_default(x, rate, n_sections=n_sections, length_cm=length_cm, method=method)


def estimate_tracts(
    frames: np.ndarray | Sequence[np.ndarray],
    sr: int,
    *,
    method: str = "default",
    n_sections: int | None = None,
    length_cm: float | None = None,
    solver: str | None = None,
) -> list[TractEstimate]:
    """Estimate many windows at once.

    Parameters
    ----------
    frames : numpy.ndarray or sequence of numpy.ndarray
        A 2-D array (one window per row) or a sequence of 1-D windows.
    sr, method, n_sections, length_cm, solver
        As :func:`estimate_tract`.

    Returns
    -------
    list of TractEstimate
        One estimate per window, in order, identical to
        :func:`estimate_tract` on each window. Equal-length windows run in
        parallel (Numba ``prange`` over windows, ``NUMBA_NUM_THREADS``
        threads) for ``"default"``, ``"lpc-refined"``, ``"lpc"`` and the fast ``"paper"``
        solver (``"paper"`` fits each group of equal-length windows in
        parallel, never a zero-padded window); windows of different lengths
        for the other methods, and the published solver, run one after another.

    Raises
    ------
    EstimationError
        As :func:`estimate_tract`, with the index of the offending window.
    """
    method = _current_method(method)
    _check_options(method, n_sections, length_cm, solver)
    rate = validate_rate(sr)
    if isinstance(frames, np.ndarray) and frames.ndim != 2:
        raise EstimationError(
            f"frames must be a 2-D array (one window per row), got shape {frames.shape}"
        )
    xs = []
    for i, f in enumerate(frames):
        try:
            x = validate_frame(f, rate)
            xs.append(estimator_input(x, method))
        except EstimationError as exc:
            raise EstimationError(f"window {i}: {exc}") from None
    if method == "paper" and (solver or "fast") == "fast" and xs:
        return _estimate_paper_batch(xs, rate)
    if method in ("lpc", "default", "lpc-refined") and xs:
        batch = _estimate_lpc_default_batch(xs, rate, method, n_sections, length_cm)
        if batch is not None:
            return batch
    out = []
    for i, x in enumerate(xs):
        try:
            if method == "paper":
                out.append(_estimate_paper(x, rate, solver or "fast"))
            elif method == "lpc":
                out.append(_estimate_lpc(x, rate, n_sections, length_cm))
            else:
                from .default import estimate_default

                out.append(
                    estimate_default(
                        x, rate, n_sections=n_sections, length_cm=length_cm, method=method
                    )
                )
        except EstimationError as exc:
            raise EstimationError(f"window {i}: {exc}") from None
    return out


# ---------------------------------------------------------------- paper


def _paper_input(x: np.ndarray, rate: int) -> np.ndarray:
    if rate < 10000:
        raise EstimationError(
            f"method='paper' needs content up to 5 kHz: sample rate {rate} Hz is below 10000 Hz"
        )
    y = to_rate(x, rate, _paper.PAPER_RATE)
    if y.size > _paper.PAPER_N_FFT:
        raise EstimationError(
            f"method='paper': window is {y.size} samples at 16 kHz; expected at most "
            f"{_paper.PAPER_N_FFT}"
        )
    return y


def _paper_result(
    r: np.ndarray, objective: float, rate: int, solver: str, y: np.ndarray
) -> TractEstimate:
    r = np.ascontiguousarray(r, dtype=np.float64)
    chain = areas_from_reflection(r, _paper.PAPER_FIRST_AREA_CM2)
    section = SPEED_OF_SOUND_CM_S / (2.0 * _paper.PAPER_RATE)
    freqs, bws = lpc_formants(step_up(r), float(_paper.PAPER_RATE), MAX_FORMANT_BANDWIDTH_HZ)
    # length: the formant-spacing estimate of the same window (the tube itself is fixed)
    _, _, _, _, est_len, raw_len = wakita_core(y, float(_paper.PAPER_RATE), -1.0, -1)
    return TractEstimate(
        areas=chain[:-1].copy(),
        section_length_cm=section,
        length_cm=section * _paper.PAPER_N_SECTIONS,
        reflection=r,
        formants_hz=freqs,
        bandwidths_hz=bws,
        fit_error_db=float(objective) / _paper.PAPER_N_BINS,
        method="paper",
        params={
            "solver": solver,
            "input_rate": rate,
            "analysis_rate": _paper.PAPER_RATE,
            "objective_l1_db": float(objective),
            "first_area_cm2": _paper.PAPER_FIRST_AREA_CM2,
            "lip_load_area_cm2": float(chain[-1]),
            "glottal_reflection": 1.0,
            "estimated_length_cm": float(est_len),
            "formant_length_cm": float(raw_len),
        },
    )


def _estimate_paper(x: np.ndarray, rate: int, solver: str) -> TractEstimate:
    y = _paper_input(x, rate)
    target = _paper.paper_target(y)
    omega = _paper.paper_omega()
    if solver == "published":
        r = _paper.fit_published(target, omega, _paper.PAPER_N_SECTIONS, _paper.PUBLISHED_STEPS)
        objective = _paper.paper_objective(r, target, omega)
    else:
        r, objective = _paper.fit_fast(
            y, target, omega, _paper.PAPER_N_SECTIONS, PAPER_FAST_ITERATIONS
        )
    return _paper_result(r, objective, rate, solver, y)


def _estimate_paper_batch(xs: list[np.ndarray], rate: int) -> list[TractEstimate]:
    ys = [_paper_input(x, rate) for x in xs]
    # The fit's LPC starting points are computed from the frame itself, so windows are
    # fitted in groups of one length: a zero-padded window would start elsewhere and,
    # with an L1 objective, can end in another minimum than estimate_tract's.
    by_length: dict[int, list[int]] = {}
    for i, y in enumerate(ys):
        by_length.setdefault(y.size, []).append(i)
    results: list[TractEstimate | None] = [None] * len(ys)
    for indices in by_length.values():
        frames = np.stack([ys[i] for i in indices])
        targets = np.stack([_paper.paper_target(ys[i]) for i in indices])
        rs, es = _paper.fit_fast_batch(
            frames, targets, _paper.paper_omega(), _paper.PAPER_N_SECTIONS, PAPER_FAST_ITERATIONS
        )
        for j, i in enumerate(indices):
            results[i] = _paper_result(rs[j], es[j], rate, "fast", ys[i])
    return [r for r in results if r is not None]


# ---------------------------------------------------------------- lpc


def lpc_analysis_rate(rate: int) -> int:
    """Rate the ``"lpc"`` method analyses at: 16 kHz, or the input rate if lower."""
    return min(rate, LPC_RATE)


def _estimate_lpc(
    x: np.ndarray, rate: int, n_sections: int | None, length_cm: float | None
) -> TractEstimate:
    fs = lpc_analysis_rate(rate)
    y = to_rate(x, rate, fs)
    areas, refl, freqs, bws, length, raw_length = wakita_core(
        y,
        float(fs),
        -1.0 if length_cm is None else float(length_cm),
        -1 if n_sections is None else int(n_sections),
    )
    return _lpc_result(areas, refl, freqs, bws, length, raw_length, rate, fs, length_cm)


def _lpc_result(
    areas: np.ndarray,
    refl: np.ndarray,
    freqs: np.ndarray,
    bws: np.ndarray,
    length: float,
    raw_length: float,
    rate: int,
    fs: int,
    length_cm: float | None,
) -> TractEstimate:
    n = areas.shape[0]
    params: dict[str, Any] = {
        "input_rate": rate,
        "analysis_rate": fs,
        "lpc_order": n - 1,
        "glottal_reflection": 0.0,
        "lip_reflection": 1.0,
        "formant_length_cm": float(raw_length),
        "length_source": "given" if length_cm is not None else "formants",
    }
    return TractEstimate.from_length(areas, length, refl, freqs, bws, "lpc", params)


def _estimate_lpc_default_batch(
    xs: list[np.ndarray], rate: int, method: str, n_sections: int | None, length_cm: float | None
) -> list[TractEstimate] | None:
    """Parallel batch for equal-length windows; ``None`` if the windows differ in length."""
    from .batch import default_batch, wakita_batch
    from .default import DEFAULT_RATE, default_result, prior_arguments

    fs = lpc_analysis_rate(rate) if method == "lpc" else min(rate, DEFAULT_RATE)
    ys = [to_rate(x, rate, fs) for x in xs]
    if len({y.size for y in ys}) != 1:
        return None
    frames = np.ascontiguousarray(np.stack(ys))
    length_arg = -1.0 if length_cm is None else float(length_cm)
    n_arg = -1 if n_sections is None else int(n_sections)
    if method == "lpc":
        areas, refl, n_a, freqs, bws, n_f, lengths = wakita_batch(
            frames, float(fs), length_arg, n_arg
        )
    else:
        areas, n_a, freqs, bws, n_f, lengths = default_batch(
            frames, float(fs), length_arg, n_arg, *prior_arguments(method)
        )
    out = []
    for i in range(len(ys)):
        k, m = int(n_a[i]), int(n_f[i])
        a, f, b = areas[i, :k].copy(), freqs[i, :m].copy(), bws[i, :m].copy()
        length, raw = lengths[i, 0], lengths[i, 1]
        if method == "lpc":
            est = _lpc_result(a, refl[i, :k].copy(), f, b, length, raw, rate, fs, length_cm)
        else:
            est = default_result(a, f, b, length, raw, rate, fs, length_cm, method)
        out.append(est)
    return out
