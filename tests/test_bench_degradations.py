"""The degradation benchmark's generators: noise colour, SNR, rooms, clipping, babble.

The benchmark's conclusions (which noises hide fakes, which the noise check
catches) rest on these copies being what their names say, so each generator
is checked against an independent measurement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _scripts import load_script
from _shared import SHARED_DATA, needs_shared
from vtract.alignment.model import Alignment

SR = 16000


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/bench_degradations.py")


def _speech_and_pause(rng: np.random.Generator) -> tuple[np.ndarray, Alignment]:
    """1 s of a loud 'vowel' between two 0.5 s pauses; the alignment marks the vowel."""
    x = np.zeros(2 * SR)
    x[SR // 2 : 3 * SR // 2] = 0.3 * rng.standard_normal(SR)
    aln = Alignment.from_intervals(
        [(0.0, 0.5, "sil"), (0.5, 1.5, "AA"), (1.5, 2.0, "sil")], source="test"
    )
    return x, aln


@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0])
def test_coloured_noise_has_unit_power_and_its_spectral_slope(bench, exponent):
    """The log power density falls by ``exponent`` per decade of log frequency."""
    y = bench.coloured_noise(np.random.default_rng(1), 2**16, exponent)
    assert np.mean(y**2) == pytest.approx(1.0)
    f = np.fft.rfftfreq(y.size)
    p = np.abs(np.fft.rfft(y)) ** 2
    keep = (f > 0.002) & (f < 0.4)
    slope = np.polyfit(np.log10(f[keep]), np.log10(p[keep]), 1)[0]
    assert slope == pytest.approx(-exponent, abs=0.05)


def test_speech_shaped_noise_keeps_the_magnitude_spectrum(bench):
    rng = np.random.default_rng(2)
    x = np.convolve(rng.standard_normal(4000), [1.0, 0.9, 0.5], mode="same")
    y = bench.speech_shaped_noise(np.random.default_rng(3), x)
    assert np.mean(y**2) == pytest.approx(1.0)
    mx, my = np.abs(np.fft.rfft(x))[1:-1], np.abs(np.fft.rfft(y))[1:-1]
    np.testing.assert_allclose(my / mx, np.median(my / mx), rtol=1e-9)
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.1  # new phases: not the recording itself


@pytest.mark.parametrize("snr_db", [10.0, 30.0])
def test_noise_is_added_at_the_snr_of_the_speech_phones(bench, snr_db):
    x, aln = _speech_and_pause(np.random.default_rng(4))
    noise = bench.coloured_noise(np.random.default_rng(5), x.size, 0.0)
    y = bench.add_noise(x, SR, aln, snr_db, noise)
    speech = np.mean(x[SR // 2 : 3 * SR // 2] ** 2)
    added = np.mean((y - x) ** 2)
    assert 10 * np.log10(speech / added) == pytest.approx(snr_db, abs=1e-9)
    assert bench.speech_power(x, SR, aln) == pytest.approx(speech)


def test_dc_offset_and_hum_conditions(bench):
    x, aln = _speech_and_pause(np.random.default_rng(6))
    every = bench.conditions()
    rms = np.sqrt(bench.speech_power(x, SR, aln))
    np.testing.assert_allclose(every["dc_offset_5pct"](x, SR, aln, None) - x, 0.05 * rms)
    hum = every["hum50_snr30"](x, SR, aln, None) - x
    assert 10 * np.log10(rms**2 / np.mean(hum**2)) == pytest.approx(30.0, abs=0.01)
    spectrum = np.abs(np.fft.rfft(hum))
    assert np.fft.rfftfreq(hum.size, 1 / SR)[np.argmax(spectrum)] == pytest.approx(50.0)
    freqs = np.fft.rfftfreq(x.size, 1 / SR)
    for name, f0, lines in [("hum60_snr30", 60.0, 1), ("buzz50_snr30", 50.0, 5)]:
        hum = every[name](x, SR, aln, None) - x
        assert 10 * np.log10(rms**2 / np.mean(hum**2)) == pytest.approx(30.0, abs=0.01)
        power = np.abs(np.fft.rfft(hum)) ** 2
        strongest = np.sort(freqs[np.argsort(power)[-lines:]])
        np.testing.assert_allclose(strongest, f0 * np.arange(1, lines + 1))
        # line amplitudes 1/k: each harmonic's power relative to the fundamental's
        ratios = power[np.searchsorted(freqs, strongest)] / power.max()
        np.testing.assert_allclose(ratios, 1.0 / np.arange(1, lines + 1) ** 2, rtol=0.05)


def test_room_impulse_response_has_equal_direct_and_tail_energy_and_its_decay(bench):
    rt60 = 0.4
    impulse = np.zeros(SR)
    impulse[0] = 1.0
    h = bench.reverberate(impulse, SR, rt60, np.random.default_rng(7))
    assert h.size == impulse.size and h[0] == 1.0
    assert np.sum(h[1:] ** 2) == pytest.approx(1.0)
    assert np.all(np.abs(h[1 : int(0.002 * SR)]) < 1e-12)  # the tail starts after 2 ms
    # Schroeder backward integral: 60 dB lost over one RT60 (fit from -5 to -35 dB)
    edc = np.cumsum(h[1:][::-1] ** 2)[::-1]
    edc_db = 10 * np.log10(edc / edc[0])
    t = np.arange(edc_db.size) / SR
    fit = (edc_db < -5) & (edc_db > -35)
    slope = np.polyfit(t[fit], edc_db[fit], 1)[0]
    assert -60.0 / slope == pytest.approx(rt60, rel=0.1)


def test_clipping_keeps_the_named_share_of_samples_at_the_clip_level(bench):
    x = np.random.default_rng(8).standard_normal(100_000)
    y = bench.clip(x, 1.0)
    level = np.max(np.abs(y))
    assert np.mean(np.abs(y) >= level) == pytest.approx(0.01, abs=0.001)
    np.testing.assert_array_equal(y[np.abs(x) < level], x[np.abs(x) < level])


@needs_shared
def test_babble_is_six_other_talkers_at_unit_power(bench, monkeypatch):
    """Babble is six different speakers, never the recording's own, at unit power."""
    sources = bench._babble_sources()
    assert len(sources) >= 6 and all(p.is_relative_to(SHARED_DATA) for p in sources)
    speakers = {bench.librispeech_speaker(p) for p in sources}
    assert len(speakers) >= 7 and all(s.split("-")[1].isdigit() for s in speakers)
    speaker = bench.librispeech_speaker(sources[0])
    item = bench.Item(sources[0], "organic", speaker, "librispeech", "")
    loaded = []
    real_load = bench.vtract.load
    monkeypatch.setattr(
        bench.vtract, "load", lambda path, **kw: loaded.append(path) or real_load(path, **kw)
    )
    y = bench.babble(np.random.default_rng(9), item, SR * 3, SR)
    assert np.mean(y**2) == pytest.approx(1.0)
    assert len(loaded) == bench.BABBLE_TALKERS == 6
    talkers = {bench.librispeech_speaker(p) for p in loaded}
    assert len(talkers) == 6 and speaker not in talkers


