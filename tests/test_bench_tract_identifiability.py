"""The identifiability benchmark's misfit: zero for a tube's own resonances, analytic otherwise."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from _scripts import load_script
from vtract.tract.default import SIGMA_FORMANT
from vtract.tract.formant_fit import tube_resonances_fast
from vtract.tract.length import SPEED_OF_SOUND_CM_S


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench_tract_identifiability.py")


def _two_tube() -> np.ndarray:
    return np.r_[np.full(12, 1.0), np.full(12, 6.0)]


def test_misfit_is_zero_at_the_tubes_own_resonances(bench) -> None:
    areas = _two_tube()
    res = tube_resonances_fast(areas, 17.0, SPEED_OF_SOUND_CM_S, 5000.0, 3)
    assert bench.formant_misfit(areas, 17.0, res) == pytest.approx(0.0, abs=1e-12)


def test_misfit_counts_squared_sigma_units(bench) -> None:
    areas = _two_tube()
    res = tube_resonances_fast(areas, 17.0, SPEED_OF_SOUND_CM_S, 5000.0, 3)
    # every measured formant 3 % above the model's: three errors of ln(1.03) / 0.03
    expected = 3 * (np.log(1.03) / SIGMA_FORMANT) ** 2
    assert bench.formant_misfit(areas, 17.0, res * 1.03) == pytest.approx(expected, rel=1e-9)


def test_model_bandwidths_widen_as_the_mouth_opens(bench) -> None:
    # a uniform 17 cm tube radiates more the wider it is (radiation resistance
    # grows with the mouth area), so its higher resonances broaden
    widths = [
        bench.model_bandwidths(np.full(24, area), 17.0 / 24) for area in (2.0, 4.0, 8.0, 16.0)
    ]
    assert all(np.all(np.isfinite(w)) and min(w) > 0 for w in widths)
    for k in (1, 2):  # B2, B3
        assert all(a[k] < b[k] for a, b in itertools.pairwise(widths))
