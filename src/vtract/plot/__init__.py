"""Plots of vocal-tract estimates, references and reports (matplotlib).

Every function takes ``ax=None`` (a new figure is made when omitted), returns
the axes it drew on and never calls ``plt.show()``.

- :func:`tract`: the tube as a mirrored glottis-to-lips profile.
- :func:`area_function`: area functions overlaid.
- :func:`tract_sequence`: areas over time (heat map), e.g. across a bigram.
- :func:`spectrum_fit`: target spectrum vs the tube model's response.
- :func:`bigram_distribution`: organic reference per section vs this recording.
- :func:`timeline`: spectrogram/waveform with word and phone tiers and flags.
- :func:`report_overview`: per-bigram scores of a report over time.
"""

from __future__ import annotations

from ._common import HUMAN_AREA_CM2, HUMAN_LENGTH_CM, PlotInputError
from .overview import report_overview
from .reference import bigram_distribution
from .spectrum import spectrum_fit, target_spectrum_db, tube_response_db
from .timeline import timeline
from .tract import area_function, tract, tract_sequence

__all__ = [
    "HUMAN_AREA_CM2",
    "HUMAN_LENGTH_CM",
    "PlotInputError",
    "area_function",
    "bigram_distribution",
    "report_overview",
    "spectrum_fit",
    "target_spectrum_db",
    "timeline",
    "tract",
    "tract_sequence",
    "tube_response_db",
]