def test_pause_segments_keep_their_distance_from_speech(bench):
    """Pauses are the samples at least PAUSE_MARGIN_S from a speech phone, in whole runs."""
    x, aln = _speech_and_pause(np.random.default_rng(10))  # speech 0.5-1.5 s of 2 s
    margin = round(bench.PAUSE_MARGIN_S * SR)
    assert bench.pause_segments(x.size, SR, aln) == [
        (0, SR // 2 - margin),
        (3 * SR // 2 + margin, x.size),
    ]


def test_stitching_fades_each_join_and_keeps_a_steady_level(bench):
    """Overlapped raised-cosine fades sum to one: a constant stitched across joins stays
    constant (no dip, no click), and only the outer ends fade."""
    fade = round(bench.STITCH_FADE_S * SR)
    parts = [np.ones(800), np.ones(1200), np.ones(500)]
    y = bench.stitch(parts, SR)
    assert y.size == 2500 - 2 * fade
    np.testing.assert_allclose(y[fade:-fade], 1.0, atol=1e-12)
    assert y[0] < 0.01 and y[-1] < 0.01


def test_room_tone_is_added_at_its_donors_own_level_and_never_from_itself(bench, monkeypatch):
    x, aln = _speech_and_pause(np.random.default_rng(11))
    tone = np.random.default_rng(12).standard_normal(3000)
    monkeypatch.setattr(
        bench,
        "room_tone_donors",
        lambda: (("self.wav", 100 * tone, 1.0), ("other.wav", tone, 10.0 ** (-3.9))),
    )
    item = bench.Item(SHARED_DATA / "self.wav", "synthetic", "s", "tacotron2", "")
    assert item.key == "self.wav"
    added = bench.add_room_tone(x, SR, aln, item) - x
    speech = bench.speech_power(x, SR, aln)
    assert 10 * np.log10(speech / np.mean(added**2)) == pytest.approx(39.0, abs=1e-6)
    # the looped tone is the other donor's (a rotation of it, repeated), scaled
    scale = np.sqrt(np.mean(added**2))
    start = int(
        np.argmin(
            [
                np.sum((added[:3000] / scale - np.roll(tone, -k) / tone.std()) ** 2)
                for k in range(0, 3000, 1)
            ]
        )
    )
    np.testing.assert_allclose(
        added[:3000] / scale, np.roll(tone, -start) / tone.std(), rtol=0.02, atol=0.02
    )


def test_the_noise_gate_column_counts_the_valley_floor_too(bench):
    """Session 29: a copy whose pauses pass the floor check but whose valleys under the
    speech do not is called noisy, as vtract.analyze calls it; rows measured before the
    valley measure are refused, not judged by the floor alone."""
    rows = pd.DataFrame(
        {
            "high_band_level_db": -10.0,
            "spectral_edge_drop_db": 0.0,
            "quiet_high_band_level_db": -10.0,
            "quiet_spectral_edge_drop_db": 0.0,
            "speech_to_floor_db": [77.8, 77.8, 20.0],
            "speech_to_valley_floor_db": [28.1, 38.5, 50.0],
            "steepest_decay_db": 30.0,
        }
    )
    assert bench._gates(rows)["noisy"].tolist() == [True, False, True]
    # session 30: an unmeasured floor or room withholds the verdict in vtract.analyze, so
    # the copy is counted as stopped by that check (the restated thresholds let it pass)
    unmeasured = rows.assign(speech_to_floor_db=np.nan, steepest_decay_db=[np.nan, 30.0, 30.0])
    gates = bench._gates(unmeasured)
    assert gates["noisy"].tolist() == [True, True, True]
    assert gates["reverberant"].tolist() == [True, False, False]
    assert not gates["band_limited"].any()
    assert bench._gates(rows.assign(high_band_level_db=-60.0))["band_limited"].all()
    with pytest.raises(ValueError, match="before session 29"):
        bench._gates(rows.drop(columns="speech_to_valley_floor_db"))


def test_shipped_statistic_routes_each_copy_by_its_own_decay(bench) -> None:
    """A copy whose room pulls the decay below the gate is scored by the four descriptors."""
    from types import SimpleNamespace

    from vtract.reverberation import DRY_DECAY_DB

    four = SimpleNamespace(slope=1.0, threshold=2.0)
    voice = SimpleNamespace(slope=3.0, threshold=0.0)
    rows = pd.DataFrame(
        {
            "kind": ["original", "reverb_rt0.3"],
            "statistic": [1.0, 1.0],
            "statistic_dry_voice": [0.5, 0.5],
            "steepest_decay_db": [DRY_DECAY_DB + 5.0, DRY_DECAY_DB - 5.0],
        }
    )
    out = bench.shipped_statistic(rows, four, voice)
    assert out["dry_voice"].tolist() == [True, False]
    np.testing.assert_allclose(out["statistic"], [1.5, -1.0])  # 3 * 0.5; 1 * (1 - 2)
    np.testing.assert_allclose(out["statistic_four"], [1.0, 1.0])


def test_remeasured_rows_take_the_measures_again_and_refuse_other_copies(bench, monkeypatch):
    """--remeasure keeps the statistics, adds measures and checks the ones already kept."""
    from vtract.verdict_conditions import SIGNAL_MEASURES, signal_measures

    x, aln = _speech_and_pause(np.random.default_rng(6))
    noisy = x + 0.01 * np.random.default_rng(7).standard_normal(x.size)

    class _Item:
        key = "test/item.flac"

    def copies(item, names):
        yield "original", x, SR, aln
        for name in names:
            yield name, noisy, SR, aln

    monkeypatch.setattr(bench, "degraded_copies", copies)
    measured = {k: signal_measures(c, SR) for k, c in (("original", x), ("white_snr20", noisy))}
    dropped = SIGNAL_MEASURES[-1]  # a measure the kept rows lack: it is added
    kept = pd.DataFrame(
        [
            {"file": _Item.key, "kind": kind, "statistic": stat, **m}
            for (kind, m), stat in zip(measured.items(), (0.5, 1.5), strict=True)
        ]
    ).drop(columns=[dropped])
    rows = bench.remeasured_rows(_Item(), kept, ["white_snr20"])
    assert [r["kind"] for r in rows] == ["original", "white_snr20"]
    assert [r["statistic"] for r in rows] == [0.5, 1.5]
    for row in rows:
        assert row[dropped] == pytest.approx(measured[row["kind"]][dropped], nan_ok=True)
    tampered = kept.copy()
    tampered.loc[1, "speech_to_floor_db"] += 0.01
    with pytest.raises(RuntimeError, match="white_snr20: speech_to_floor_db"):
        bench.remeasured_rows(_Item(), tampered, ["white_snr20"])


def test_kept_rows_are_scored_by_the_model_whose_threshold_is_used(bench):
    """Benchmark audit F6 (session 31): --from-rows kept the statistics of the model that
    made the rows and set them against the threshold of the reference loaded now."""
    from vtract.detect.dynamics import DESCRIPTORS, DescriptorModel

    k = len(DESCRIPTORS)
    model = DescriptorModel(
        kind="discriminative",
        names=tuple(DESCRIPTORS),
        center=(1.0,) * k,
        scale=(0.5,) * k,
        weights=(1.0, -1.0, 0.5, 0.0),
        bias=0.25,
    )
    rows = pd.DataFrame(
        {**{n: [1.0, 2.0] for n in DESCRIPTORS}, "statistic": [99.0, 99.0], "file": ["a", "b"]}
    )
    out = bench.rescored(rows, model)
    np.testing.assert_allclose(out["statistic"], model.statistic(rows[list(DESCRIPTORS)]))
    # z = (2 - 1) / 0.5 = 2 for every descriptor: 2 (1 - 1 + 0.5 + 0) + 0.25
    assert out["statistic"].iloc[1] == pytest.approx(1.25)
    with pytest.raises(SystemExit, match="lack the descriptor"):
        bench.rescored(rows.drop(columns=["f1_spread"]), model)
