"""Recording-level tract dynamics: how the reconstructed tract moves over a recording.

The per-bigram reference deviation asks "is this shape organic?". On the
corpus of ``../shared/data`` that question separates nothing (synthetic
speech deviates *less* from the organic reference than unseen organic
speakers do; ``docs/DETECTION.md``). What does separate is how the
estimated tract *behaves* over the recording. Four descriptors
(:data:`DESCRIPTORS`), each one number per recording, computed from the
feature table (:func:`recording_descriptors`), and beside them one of the
voice source (:data:`VOICE_DESCRIPTORS`), which the shipped calibration does
not use:

``shape_spread``
    For each tube section, the standard deviation of its log-area over all
    windows of the recording; the median over sections. How widely the
    tract wanders between phones.
``shape_jitter``
    For each pair of consecutive windows of one bigram occurrence (450
    samples = 28 ms apart at 16 kHz), the mean absolute change of log-area
    over the sections; the median over pairs. How fast it moves.
``length_spread``
    Inter-quartile range of the per-window tract length (cm). A speaker's
    tract length is nearly fixed; its estimate wanders with the formants.
``f1_spread``
    Inter-quartile range of the per-window F1 (Hz).
``log_shimmer`` (not in :data:`DESCRIPTORS`)
    ``ln`` of Praat's local shimmer of the whole recording (the table's
    ``shimmer_local`` column, :mod:`vtract.voice_source`): how irregular the
    peak amplitudes of consecutive glottal periods are. Not a tract
    measure. With it the leave-one-generator-out AUC rises from 0.885 to
    0.934, but reverberation pushes organic recordings over the threshold,
    so it is not in the default model; ``vtract calibrate --with-shimmer``
    adds it in a second, *dry-voice* model used only on recordings without
    a room (:mod:`vtract.detect.default`, ``docs/DETECTION.md``, sessions
    19 and 20). Undefined (``nan``)
    for tables without the column (made without
    ``extract_features(..., voice_source=True)``) or with too few glottal
    periods.

A :class:`DescriptorModel` turns the descriptors into the detector's
statistic (larger = more likely synthetic), in one of two ways:

- ``"one-class"`` (organic recordings only, generator-agnostic): the
  descriptors are robust z-scores (median / MAD of the organic recordings)
  and the statistic is their Mahalanobis distance (covariance of the organic
  z-scores), so a recording unusual in either direction scores high;
- ``"discriminative"`` (organic and labelled synthetic recordings): an
  L2-penalised logistic regression on the standardised descriptors
  (classes weighted equally); the statistic is its log-odds.

Either way the decision threshold is set afterwards on organic recordings
alone (:mod:`vtract.detect.calibration`). The descriptors were chosen after
exploring the corpus of ``../shared/data`` (their single-descriptor AUCs
and the leave-one-generator-out figures of ``benchmarks/bench_detection.py``
are in ``docs/DETECTION.md``); they are measurements of the estimator's
output and inherit its behaviour (voice, channel and noise move them too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from ..errors import VtractError
from .deviation import log_areas
from .grouped import group_codes, group_first, group_quantile, group_std

__all__ = [
    "DESCRIPTORS",
    "DISCRIMINATIVE_L2",
    "VOICE_DESCRIPTORS",
    "WITH_SHIMMER",
    "DescriptorModel",
    "fit_discriminative",
    "fit_one_class",
    "interquartile_range",
    "recording_descriptors",
    "window_log_areas",
]

#: The descriptors, in the order models use them.
DESCRIPTORS: tuple[str, ...] = ("shape_spread", "shape_jitter", "length_spread", "f1_spread")
#: Voice-source descriptors :func:`recording_descriptors` computes beside them.
VOICE_DESCRIPTORS: tuple[str, ...] = ("log_shimmer",)
#: The four tract descriptors and ``log_shimmer``: the measured option of session 19.
WITH_SHIMMER: tuple[str, ...] = (*DESCRIPTORS, *VOICE_DESCRIPTORS)
#: L2 penalty of the discriminative model (on weights of standardised descriptors).
DISCRIMINATIVE_L2 = 5.0
#: Ridge added to the organic covariance of the one-class model (z units squared).
ONE_CLASS_RIDGE = 1e-3
#: Robust z-scores are clipped here before the Mahalanobis distance.
Z_CLIP = 8.0
#: Normal-consistency factor of the median absolute deviation.
_MAD_SIGMA = 1.482602218505602
_KEYS = ["file", "boundary_s", "window_index"]
_NEEDED = ("boundary_s", "window_index", "section", "n_sections", "area_cm2", "length_cm", "f1_hz")


def interquartile_range(groups: pd.core.groupby.SeriesGroupBy) -> pd.Series:
    """Interquartile range (75th minus 25th percentile, linear interpolation) per group.

    Parameters
    ----------
    groups : pandas.core.groupby.SeriesGroupBy
        A grouped series, e.g. per-window tract lengths grouped by file.

    Returns
    -------
    pandas.Series
        One value per group: how far a descriptor spreads within a recording.
    """
    return groups.quantile(0.75) - groups.quantile(0.25)


def recording_descriptors(features: pd.DataFrame) -> pd.DataFrame:
    """The descriptors of every recording in a feature table (module docstring).

    Parameters
    ----------
    features : pandas.DataFrame
        Feature table (one row per window and section, as written by
        :func:`vtract.features.extract_features`). A ``file`` column separates
        recordings; without it the table is one recording.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``file`` (``""`` without a ``file`` column), columns
        :data:`DESCRIPTORS`, :data:`VOICE_DESCRIPTORS` and ``n_windows``. A
        descriptor that cannot be computed (e.g. ``shape_jitter`` when no
        occurrence has two windows) is ``nan``.

    Notes
    -----
    Rows without a finite area are left out. A window's length and F1 are
    its first defined values. The shape descriptors use the windows on the
    recording's most common section grid (:func:`window_log_areas`); a
    window-to-window step is ``nan`` (and left out of the median) when
    either window lacks a section the recording has. Computed with NumPy
    group codes (:mod:`vtract.detect.grouped`); the tests check the result
    against plain loops (``tests/test_detect_dynamics.py``) and against the
    same statistics in pandas (``tests/test_detect_grouped.py``).
    """
    missing = [c for c in _NEEDED if c not in features.columns]
    if missing:
        raise VtractError(f"feature table lacks columns {missing} needed for tract dynamics")
    area = features["area_cm2"].to_numpy(np.float64)
    keep = np.isfinite(area)
    file_codes, names = _file_codes(features, keep)
    n_files = len(names)
    out = pd.DataFrame(
        index=pd.Index(names, name="file"), columns=[*WITH_SHIMMER, "n_windows"], dtype=np.float64
    )
    if n_files == 0:
        return out

    def column(name: str) -> np.ndarray:
        return features[name].to_numpy(np.float64)[keep]

    boundary, window, section = column("boundary_s"), column("window_index"), column("section")
    n_sections = column("n_sections")
    log_area = log_areas(area[keep])
    # per window: its file, length and F1 (constant within a window)
    win, n_win, win_first = group_codes([file_codes, boundary, window])
    win_file = file_codes[win_first]
    out["n_windows"] = np.bincount(win_file, minlength=n_files).astype(np.float64)
    for name, source in (("length_spread", "length_cm"), ("f1_spread", "f1_hz")):
        per_window = group_first(win, n_win, column(source))
        out[name] = group_quantile(win_file, n_files, per_window, 0.75) - group_quantile(
            win_file, n_files, per_window, 0.25
        )
    shimmer = np.full(n_files, np.nan)
    if "shimmer_local" in features.columns:
        shimmer = group_first(file_codes, n_files, column("shimmer_local")).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["log_shimmer"] = np.where(shimmer > 0, np.log(shimmer), np.nan)

    # the log-area matrix of the windows on each file's most common section grid
    on_grid = (n_sections == _grid_mode(file_codes, n_sections, n_files)[file_codes]) & (win >= 0)
    rows_win, row_of = np.unique(win[on_grid], return_inverse=True)
    cols, col_of = np.unique(section[on_grid], return_inverse=True)
    n_rows, n_cols = len(rows_win), len(cols)
    cell = row_of.astype(np.int64) * n_cols + col_of
    cells, first_at = np.unique(cell, return_index=True)  # a duplicated cell keeps its first row
    flat = np.full(n_rows * n_cols, np.nan)
    flat[cells] = log_area[on_grid][first_at]
    shapes = flat.reshape(n_rows, n_cols)
    row_file = win_file[rows_win]

    # shape_spread: per file and section the std over windows; median over sections
    file_col = np.repeat(row_file, n_cols) * n_cols + np.tile(np.arange(n_cols), n_rows)
    section_std = group_std(file_col, n_files * n_cols, shapes.ravel())
    out["shape_spread"] = group_quantile(
        np.repeat(np.arange(n_files), n_cols), n_files, section_std, 0.5
    )

    # shape_jitter: mean |step| over the file's sections between consecutive windows of
    # one occurrence (nan if a section is missing on either side); median over steps
    has_section = np.zeros((n_files, n_cols), dtype=bool)
    has_section[row_file[cells // n_cols], cells % n_cols] = True
    row_boundary = boundary[win_first[rows_win]]
    same_occurrence = np.zeros(n_rows, dtype=bool)
    same_occurrence[1:] = (row_file[1:] == row_file[:-1]) & (row_boundary[1:] == row_boundary[:-1])
    steps = np.full((n_rows, n_cols), np.nan)
    steps[1:] = np.abs(np.diff(shapes, axis=0))
    mask = has_section[row_file]
    # a nan step in one of the file's sections propagates through the sum
    mean_step = np.where(mask, steps, 0.0).sum(axis=1) / mask.sum(axis=1)
    mean_step[~same_occurrence] = np.nan
    out["shape_jitter"] = group_quantile(row_file, n_files, mean_step, 0.5)
    return out


def _file_codes(features: pd.DataFrame, keep: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Code of every kept row's recording (its ``file`` as text), and the names in sorted order."""
    n = int(keep.sum())
    if "file" not in features.columns:
        return np.zeros(n, dtype=np.int64), ([""] if n else [])
    codes, uniques = pd.factorize(features["file"].to_numpy()[keep], use_na_sentinel=False)
    text = [str(u) for u in uniques]
    names = sorted(set(text))
    rank = {name: i for i, name in enumerate(names)}
    return np.array([rank[t] for t in text], dtype=np.int64)[codes], names


