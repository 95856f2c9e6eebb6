"""The :class:`TractEstimate` container returned by every estimator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..json_values import finite_or_null

__all__ = ["TractEstimate"]


@dataclass(frozen=True, eq=False)
class TractEstimate:
    """Vocal-tract shape estimated from one window of speech.

    Attributes
    ----------
    areas : numpy.ndarray
        Cross-sectional areas (cm^2) of the tube sections, ordered from the
        glottis to the lips.
    section_length_cm : float
        Length of each section (cm).
    length_cm : float
        Total tract length (cm) = ``len(areas) * section_length_cm``.
    reflection : numpy.ndarray
        Reflection coefficients at the section junctions, glottis to lips,
        convention ``r_k = (A_{k+1} - A_k) / (A_{k+1} + A_k)``.
    formants_hz : numpy.ndarray
        Formant frequencies (Hz), ascending.
    bandwidths_hz : numpy.ndarray
        Formant bandwidths (Hz), same order as :attr:`formants_hz`.
    fit_error_db : float
        Mean absolute error (dB) between the target spectrum and the model
        response (``nan`` when the method does not fit a spectrum).
    method : str
        Estimator name (``"paper"``, ``"lpc"``, ...).
    params : dict
        Settings that produced this estimate (for provenance).
    """

    areas: np.ndarray
    section_length_cm: float
    length_cm: float
    reflection: np.ndarray
    formants_hz: np.ndarray
    bandwidths_hz: np.ndarray
    fit_error_db: float
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_length(
        cls,
        areas: np.ndarray,
        length_cm: float,
        reflection: np.ndarray,
        formants_hz: np.ndarray,
        bandwidths_hz: np.ndarray,
        method: str,
        params: dict[str, Any] | None = None,
        fit_error_db: float = float("nan"),
    ) -> TractEstimate:
        """An estimate whose sections split ``length_cm`` equally (``nan`` with no section).

        For estimators that tie the section count to the tract length
        (``"lpc"``, ``"default"``, ``"lpc-refined"``) and for estimates rebuilt
        from a feature table.
        """
        n = int(areas.shape[0])
        return cls(
            areas=areas,
            section_length_cm=float(length_cm) / n if n else float("nan"),
            length_cm=float(length_cm),
            reflection=reflection,
            formants_hz=formants_hz,
            bandwidths_hz=bandwidths_hz,
            fit_error_db=float(fit_error_db),
            method=method,
            params={} if params is None else params,
        )

    @property
    def n_sections(self) -> int:
        """Number of tube sections."""
        return int(self.areas.shape[0])

    def positions_cm(self) -> np.ndarray:
        """Centre of each section (cm from the glottis)."""
        return (np.arange(self.n_sections) + 0.5) * self.section_length_cm

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation (lists of floats; a value that does not exist,
        such as the fit error of a method without a spectral fit, is ``None``)."""
        record = {
            "method": self.method,
            "areas_cm2": [float(a) for a in self.areas],
            "section_length_cm": float(self.section_length_cm),
            "length_cm": float(self.length_cm),
            "reflection": [float(r) for r in self.reflection],
            "formants_hz": [float(f) for f in self.formants_hz],
            "bandwidths_hz": [float(b) for b in self.bandwidths_hz],
            "fit_error_db": float(self.fit_error_db),
            "params": dict(self.params),
        }
        return finite_or_null(record)  # type: ignore[no-any-return]
