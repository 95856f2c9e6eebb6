"""Ground-truth vowels for vocal-tract estimators: audio with known area functions.

Three independent sources, each case carrying its true areas (glottis to
lips), section lengths and total length:

``analytic``
    Uniform, two-tube and three-tube shapes synthesised by
    :func:`vtract.synth.tube_vowel` twice: ``impulse-lossless`` (flow impulses,
    no internal losses, radiation only) and ``lf-lossy`` (LF pulses with
    jitter/shimmer, wall/viscous/thermal losses) - the latter is "realistic".
    A third rendering, ``wakita-ideal``, resamples each shape onto sections of
    ``c / (2 sr)`` (16 at 16 kHz: 17.5 cm) and renders Wakita's all-pole model
    exactly (matched glottis, lossless, ideal open lips, flow impulses, lip
    volume velocity): LPC of that order recovers the areas up to scale.
``fant``
    Fant's (1960) vowels as shipped in Praat (``Create Vocal Tract from
    phone``, 0.5 cm sections), rendered by vtract's synthesiser (LF, lossy)
    and, independently, by Praat's own tube model (``VocalTract: To
    Spectrum`` with radiation and internal damping; its complex response,
    conjugated to the e^{-jwt} convention, filters a Rosenberg pulse train).
    A third rendering shrinks every section by :data:`SCALED_FACTOR` (an
    adult female-sized tract, 14-16.4 cm) and raises f0 to 200 Hz, so tract
    lengths are not all near 17 cm.
``vtl``
    VocalTractLab (vocaltractlab-cython, speaker JD3): vowel shapes ->
    ``tract_state_to_tube_state`` (40 sections of unequal length, glottis to
    lips) and ``synth_block`` audio (self-oscillating glottis model, nasal and
    sinus side branches, piriform fossa) at 44.1 kHz, resampled.
``mri``
    Area functions of real speakers measured with MRI (Story et al. 1996 and
    Story 2008: one man imaged in 1994 and 2002; Story et al. 1998: one
    woman; :mod:`vtract.tract.mri_shapes`), rendered by vtract's synthesiser (LF,
    lossy) and by Praat's tube model (``Matrix: To VocalTract``, then as the
    Fant ``praat-spectrum`` rendering). Always held out. The ``"default"``
    estimator's prior codebook is built from these shapes
    (:mod:`vtract.tract.shape_prior`), so the benchmark scores each
    speaker's vowels with the other speaker's vowels only.

Splits: ``dev`` = analytic + VTL {a, e, i, o, u, @, E, O}; ``heldout`` = all
Fant vowels (all renderings) + VTL {E:, y, I, U, 2, 9, Y, 6} + every MRI
vowel. Tune on dev; report held-out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from vtract.evidence import resample
from vtract.synth import AIR, AirConstants, area_profile, glottal_source, tube_vowel
from vtract.tract.mri_shapes import MRI_SETS, mri_area_function, mri_vowels

__all__ = [
    "ANALYTIC_SHAPES",
    "FANT_RENDERERS",
    "FANT_VOWELS",
    "MRI_RENDERERS",
    "SCALED_FACTOR",
    "VTL_DEV",
    "VTL_HELDOUT",
    "WAKITA_LENGTH_CM",
    "TractCase",
    "all_cases",
    "analytic_cases",
    "fant_area_function",
    "fant_cases",
    "mri_cases",
    "vtl_area_function",
    "vtl_cases",
]

# (areas cm^2, section lengths cm), glottis to lips
ANALYTIC_SHAPES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "uniform": ((4.0,), (17.0,)),
    # Fant/Stevens two-tube approximations: /a/ narrow back, wide front; /i/ the reverse
    "two-tube-a": ((1.0, 7.0), (8.0, 9.0)),
    "two-tube-i": ((8.0, 1.0), (9.0, 6.0)),
    # back cavity, constriction, front cavity
    "three-tube-velar": ((5.0, 0.6, 6.0), (8.0, 3.0, 5.0)),
    "three-tube-front": ((2.0, 6.0, 0.8), (6.0, 8.0, 2.5)),
}
FANT_VOWELS = ("a", "e", "i", "o", "u", "y1", "jery")
VTL_DEV = ("a", "e", "i", "o", "u", "@", "E", "O")
VTL_HELDOUT = ("E:", "y", "I", "U", "2", "9", "Y", "6")
# Praat's tube model uses c = 353 m/s; synthesise Fant vowels with the same
PRAAT_AIR = AirConstants(c=35300.0)
#: Length factor of the scaled ("female-sized") Fant renderings.
SCALED_FACTOR = 0.82
FANT_RENDERERS = ("vtract-lf-lossy", "praat-spectrum", "vtract-lf-lossy-scaled")
#: Renderings of the MRI area functions.
MRI_RENDERERS = ("vtract-lf-lossy", "praat-spectrum")


@dataclass(frozen=True, eq=False)
class TractCase:
    """One vowel with its true tube.

    Attributes
    ----------
    name : str
        Unique id, ``source/shape/renderer``.
    source : str
        ``"analytic"``, ``"fant"`` or ``"vtl"``.
    shape : str
        Shape name within the source (vowel or analytic shape).
    renderer : str
        What made the audio: ``"vtract-impulse-lossless"``, ``"vtract-lf-lossy"``,
        ``"praat-spectrum"``, ``"vtl-synth_block"``.
    realistic : bool
        Glottal-pulse excitation with tract losses (the accuracy target's domain).
    split : str
        ``"dev"`` or ``"heldout"``.
    audio : numpy.ndarray
        float64 samples, steady from ``steady_from_s`` on.
    sr : int
        Sampling rate (Hz).
    areas_cm2 : numpy.ndarray
        True areas, glottis to lips.
    section_lengths_cm : numpy.ndarray
        True section lengths, same order.
    steady_from_s : float
        First time (s) after the onset transient.
    info : dict
        Synthesis settings.
    """

    name: str
    source: str
    shape: str
    renderer: str
    realistic: bool
    split: str
    audio: np.ndarray
    sr: int
    areas_cm2: np.ndarray
    section_lengths_cm: np.ndarray
    steady_from_s: float = 0.1
    info: dict[str, object] = field(default_factory=dict)

    @property
    def length_cm(self) -> float:
        """True tract length (cm)."""
        return float(np.sum(self.section_lengths_cm))

    def frames(self, frame_len: int, n_frames: int, hop: int) -> list[np.ndarray]:
        """``n_frames`` frames of ``frame_len`` samples from the steady part, ``hop`` apart."""
        start = round(self.steady_from_s * self.sr)
        need = start + (n_frames - 1) * hop + frame_len
        if need > self.audio.size:
            raise ValueError(f"{self.name}: audio too short for {n_frames} frames")
        return [self.audio[start + i * hop : start + i * hop + frame_len] for i in range(n_frames)]


def _expand(shape: str) -> tuple[np.ndarray, np.ndarray]:
    areas, lengths = ANALYTIC_SHAPES[shape]
    return np.array(areas, dtype=np.float64), np.array(lengths, dtype=np.float64)


#: Length (cm) of the Wakita-ideal renderings before rounding to whole sections.
WAKITA_LENGTH_CM = 17.5


@lru_cache(maxsize=64)
def _wakita(shape: str, sr: int, duration: float) -> TractCase:
    areas, lengths = _expand(shape)
    dx = AIR.c / (2.0 * sr)
    n = max(2, round(WAKITA_LENGTH_CM / dx))
    areas = area_profile(areas, lengths, n)
    settings: dict[str, object] = dict(
        f0=100.0, glottal="impulse", losses=False, radiation=False, glottis="matched", seed=0
    )
    audio = tube_vowel(areas, dx, sr, duration=duration, **settings)  # type: ignore[arg-type]
    return TractCase(
        f"analytic/{shape}/vtract-wakita-ideal", "analytic", shape, "vtract-wakita-ideal",
        False, "dev", audio, sr, areas, np.full(n, dx), 0.1, settings,
    )  # fmt: skip


@lru_cache(maxsize=64)
def _analytic(shape: str, realistic: bool, sr: int, duration: float) -> TractCase:
    areas, lengths = _expand(shape)
    if realistic:
        settings = dict(
            f0=115.0, glottal="lf", losses=True, rd=1.0, jitter=0.005, shimmer=0.03, seed=11
        )
        renderer = "vtract-lf-lossy"
    else:
        settings = dict(f0=100.0, glottal="impulse", losses=False, seed=0)
        renderer = "vtract-impulse-lossless"
    audio = tube_vowel(areas, lengths, sr, duration=duration, **settings)  # type: ignore[arg-type]
    return TractCase(
        f"analytic/{shape}/{renderer}", "analytic", shape, renderer, realistic, "dev",
        audio, sr, areas, lengths, 0.1, dict(settings),
    )  # fmt: skip


def analytic_cases(
    sr: int = 16000, *, realistic: bool | None = None, duration: float = 0.4
) -> list[TractCase]:
    """Analytic tube vowels (dev split).

    Parameters
    ----------
    sr : int
        Output rate (Hz).
    realistic : bool or None
        Only the realistic (``True``) or only the idealised (``False``:
        lossless impulse and Wakita-ideal) renderings; all when ``None``.
    duration : float
        Seconds of audio per case.
    """
    kinds = [False, True] if realistic is None else [realistic]
    cases = [_analytic(s, k, sr, duration) for k in kinds for s in ANALYTIC_SHAPES]
    if realistic is not True:
        cases += [_wakita(s, sr, duration) for s in ANALYTIC_SHAPES if s != "uniform"]
    return cases


@lru_cache(maxsize=16)
def fant_area_function(phone: str) -> tuple[np.ndarray, float]:
    """Fant's (1960) area function from Praat: (areas cm^2 glottis->lips, section length cm)."""
    from parselmouth.praat import call

    vt = call("Create Vocal Tract from phone", phone)
    matrix = call(vt, "To Matrix")
    return np.array(matrix.values[0], dtype=np.float64) * 1e4, float(matrix.dx) * 100.0


def _praat_impulse_response(phone: str, sr: int) -> np.ndarray:
    from parselmouth.praat import call

    return _praat_tract_impulse_response(call("Create Vocal Tract from phone", phone), sr)


def _praat_tract_impulse_response(vt: object, sr: int) -> np.ndarray:
    from parselmouth.praat import call

    n_bins = 8193
    # glottal damping off (Praat's glottal loss moves F1/F2 implausibly for Fant's shapes),
    # radiation and internal damping on
    spectrum = call(vt, "To Spectrum", n_bins, sr / 2.0, 0, 1, 1)
    re, im = spectrum.values
    h = np.fft.irfft(re - 1j * im)  # Praat's spectra use the e^{+jwt} sign convention
    return h / np.max(np.abs(h))


@lru_cache(maxsize=64)
def _fant(phone: str, renderer: str, sr: int, duration: float) -> TractCase:
    areas, dx = fant_area_function(phone)
    if renderer == "vtract-lf-lossy-scaled":
        dx *= SCALED_FACTOR
    lengths = np.full(areas.size, dx)
    if renderer == "vtract-lf-lossy-scaled":
        settings: dict[str, object] = dict(
            f0=200.0, glottal="lf", losses=True, rd=1.4, jitter=0.008, shimmer=0.04, seed=29
        )
        audio = tube_vowel(areas, dx, sr, duration=duration, air=PRAAT_AIR, **settings)  # type: ignore[arg-type]
        settings["length_factor"] = SCALED_FACTOR
    elif renderer == "vtract-lf-lossy":
        settings = dict(
            f0=110.0, glottal="lf", losses=True, rd=1.2, jitter=0.008, shimmer=0.04, seed=23
        )
        audio = tube_vowel(areas, dx, sr, duration=duration, air=PRAAT_AIR, **settings)  # type: ignore[arg-type]
    else:
        settings = dict(f0=130.0, glottal="rosenberg", open_quotient=0.6, speed_quotient=2.5)
        source = glottal_source(sr, duration, f0=130.0, model="rosenberg", speed_quotient=2.5)
        audio = np.convolve(source, _praat_impulse_response(phone, sr))[: source.size]
        audio = 0.5 * audio / np.max(np.abs(audio))
    return TractCase(
        f"fant/{phone}/{renderer}", "fant", phone, renderer, True, "heldout",
        audio, sr, areas, lengths, 0.1, settings,
    )  # fmt: skip


def fant_cases(
    sr: int = 16000, *, vowels: tuple[str, ...] = FANT_VOWELS, duration: float = 0.4
) -> list[TractCase]:
    """Fant's vowels from Praat: vtract, Praat and scaled vtract renderings (held-out split)."""
    return [_fant(v, r, sr, duration) for r in FANT_RENDERERS for v in vowels]


@lru_cache(maxsize=64)
def vtl_area_function(vowel: str) -> tuple[np.ndarray, np.ndarray]:
    """VocalTractLab JD3 tube for a vowel shape: (areas cm^2, section lengths cm), glottis->lips."""
    import vocaltractlab_cython as vtl

    tube = vtl.tract_state_to_tube_state(vtl.get_shape(vowel, "tract"))
    return np.array(tube["tube_area"], dtype=np.float64), np.array(
        tube["tube_length"], dtype=np.float64
    )


@lru_cache(maxsize=64)
def _vtl(vowel: str, sr: int, duration: float) -> TractCase:
    import vocaltractlab_cython as vtl

    areas, lengths = vtl_area_function(vowel)
    const = vtl.get_constants()
    n_states = int(np.ceil(duration * const["sr_audio"] / const["n_samples_per_state"])) + 1
    tract = np.tile(vtl.get_shape(vowel, "tract"), (n_states, 1))
    glottis = np.tile(vtl.get_shape("modal", "glottis"), (n_states, 1))
    audio44 = vtl.synth_block(tract, glottis)
    audio = resample(audio44, int(const["sr_audio"]), sr)
    audio = 0.5 * audio / np.max(np.abs(audio))
    split = "dev" if vowel in VTL_DEV else "heldout"
    info = {"glottis": "modal", "f0_hz": float(glottis[0, 0]), "vtl_sr": const["sr_audio"]}
    return TractCase(
        f"vtl/{vowel}/vtl-synth_block", "vtl", vowel, "vtl-synth_block", True, split,
        audio, sr, areas, lengths, 0.15, info,
    )  # fmt: skip


def vtl_cases(
    sr: int = 16000, *, vowels: tuple[str, ...] = VTL_DEV + VTL_HELDOUT, duration: float = 0.4
) -> list[TractCase]:
    """VocalTractLab vowels (split by vowel between dev and held-out)."""
    return [_vtl(v, sr, duration) for v in vowels]


def _praat_vocal_tract(areas_cm2: np.ndarray, dx_cm: float) -> object:
    """A Praat VocalTract with these areas (glottis to lips) and section length."""
    from parselmouth.praat import call

    n = areas_cm2.size
    dx = dx_cm * 1e-2
    matrix = call("Create Matrix", "tube", 0.0, n * dx, n, dx, dx / 2, 1, 1, 1, 1, 1, "0")
    for i, a in enumerate(areas_cm2, start=1):
        call(matrix, "Set value", 1, i, float(a) * 1e-4)
    return call(matrix, "To VocalTract")


@lru_cache(maxsize=128)
def _mri(dataset: str, vowel: str, renderer: str, sr: int, duration: float) -> TractCase:
    areas, dx = mri_area_function(dataset, vowel)
    lengths = np.full(areas.size, dx)
    if renderer == "vtract-lf-lossy":
        female = dataset == "story1998"
        settings: dict[str, object] = dict(
            f0=200.0 if female else 110.0, glottal="lf", losses=True,
            rd=1.4 if female else 1.2, jitter=0.008, shimmer=0.04, seed=31,
        )  # fmt: skip
        audio = tube_vowel(areas, dx, sr, duration=duration, air=PRAAT_AIR, **settings)  # type: ignore[arg-type]
    elif renderer == "praat-spectrum":
        f0 = 200.0 if dataset == "story1998" else 130.0
        settings = dict(f0=f0, glottal="rosenberg", open_quotient=0.6, speed_quotient=2.5)
        source = glottal_source(sr, duration, f0=f0, model="rosenberg", speed_quotient=2.5)
        response = _praat_tract_impulse_response(_praat_vocal_tract(areas, dx), sr)
        audio = np.convolve(source, response)[: source.size]
        audio = 0.5 * audio / np.max(np.abs(audio))
    else:
        raise ValueError(f"unknown MRI renderer {renderer!r}; expected one of {MRI_RENDERERS}")
    settings["dataset"] = dataset
    return TractCase(
        f"mri/{dataset}-{vowel}/{renderer}", "mri", f"{dataset}-{vowel}", renderer, True,
        "heldout", audio, sr, areas, lengths, 0.1, settings,
    )  # fmt: skip


def mri_cases(
    sr: int = 16000,
    *,
    datasets: tuple[str, ...] = MRI_SETS,
    renderers: tuple[str, ...] = MRI_RENDERERS,
    duration: float = 0.4,
) -> list[TractCase]:
    """MRI vowels of real speakers (held-out split), every renderer."""
    return [_mri(d, v, r, sr, duration) for r in renderers for d in datasets for v in mri_vowels(d)]


def all_cases(sr: int = 16000, *, quick: bool = False) -> list[TractCase]:
    """Every case; ``quick`` keeps a small representative subset (both splits)."""
    if quick:
        return (
            analytic_cases(sr, duration=0.3)
            + vtl_cases(sr, vowels=("a", "i", "u", "y", "O"), duration=0.3)
            + fant_cases(sr, vowels=("a", "i", "u"), duration=0.3)
            + mri_cases(sr, datasets=("story2008",), renderers=("vtract-lf-lossy",), duration=0.3)
        )
    return analytic_cases(sr) + vtl_cases(sr) + fant_cases(sr) + mri_cases(sr)