def _grid_mode(file_codes: np.ndarray, n_sections: np.ndarray, n_files: int) -> np.ndarray:
    """Most common section count of every file (the smallest on a tie, as ``Series.mode``)."""
    pair, n_pairs, pair_first = group_codes([file_codes, n_sections])
    count = np.bincount(pair[pair >= 0], minlength=n_pairs)
    pair_file, pair_n = file_codes[pair_first], n_sections[pair_first]
    best = np.lexsort((pair_n, -count, pair_file))  # per file: most rows, then fewest sections
    first_of_file = np.ones(n_pairs, dtype=bool)
    first_of_file[1:] = pair_file[best][1:] != pair_file[best][:-1]
    mode = np.full(n_files, np.nan)
    mode[pair_file[best][first_of_file]] = pair_n[best][first_of_file]
    return mode


def window_log_areas(features: pd.DataFrame) -> pd.DataFrame:
    """Log-area profile of every window, one row per window and one column per section.

    Parameters
    ----------
    features : pandas.DataFrame
        Feature table with ``file``, ``boundary_s``, ``window_index``,
        ``section``, ``n_sections`` and either ``log_area`` or finite
        ``area_cm2`` values.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``file``, ``boundary_s``, ``window_index``), columns the
        section indices. Windows whose section count differs from the most
        common one of their file are left out, so that every row of a file
        lies on one grid of sections.
    """
    if "log_area" not in features.columns:
        features = features.assign(log_area=log_areas(features["area_cm2"].to_numpy(np.float64)))
    mode_n = features.groupby("file")["n_sections"].agg(lambda s: s.mode().iloc[0])
    same_grid = features["n_sections"].to_numpy() == features["file"].map(mode_n).to_numpy()
    return features[same_grid].pivot_table(
        index=_KEYS, columns="section", values="log_area", aggfunc="first"
    )


