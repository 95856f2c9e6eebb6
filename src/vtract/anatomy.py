"""Human vocal-tract ranges: every anatomical threshold vtract uses, with its source.

This is the one place where the limits behind :mod:`vtract.plausibility`
live. Each constant states the human range it encodes and where that range
comes from; a tolerance, where there is one, is a separate named constant so
the examiner can tell what is anatomy and what is allowance for estimation
error. None of these values was fitted to vtract's test data.

Sources
-------
- [Fant1960] G. Fant, *Acoustic Theory of Speech Production*, Mouton, The
  Hague, 1960. X-ray derived area functions of vowels; the versions shipped
  in Praat (``Create Vocal Tract from phone...``) span 0.32 cm^2 (/u/
  lip constriction) to 14.6 cm^2 (/o/ front cavity), lengths 16.5-20 cm.
- [Story1996] B. H. Story, I. R. Titze, E. A. Hoffman, "Vocal tract area
  functions from magnetic resonance imaging", *J. Acoust. Soc. Am.* 100(1),
  537-554, 1996. MRI area functions of vowels and consonants of an adult
  male speaker; constrictions of a few tenths of a cm^2, cavities of a few
  cm^2, all inside the range used here.
- [Stevens1998] K. N. Stevens, *Acoustic Phonetics*, MIT Press, 1998:
  fricative and release constrictions of the order of 0.1 cm^2, down to a
  few hundredths of a cm^2 while turbulence noise is produced.
- [FitchGiedd1999] W. T. Fitch, J. Giedd, "Morphology and development of
  the human vocal tract: a study using magnetic resonance imaging", *J.
  Acoust. Soc. Am.* 106(3), 1511-1522, 1999. 129 people aged 2-25; vocal
  tract length grows with body size and differs by sex after puberty (adult
  men typically around 16-17 cm, women around 14-15 cm).
- [Vorperian2005] H. K. Vorperian et al., "Development of vocal tract length
  during early childhood: a magnetic resonance imaging study", *J. Acoust.
  Soc. Am.* 117(1), 338-350, 2005: vocal tract length about doubles from
  infancy to adulthood, so no speaker's tract is much shorter than about
  6-8 cm.
- [Lammert2015] A. C. Lammert, S. S. Narayanan, "On short-time estimation
  of vocal tract length from formant frequencies", *PLoS ONE* 10(7),
  e0132193, 2015: adult vocal tract lengths (real-time MRI) of about 13-20
  cm, and how length estimated from formants varies over an utterance.
- [KuehnMoll1976] D. P. Kuehn, K. L. Moll, "A cineradiographic study of VC
  and CV articulatory velocities", *J. Phonetics* 4, 303-320, 1976: peak
  velocities of the tongue tip, tongue body, lips and jaw in speech of the
  order of 10-20 cm/s, the fastest (tongue tip) up to about 30 cm/s.
- [PetersonBarney1952] G. E. Peterson, H. L. Barney, "Control methods used
  in a study of the vowels", *J. Acoust. Soc. Am.* 24(2), 175-184, 1952. F1,
  F2, F3 of 10 American English vowels by 76 men, women and children
  (1520 tokens), shipped in Praat as ``Create formant table (Peterson &
  Barney 1952)``: F1 190-1300 Hz, F2 560-3610 Hz, F3 1400-4380 Hz.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "ADULT_LENGTH_CM",
    "AREA_RANGE_CM2",
    "AREA_RATIO_MAX",
    "ARTICULATOR_SPEED_CM_S",
    "FORMANT_MARGIN",
    "HUMAN_LENGTH_CM",
    "PUBLISHED_HOP_S",
    "PUBLISHED_WINDOW_S",
    "SOURCES",
    "STRAW_GEOMETRIC_MEAN_CM2",
    "STRAW_LOG_AREA_STD",
    "WALL_SPEED_FACTOR",
    "peterson_barney",
]

#: Cross-sectional area of a human vocal tract while sound is produced (cm^2):
#: from the narrowest fricative/release constrictions (a few hundredths of a
#: cm^2) to the widest cavities (Fant's /o/, 14.6 cm^2).
#: [Stevens1998] [Story1996] [Fant1960]
AREA_RANGE_CM2: tuple[float, float] = (0.05, 15.0)

#: Largest ratio between the widest and narrowest section of one tract
#: shape: AREA_RANGE_CM2[1] / AREA_RANGE_CM2[0]. Scale-free, so it also
#: applies to estimators whose absolute area scale is unknown. Fant's vowels
#: reach 41 (/u/). [Fant1960]
AREA_RATIO_MAX: float = AREA_RANGE_CM2[1] / AREA_RANGE_CM2[0]

#: Vocal tract length of adults (cm), glottis to lips, including lip
#: protrusion (Fant's rounded /u/ reaches 20 cm). [FitchGiedd1999] [Lammert2015] [Fant1960]
ADULT_LENGTH_CM: tuple[float, float] = (13.0, 21.0)

#: Vocal tract length of any speaker, children included (cm): from about 6 cm
#: in infancy to the adult maximum. [Vorperian2005] [FitchGiedd1999]
HUMAN_LENGTH_CM: tuple[float, float] = (6.0, ADULT_LENGTH_CM[1])

#: "Straw" tract: geometric-mean area below this (cm^2) ... [Fant1960] [Story1996]
#: (human vowel tracts average 3-5 cm^2: Fant's five vowels /a e i o u/ 3.2-4.9 cm^2,
#: 2.7-4.9 cm^2 with Praat's other Fant vowels, y1-y3 and jery) ...
STRAW_GEOMETRIC_MEAN_CM2: float = 1.0
#: ... and standard deviation of ln(area) across sections below this: a
#: narrow, uniform pipe. Human shapes vary far more along the tract (Fant's
#: five vowels 0.57-1.03 on 0.5 cm sections, 0.57-1.14 with y1-y3 and jery); a
#: uniform neutral tube is wide
#: (about 3-4 cm^2), not narrow. [Fant1960] [Story1996]
STRAW_LOG_AREA_STD: float = 0.25

#: Fastest speech movement of an articulator (cm/s). [KuehnMoll1976]
ARTICULATOR_SPEED_CM_S: float = 30.0
#: A cross-section's equivalent diameter 2 sqrt(A / pi) can shrink or grow
#: with both walls moving (e.g. both lips, or tongue against a lowering
#: jaw), so its rate of change is bounded by twice the articulator speed.
WALL_SPEED_FACTOR: float = 2.0

#: Allowance around the Peterson & Barney vowel space, as a fraction of the
#: frequency (0.15 = 15 %, about the spread of formant measurement error
#: plus speakers outside the 76 of the study). [PetersonBarney1952]
FORMANT_MARGIN: float = 0.15

#: Published hop between bigram windows (450 samples at 16 kHz), used when no
#: window times are given.
PUBLISHED_HOP_S: float = 450 / 16000

#: Published window length (565 samples at 16 kHz): a flag's span runs half of it
#: around the first and last window centre when only the centres are given.
PUBLISHED_WINDOW_S: float = 565 / 16000

#: Short citation per flag code.
SOURCES: dict[str, str] = {
    "area_out_of_range": "Fant (1960); Story, Titze & Hoffman (1996) JASA 100:537; Stevens (1998)",
    "area_ratio_out_of_range": "Fant (1960); Story, Titze & Hoffman (1996) JASA 100:537",
    "tract_length_out_of_range": (
        "Fitch & Giedd (1999) JASA 106:1511; Vorperian et al. (2005) JASA 117:338; "
        "Lammert & Narayanan (2015) PLoS ONE 10:e0132193"
    ),
    "tract_length_child_range": "Fitch & Giedd (1999) JASA 106:1511; Vorperian et al. (2005) JASA 117:338",
    "straw_tract": "Fant (1960); Story, Titze & Hoffman (1996) JASA 100:537",
    "articulator_speed": "Kuehn & Moll (1976) J. Phonetics 4:303",
    "formants_outside_vowel_space": "Peterson & Barney (1952) JASA 24:175 (table in Praat)",
}


@functools.cache
def peterson_barney() -> np.ndarray:
    """Peterson & Barney (1952) F1, F2, F3 (Hz) of all 1520 tokens, from Praat.

    Returns
    -------
    numpy.ndarray
        float64 array ``(1520, 3)``, read-only.
    """
    from parselmouth.praat import call

    table = call("Create formant table (Peterson & Barney 1952)")
    n = int(call(table, "Get number of rows"))
    out = np.array(
        [[call(table, "Get value", i, col) for col in ("F1", "F2", "F3")] for i in range(1, n + 1)],
        dtype=np.float64,
    )
    out.setflags(write=False)
    return out