def _matrix(descriptors: pd.DataFrame | Mapping[str, Any], names: Sequence[str]) -> np.ndarray:
    if isinstance(descriptors, Mapping):
        descriptors = pd.DataFrame([dict(descriptors)])
    missing = [n for n in names if n not in descriptors.columns]
    if missing:
        raise VtractError(f"descriptors {missing} are missing; expected columns {list(names)}")
    return descriptors[list(names)].to_numpy(np.float64)


def _complete(x: np.ndarray, what: str) -> np.ndarray:
    ok = np.all(np.isfinite(x), axis=1)
    if ok.sum() < 2:
        raise VtractError(
            f"need at least 2 {what} recordings with every descriptor defined, got {int(ok.sum())}"
        )
    return x[ok]


@dataclass(frozen=True)
class DescriptorModel:
    """Maps recording descriptors to a statistic (larger = more likely synthetic).

    Attributes
    ----------
    kind : str
        ``"one-class"`` or ``"discriminative"``.
    names : tuple of str
        Descriptor names, in the order of the vectors below.
    center, scale : tuple of float
        Standardisation: robust (median / MAD) for one-class, mean / standard
        deviation of the training recordings for discriminative.
    precision : tuple of tuple of float
        One-class: inverse covariance of the organic z-scores.
    weights : tuple of float
        Discriminative: logistic weights of the standardised descriptors.
    bias : float
        Discriminative: logistic intercept.
    info : dict
        Training counts and settings; ``organic_quantiles`` maps each
        descriptor to its 5 %, 50 % and 95 % points over the organic
        training recordings (shown in reports).
    """

    kind: str
    names: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    precision: tuple[tuple[float, ...], ...] = ()
    weights: tuple[float, ...] = ()
    bias: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = len(self.names)
        if self.kind not in ("one-class", "discriminative"):
            raise VtractError(f"unknown descriptor model kind {self.kind!r}")
        if len(self.center) != k or len(self.scale) != k or min(self.scale, default=1) <= 0:
            raise VtractError("descriptor model needs one centre and one positive scale per name")
        if self.kind == "one-class" and np.shape(self.precision) != (k, k):
            raise VtractError(f"one-class model needs a {k}x{k} precision matrix")
        if self.kind == "discriminative" and len(self.weights) != k:
            raise VtractError(f"discriminative model needs {k} weights")
        for name, values in (
            ("center", self.center),
            ("scale", self.scale),
            ("precision", self.precision),
            ("weights", self.weights),
            ("bias", self.bias),
        ):
            if not np.all(np.isfinite(np.asarray(values, dtype=np.float64))):
                # a NaN made every statistic undefined: every analysis inconclusive with no
                # hint of the cause (session 31 probe F7)
                raise VtractError(f"descriptor model {name} is not finite: {values!r}")

    def statistic(self, descriptors: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
        """Statistic of each recording (``nan`` where a descriptor is undefined)."""
        z = (_matrix(descriptors, self.names) - np.asarray(self.center)) / np.asarray(self.scale)
        if self.kind == "one-class":
            z = np.clip(z, -Z_CLIP, Z_CLIP)
            p = np.asarray(self.precision, dtype=np.float64)
            return np.einsum("ij,jk,ik->i", z, p, z)
        return z @ np.asarray(self.weights, dtype=np.float64) + self.bias

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (stored inside a calibration record)."""
        return {
            "kind": self.kind,
            "names": list(self.names),
            "center": list(self.center),
            "scale": list(self.scale),
            "precision": [list(r) for r in self.precision],
            "weights": list(self.weights),
            "bias": self.bias,
            "info": dict(self.info),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DescriptorModel:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                kind=str(data["kind"]),
                names=tuple(str(n) for n in data["names"]),
                center=tuple(float(v) for v in data["center"]),
                scale=tuple(float(v) for v in data["scale"]),
                precision=tuple(tuple(float(v) for v in r) for r in data.get("precision", ())),
                weights=tuple(float(v) for v in data.get("weights", ())),
                bias=float(data.get("bias", 0.0)),
                info=dict(data.get("info", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VtractError(f"malformed descriptor model {dict(data)!r}: {exc}") from None


def _organic_quantiles(x: np.ndarray, names: Sequence[str]) -> dict[str, list[float]]:
    """5 %, 50 % and 95 % points of each descriptor over the organic recordings (for reports)."""
    q = np.quantile(x, [0.05, 0.5, 0.95], axis=0)
    return {n: [float(v) for v in q[:, i]] for i, n in enumerate(names)}


def fit_one_class(organic: pd.DataFrame, names: Sequence[str] = DESCRIPTORS) -> DescriptorModel:
    """Organic-only model: robust Mahalanobis distance of the descriptors.

    Parameters
    ----------
    organic : pandas.DataFrame
        Descriptors of organic recordings (:func:`recording_descriptors`).
    names : sequence of str
        Descriptors to use.
    """
    x = _complete(_matrix(organic, names), "organic")
    center = np.median(x, axis=0)
    scale = np.median(np.abs(x - center), axis=0) * _MAD_SIGMA
    scale = np.where(scale > 0, scale, np.std(x, axis=0) + 1e-12)
    z = np.clip((x - center) / scale, -Z_CLIP, Z_CLIP)
    cov = np.atleast_2d(np.cov(z.T)) + ONE_CLASS_RIDGE * np.eye(len(names))
    precision = np.linalg.inv(cov)
    return DescriptorModel(
        kind="one-class",
        names=tuple(names),
        center=tuple(float(v) for v in center),
        scale=tuple(float(v) for v in scale),
        precision=tuple(tuple(float(v) for v in r) for r in precision),
        info={
            "n_organic": len(x),
            "ridge": ONE_CLASS_RIDGE,
            "z_clip": Z_CLIP,
            "organic_quantiles": _organic_quantiles(x, names),
        },
    )


def fit_discriminative(
    organic: pd.DataFrame,
    synthetic: pd.DataFrame,
    names: Sequence[str] = DESCRIPTORS,
    *,
    l2: float = DISCRIMINATIVE_L2,
) -> DescriptorModel:
    """Organic-vs-synthetic logistic model of the descriptors.

    Parameters
    ----------
    organic, synthetic : pandas.DataFrame
        Descriptors of labelled recordings (:func:`recording_descriptors`).
    names : sequence of str
        Descriptors to use.
    l2 : float
        Penalty ``l2 * ||w||^2`` on the weights; the loss is the
        class-balanced negative log-likelihood (each class weighs half the
        recordings).
    """
    xo = _complete(_matrix(organic, names), "organic")
    xs = _complete(_matrix(synthetic, names), "synthetic")
    x = np.vstack([xo, xs])
    y = np.r_[np.zeros(len(xo)), np.ones(len(xs))]
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    xb = np.c_[(x - mu) / sd, np.ones(len(x))]
    sample_w = np.where(y > 0, 0.5 * len(x) / len(xs), 0.5 * len(x) / len(xo))

    def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
        z = xb @ b
        nll = np.logaddexp(0.0, z) - y * z
        grad = xb.T @ (sample_w * (0.5 * (1.0 + np.tanh(0.5 * z)) - y))
        pen = l2 * float(np.sum(b[:-1] ** 2))
        return float(np.sum(sample_w * nll)) + pen, grad + np.r_[2.0 * l2 * b[:-1], 0.0]

    res = minimize(loss, np.zeros(xb.shape[1]), jac=True, method="L-BFGS-B")
    if not np.all(np.isfinite(res.x)):
        raise VtractError(f"discriminative descriptor model did not converge: {res.message}")
    return DescriptorModel(
        kind="discriminative",
        names=tuple(names),
        center=tuple(float(v) for v in mu),
        scale=tuple(float(v) for v in sd),
        weights=tuple(float(v) for v in res.x[:-1]),
        bias=float(res.x[-1]),
        info={
            "n_organic": len(xo),
            "n_synthetic": len(xs),
            "l2": float(l2),
            "converged": bool(res.success),
            "organic_quantiles": _organic_quantiles(xo, names),
        },
    )
