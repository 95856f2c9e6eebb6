"""The organic :class:`Reference`: what human vocal tracts look like per bigram.

Fit from feature tables of organic speech (:mod:`vtract.features`). For
every level of detail, key, variable, number of tube sections and section it
stores the published organic ``min``/``max`` (Blue et al. 2022: a value
outside the organic range of its (bigram, section) counts as a deepfake vote)
and robust statistics: ``count`` (finite values), ``n_files``,
``n_speakers``, ``mean``, ``std`` (ddof 1), quantiles ``q01 q05 q25 median
q75 q95 q99`` (linear interpolation, as :func:`numpy.quantile`) and ``mad``
(raw median absolute deviation from the median; multiply by 1.4826 for a
normal-consistent scale).

Levels and keys (back-off order of :meth:`Reference.lookup`):

=========  ====================================================================
level      key
=========  ====================================================================
bigram     the ARPAbet bigram, ``"AH-N"``
phone      ``"AH-*"`` (all bigrams whose first phone is AH) and ``"*-N"``
           (all whose second phone is N); lookup takes the better populated one
class      the phone-class pair, ``"vowel-nasal"``
global     ``"*"``, every window
=========  ====================================================================

Variables: per section (``section`` 0 = glottis .. ``n_sections - 1`` =
lips) ``area_cm2``, ``log_area``, and the speaker-normalised ``area_norm``,
``log_area_norm`` (:func:`vtract.features.normalise_by_speaker`); per window
(``section = -1``) ``length_cm``, ``length_norm``, ``f1_hz``, ``f2_hz``,
``f3_hz`` and ``fit_error_db``.

File format (``.vtref``): a ZIP archive holding ``meta.json`` (format name
and version, name, estimator method and settings, corpus description and
attribution, every input file with its SHA-256 and speaker, vtract
provenance, calibration) and ``stats.parquet`` (the statistics table, its
SHA-256 recorded in ``meta.json``). Writing is deterministic: loading and
saving again reproduces the file byte for byte.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__
from .alignment.labels import phone_class
from .errors import ReferenceError_, VtractError
from .features import FEATURE_COLUMNS, normalise_by_speaker, speaker_key
from .json_values import is_finite_number
from .provenance import provenance

__all__ = [
    "DEFAULT_MIN_COUNT",
    "FEW_SPEAKERS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "LEVELS",
    "QUANTILES",
    "SECTION_VARIABLES",
    "STAT_COLUMNS",
    "WINDOW_VARIABLES",
    "Reference",
    "SmallReferenceWarning",
    "default_reference",
    "default_reference_path",
    "estimator_fingerprint",
    "few_speakers_warning",
    "recorded_estimator_fingerprint",
]

#: Name written in every reference file.
FORMAT_NAME = "vtract-reference"
#: Version of the file layout; readers refuse files with a newer version.
#: Version 2 (26 Nov 2026): the estimator once called ``"default"`` is now
#: ``"lpc-refined"``; version-1 files are read with that renaming.
#: Version 3 (27 Nov 2026): the feature extraction high-passes the recording
#: (:mod:`vtract.tract.highpass`); ``settings["extract_features"]["highpass_hz"]``
#: says how, and older files that record their extraction settings are read
#: with ``highpass_hz = 0`` (they were measured unfiltered).
FORMAT_VERSION = 3
#: Estimator names of older format versions -> today's names.
_RENAMED_METHODS: dict[int, dict[str, str]] = {1: {"default": "lpc-refined", "formant": "default"}}
#: Back-off levels, most specific first.
LEVELS: tuple[str, ...] = ("bigram", "phone", "class", "global")
#: Quantiles stored (column ``q01`` = 0.01 ...; ``median`` = 0.5).
QUANTILES: dict[str, float] = {
    "q01": 0.01,
    "q05": 0.05,
    "q25": 0.25,
    "median": 0.5,
    "q75": 0.75,
    "q95": 0.95,
    "q99": 0.99,
}
#: Variables with one value per tube section.
SECTION_VARIABLES: tuple[str, ...] = ("area_cm2", "log_area", "area_norm", "log_area_norm")
#: Variables with one value per window (stored with ``section = -1``).
WINDOW_VARIABLES: tuple[str, ...] = (
    "length_cm",
    "length_norm",
    "f1_hz",
    "f2_hz",
    "f3_hz",
    "fit_error_db",
)
#: Statistic columns of the stats table.
STAT_COLUMNS: tuple[str, ...] = (
    "count",
    "n_files",
    "n_speakers",
    "min",
    "max",
    "mean",
    "std",
    *QUANTILES,
    "mad",
)
_KEY_COLUMNS = ("level", "key", "variable", "n_sections", "section")
_STATS_DTYPES: dict[str, str] = {
    **{c: "str" for c in ("level", "key", "variable")},
    **{c: "int64" for c in ("n_sections", "section", "count", "n_files", "n_speakers")},
    **{c: "float64" for c in STAT_COLUMNS if c not in ("count", "n_files", "n_speakers")},
}
#: Fewest windows a level needs before :meth:`Reference.lookup` uses it.
DEFAULT_MIN_COUNT = 10
#: Below this many organic speakers a reference is called small: :meth:`Reference.fit`
#: and ``vtract reference build`` warn, and so does every report made with it
#: (:func:`few_speakers_warning`). The shipped reference has 92: per-bigram ranges of
#: a handful of voices describe those voices.
FEW_SPEAKERS = 10
_META = "meta.json"
_STATS = "stats.parquet"
#: First bytes of a ZIP archive (a local file header): a .vtref that starts so but
#: cannot be read is a damaged reference, not a foreign file.
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
DEFAULT_REFERENCE_RESOURCE = "data/reference/default.vtref"


class SmallReferenceWarning(UserWarning):
    """A reference fitted to fewer than :data:`FEW_SPEAKERS` organic speakers."""


def few_speakers_warning(reference: Any) -> str | None:
    """Why a reference's organic statistics are too narrow to judge other voices, or None.

    Set when its metadata counts fewer than :data:`FEW_SPEAKERS` speakers (a
    recording counts as a speaker when none is given). Any object with a
    ``meta`` mapping is read; one without a speaker count gives None.
    """
    meta = getattr(reference, "meta", None)
    n = meta.get("n_speakers") if isinstance(meta, Mapping) else None
    if not isinstance(n, int) or isinstance(n, bool) or n >= FEW_SPEAKERS:
        return None
    return (
        f"the reference's organic statistics come from {n} speaker(s) (fewer than "
        f"{FEW_SPEAKERS}; a speaker is a recording when none is given): other voices "
        "deviate from them by who speaks, not by how the audio was made"
    )


class Reference:
    """Organic statistics per (bigram, section) with back-off, saved with provenance.

    Build one with :meth:`fit`, read one with :meth:`load` or
    :func:`default_reference`.

    A reference does not change once made (:meth:`with_calibration` returns a
    new one): :attr:`stats` and :attr:`meta` cannot be reassigned, :attr:`meta`
    is read-only all the way down (editing it raises :class:`TypeError`) and
    :attr:`calibration` is a copy, because :attr:`sha256`, which every report
    records, is computed once and kept. :attr:`stats` is a copy too, so
    editing it changes neither the reference nor what :meth:`save` writes.

    Attributes
    ----------
    stats : pandas.DataFrame
        Columns ``level, key, variable, n_sections, section`` then
        :data:`STAT_COLUMNS`, sorted by the key columns.
    meta : dict
        Everything else in the file (see the module docstring); read-only.
    """

    def __init__(self, stats: pd.DataFrame, meta: Mapping[str, Any]) -> None:
        missing = [c for c in (*_KEY_COLUMNS, *STAT_COLUMNS) if c not in stats.columns]
        if missing:
            raise ReferenceError_(f"reference statistics lack columns {missing}")
        try:
            self._stats = (
                stats[[*_KEY_COLUMNS, *STAT_COLUMNS]].astype(_STATS_DTYPES).reset_index(drop=True)
            )
        except (TypeError, ValueError) as exc:
            raise ReferenceError_(
                f"reference statistics have columns of the wrong type: {exc}"
            ) from exc
        self._meta: dict[str, Any] = _frozen(dict(meta))
        self._sha256: str | None = None
        self._index = {
            (lvl, key, var, int(n)): grp
            for (lvl, key, var, n), grp in self._stats.groupby(
                ["level", "key", "variable", "n_sections"], sort=False
            )
        }

    # ------------------------------------------------------------------ fit
    @classmethod
    def fit(
        cls,
        features: pd.DataFrame,
        *,
        name: str,
        corpus_info: Mapping[str, Any] | None = None,
        estimator: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        min_count: int = DEFAULT_MIN_COUNT,
    ) -> Reference:
        """Fit a reference to feature tables of organic speech.

        Parameters
        ----------
        features : pandas.DataFrame
            Feature table(s) concatenated (:data:`vtract.features.FEATURE_COLUMNS`);
            ``label`` must be ``"organic"`` or ``""`` on every row, and every
            row must come from the same estimator ``method``.
        name : str
            Name of the reference.
        corpus_info : mapping, optional
            Corpus description: sources, licences, attribution, how the
            alignments were made, subsets (JSON-serialisable).
        estimator : mapping, optional
            Estimator description stored as ``meta["estimator"]`` (settings,
            ``code_sha256`` = :func:`estimator_fingerprint`); ``method`` is
            taken from the table.
        settings : mapping, optional
            How the table was built; by convention ``{"extract_features":
            {...}}`` holds the keyword arguments of
            :func:`vtract.features.extract_features` (``sr``, ``window``,
            ``overlap``, ``policy``, ``sections``, ``cross_word``,
            ``highpass_hz``) so an analysis can measure evidence the same way.
            Rows whose ``extraction`` column (:func:`vtract.features.measurement_settings`)
            disagrees with it, or with each other, are refused.
        min_count : int, default 10
            Fewest windows a level needs to be used by :meth:`lookup`.

        Returns
        -------
        Reference

        Raises
        ------
        ReferenceError_
            Missing columns, an empty table, labels other than organic, several
            estimator methods, rows without a file, ``sha256``, bigram, phone or
            class, rows repeating another's (file, bigram, boundary, window,
            section), one recording (SHA-256) under several file names, or
            extraction settings that disagree.

        Warns
        -----
        SmallReferenceWarning
            Fewer than :data:`FEW_SPEAKERS` speakers (:func:`few_speakers_warning`);
            reports made with the reference repeat it.
        """
        if not isinstance(features, pd.DataFrame):
            raise ReferenceError_(f"expected a feature DataFrame, got {type(features).__name__}")
        missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
        if missing:
            raise ReferenceError_(f"feature table lacks columns {missing}")
        if len(features) == 0:
            raise ReferenceError_("cannot fit a reference to an empty feature table")
        labels = set(features["label"].astype(str))
        if not labels <= {"organic", ""}:
            raise ReferenceError_(
                f"a reference is fitted to organic speech only; the table has labels {sorted(labels)}"
            )
        methods = sorted(set(features["method"].astype(str)))
        if len(methods) != 1:
            raise ReferenceError_(
                f"features come from several estimator methods {methods}; fit one at a time"
            )
        for column in ("file", "sha256", "bigram", "phone1", "phone2", "class1", "class2"):
            if features[column].isna().any():
                raise ReferenceError_(
                    f"feature table has {int(features[column].isna().sum())} row(s) without a "
                    f"{column!r}; every row needs one (an unknown speaker may be empty)"
                )
        _refuse_counted_twice(features)
        sections = pd.to_numeric(features["n_sections"], errors="coerce")
        if not np.isfinite(sections.to_numpy(dtype=np.float64)).all():
            raise ReferenceError_(
                "feature table has rows whose n_sections is missing or not a number"
            )
        if estimator is not None and not isinstance(estimator, Mapping):
            raise ReferenceError_(
                f"estimator must be a mapping (a dict), got {type(estimator).__name__}"
            )
        if not _is_count(min_count, 1):
            raise ReferenceError_(f"min_count must be an integer >= 1, got {min_count!r}")
        given = (estimator or {}).get("method")
        if given is not None and given != methods[0]:
            raise ReferenceError_(
                f"estimator method {given!r} differs from the table's {methods[0]!r}"
            )
        if settings is not None and not isinstance(settings, Mapping):
            raise ReferenceError_(
                f"settings must be a mapping (a dict), got {type(settings).__name__}"
            )
        # the tables' own extraction records must agree with each other and with what
        # the reference will record (an older table without one is not checked)
        from .detect.labelled import measurement_differences

        recorded = (settings or {}).get("extract_features")
        measurement_differences(
            features,
            dict(recorded) if isinstance(recorded, Mapping) else None,
            what="the settings given",
        )
        df = normalise_by_speaker(features.reset_index(drop=True))
        df["_speaker"] = speaker_key(df)
        df["speaker"] = df["speaker"].astype(object).where(df["speaker"].notna(), "")
        stats = _compute_stats(df)
        files = (
            df[df["section"] == 0]
            .groupby(["file", "sha256"], sort=True)
            .agg(
                speaker=("speaker", "first"),
                n_windows=("section", "size"),
                n_bigrams=("bigram", "nunique"),
            )
            .reset_index()
        )
        meta: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "name": str(name),
            "vtract_version": __version__,
            "estimator": {**_jsonable(dict(estimator or {})), "method": methods[0]},
            "settings": _jsonable(dict(settings or {})),
            "corpus": _jsonable(dict(corpus_info or {})),
            "files": [
                {
                    "file": str(r.file),
                    "sha256": str(r.sha256),
                    "speaker": str(r.speaker),
                    "n_windows": int(r.n_windows),
                    "n_bigrams": int(r.n_bigrams),
                }
                for r in files.itertuples(index=False)
            ],
            "n_files": len(files),
            "n_speakers": int(df["_speaker"].nunique()),
            "n_windows": int((df["section"] == 0).sum()),
            "n_bigrams": int(df["bigram"].nunique()),
            "n_sections": sorted(int(n) for n in df["n_sections"].unique()),
            "levels": list(LEVELS),
            "quantiles": dict(QUANTILES),
            "section_variables": list(SECTION_VARIABLES),
            "window_variables": list(WINDOW_VARIABLES),
            "min_count": int(min_count),
            "calibration": {},
            "provenance": provenance(
                parameters={"name": str(name), "method": methods[0], "min_count": int(min_count)},
            ),
        }
        ref = cls(stats, meta)
        few = few_speakers_warning(ref)
        if few is not None:
            warnings.warn(few, SmallReferenceWarning, stacklevel=2)
        return ref

    # ------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        """Name of the reference."""
        return str(self.meta.get("name", ""))

    @property
    def method(self) -> str:
        """Estimator method the reference was built with."""
        return str(self.meta.get("estimator", {}).get("method", ""))

    @property
    def min_count(self) -> int:
        """Fewest windows a level needs to be used by :meth:`lookup`."""
        return int(self.meta.get("min_count", DEFAULT_MIN_COUNT))

    @property
    def calibration(self) -> dict[str, Any]:
        """Detector thresholds stored with the reference (``{}`` when uncalibrated).

        A deep copy: editing it does not change the reference (use
        :meth:`with_calibration` for a reference with other thresholds).
        """
        return copy.deepcopy(dict(self.meta.get("calibration", {})))

    @property
    def files(self) -> pd.DataFrame:
        """Input files: ``file, sha256, speaker, n_windows, n_bigrams``."""
        return pd.DataFrame(
            self.meta.get("files", []),
            columns=["file", "sha256", "speaker", "n_windows", "n_bigrams"],
        )

    @property
    def bigrams(self) -> list[str]:
        """Bigrams with bigram-level statistics."""
        s = self._stats
        return sorted(set(s.loc[s["level"] == "bigram", "key"]))

    @property
    def stats(self) -> pd.DataFrame:
        """Statistics table (see the class docstring); a copy, so edits do not reach the reference.

        A deep copy: pandas before 3.0 does not copy on write, so a shallow
        one would share the reference's arrays.
        """
        return self._stats.copy(deep=True)

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata (see the module docstring); read-only.

        Its dicts and lists refuse to be changed (:class:`TypeError`);
        ``copy.deepcopy`` gives an editable copy.
        """
        return self._meta

    @property
    def sha256(self) -> str:
        """SHA-256 of the reference's file.

        For a reference read from a file (:meth:`load`, :meth:`from_bytes`,
        :func:`default_reference`), in any format version, the hash of the
        bytes read: what ``sha256sum`` gives for that file, so that a report's
        custody record names the file that was used. A file in an older
        format is read in today's terms (``meta["upgraded_from_format"]``);
        :meth:`save` then writes today's format, whose bytes have another
        hash. For a reference fitted in memory (or made by
        :meth:`with_calibration`), the hash of the bytes :meth:`save` writes,
        computed on first use and kept (serialising takes a good part of a
        second for the shipped reference; a reference does not change, see
        the class docstring).
        """
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.to_bytes()).hexdigest()
        return self._sha256

    def with_calibration(self, calibration: Mapping[str, Any]) -> Reference:
        """A copy carrying detector thresholds (saved in ``meta.json``).

        Raises
        ------
        ReferenceError_
            A calibration record that the detectors could not use
            (:func:`vtract.detect.stored.check_calibrations`).
        """
        meta = dict(self.meta)
        meta["calibration"] = _jsonable(dict(calibration))
        _check_calibrations(meta["calibration"], "the calibration given")
        return Reference(self._stats, meta)

    def info(self) -> dict[str, Any]:
        """Short JSON-ready summary (name, method, counts, corpora, hash).

        ``estimator_code_sha256`` is the estimator fingerprint the reference
        records (``None``: none recorded) and ``estimator_code_matches``
        whether it is this vtract's (:func:`estimator_fingerprint`; ``None``
        when nothing is recorded). ``created_utc`` is when the reference was
        built; ``calibrated_utc`` when each stored calibration was made
        (``None`` for one that records no provenance); ``calibration_warnings``
        what the stored default-detector calibrations warn on every report
        (:func:`vtract.detect.stored.calibration_warnings`).
        """
        from .detect.stored import calibration_warnings

        code = recorded_estimator_fingerprint(self)
        return {
            "name": self.name,
            "format_version": self.meta.get("format_version"),
            "vtract_version": self.meta.get("vtract_version"),
            "method": self.method,
            "estimator_code_sha256": code,
            "estimator_code_matches": None if code is None else code == estimator_fingerprint(),
            "n_sections": self.meta.get("n_sections"),
            "n_files": self.meta.get("n_files"),
            "n_speakers": self.meta.get("n_speakers"),
            "n_windows": self.meta.get("n_windows"),
            "n_bigrams": self.meta.get("n_bigrams"),
            "min_count": self.min_count,
            "corpus": {k: v for k, v in self.meta.get("corpus", {}).items() if k != "recordings"},
            "n_recordings": len(self.meta.get("corpus", {}).get("recordings", [])),
            "calibrated": bool(self.meta.get("calibration")),
            "calibrated_utc": _calibration_times(self.meta.get("calibration") or {}),
            "calibration_warnings": calibration_warnings(self.meta.get("calibration") or {}),
            "created_utc": self.meta.get("provenance", {}).get("created_utc"),
            "sha256": self.sha256,
        }

    # --------------------------------------------------------------- lookup
    def lookup(
        self,
        bigram: str,
        n_sections: int,
        *,
        variable: str = "area_cm2",
        min_count: int | None = None,
        levels: Sequence[str] = LEVELS,
    ) -> tuple[pd.DataFrame, str]:
        """Statistics for a bigram, backing off when it is rare or unseen.

        Parameters
        ----------
        bigram : str
            ARPAbet bigram ``"AH-N"``.
        n_sections : int
            Number of tube sections of the estimates to compare.
        variable : str, default "area_cm2"
            One of :data:`SECTION_VARIABLES` or :data:`WINDOW_VARIABLES`.
        min_count : int, optional
            Fewest windows a level needs (default: :attr:`min_count`).
        levels : sequence of str
            Levels to try, in order (default: all of :data:`LEVELS`).

        Returns
        -------
        (pandas.DataFrame, str)
            Statistics (:data:`STAT_COLUMNS`) indexed by ``section`` (one row
            ``-1`` for window variables) and the level used; ``attrs["key"]``
            holds the key.

        Raises
        ------
        ReferenceError_
            Unknown variable, a bigram not of the form ``"A-B"``, or no level
            has enough data (e.g. the reference has no ``n_sections`` tubes).
        """
        if variable not in SECTION_VARIABLES + WINDOW_VARIABLES:
            raise ReferenceError_(
                f"unknown reference variable {variable!r}; expected one of "
                f"{', '.join(SECTION_VARIABLES + WINDOW_VARIABLES)}"
            )
        bad = [lvl for lvl in levels if lvl not in LEVELS]
        if bad:
            raise ReferenceError_(f"unknown levels {bad}; expected some of {list(LEVELS)}")
        parts = str(bigram).split("-")
        if len(parts) != 2 or not all(parts):
            raise ReferenceError_(f"bigram must look like 'AH-N', got {bigram!r}")
        p1, p2 = parts
        if min_count is not None and not _is_count(min_count, 1):
            raise ReferenceError_(f"min_count must be an integer >= 1, got {min_count!r}")
        if not _is_count(n_sections, 1):
            raise ReferenceError_(f"n_sections must be a positive integer, got {n_sections!r}")
        need = self.min_count if min_count is None else int(min_count)
        n = int(n_sections)
        for level in levels:
            for key in _candidate_keys(level, p1, p2, self, variable, n):
                grp = self._index.get((level, key, variable, n))
                if grp is None or int(grp["count"].min()) < need:
                    continue
                if variable in SECTION_VARIABLES and len(grp) < n:
                    # a section without one finite value has no row: it has fewer than
                    # min_count too (until session 31 the level was used without it, and
                    # the detector then failed on the missing section)
                    continue
                out = grp.set_index("section")[list(STAT_COLUMNS)].sort_index()
                out.attrs["key"] = key
                out.attrs["level"] = level
                return out, level
        available = self.meta.get("n_sections")
        raise ReferenceError_(
            f"reference {self.name!r} has no statistics for {bigram} with {n} sections "
            f"(variable {variable}, levels {list(levels)}, min_count {need}); it holds "
            f"n_sections {available}"
        )

    # ------------------------------------------------------------ save/load
    def to_bytes(self) -> bytes:
        """Serialise to the ``.vtref`` bytes (deterministic)."""
        stats_bytes = _stats_to_parquet(self._stats)
        meta = dict(self.meta)
        meta["format_version"] = FORMAT_VERSION  # upgraded files are written in today's format
        meta["stats_sha256"] = hashlib.sha256(stats_bytes).hexdigest()
        meta_bytes = json.dumps(meta, sort_keys=True, indent=1, allow_nan=False).encode("utf-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for member, data, method in (
                (_META, meta_bytes, zipfile.ZIP_DEFLATED),
                (_STATS, stats_bytes, zipfile.ZIP_STORED),
            ):
                info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
                info.compress_type = method
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        return buf.getvalue()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the reference to ``path`` atomically; returns the path."""
        from .output_files import atomic_path

        dest = Path(path)
        data = self.to_bytes()
        with atomic_path(dest) as tmp:
            tmp.write_bytes(data)
        return dest

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str = "reference") -> Reference:
        """Parse ``.vtref`` bytes, checking format, version and integrity."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                if not {_META, _STATS} <= names:
                    raise ReferenceError_(
                        f"{where} is not a vtract reference: members {_META} and {_STATS} are required, "
                        f"found {sorted(names)}"
                    )
                meta_bytes = zf.read(_META)
                stats_bytes = zf.read(_STATS)
        except zipfile.BadZipFile as exc:
            if data.startswith(_ZIP_MAGIC):
                raise ReferenceError_(
                    f"{where} is damaged: it starts as a ZIP archive (the .vtref layout) but "
                    f"cannot be read as one ({exc}); it was truncated or corrupted in transfer "
                    "or storage: compare its SHA-256 with the original's"
                ) from exc
            raise ReferenceError_(
                f"{where} is not a vtract reference (not a readable ZIP archive: {exc})"
            ) from exc
        except (OSError, EOFError, zipfile.LargeZipFile, zlib.error) as exc:
            raise ReferenceError_(
                f"{where} is damaged: a member cannot be decompressed ({exc}); compare its "
                "SHA-256 with the original's"
            ) from exc
        try:
            meta = json.loads(meta_bytes.decode("utf-8"), parse_constant=_not_json_constant)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReferenceError_(f"{where} is corrupt: {_META} is not valid JSON ({exc})") from exc
        except ValueError as exc:  # NaN or Infinity: what Python writes, never save()
            raise ReferenceError_(f"{where} is corrupt: {_META} {exc}") from exc
        if not isinstance(meta, dict):
            raise ReferenceError_(
                f"{where} is not a vtract reference ({_META} holds "
                f"{json.dumps(meta)[:40]}, not an object)"
            )
        if meta.get("format") != FORMAT_NAME:
            raise ReferenceError_(
                f"{where} is not a vtract reference (format {meta.get('format')!r})"
            )
        version = meta.get("format_version")
        if (
            isinstance(version, bool)
            or not isinstance(version, int)
            or version > FORMAT_VERSION
            or version < 1
        ):
            raise ReferenceError_(
                f"{where} has reference format version {version!r}; this vtract ({__version__}) "
                f"reads versions 1 to {FORMAT_VERSION}: upgrade vtract or rebuild the reference"
            )
        _check_meta_types(meta, where)
        meta = _upgrade_meta(meta, version)
        _check_extract_settings(meta, where)
        _check_calibrations(meta.get("calibration") or {}, where)
        expected = meta.pop("stats_sha256", None)
        actual = hashlib.sha256(stats_bytes).hexdigest()
        if expected != actual:
            raise ReferenceError_(
                f"{where} is corrupt: statistics SHA-256 {actual} does not match the recorded {expected}"
            )
        try:
            stats = pd.read_parquet(io.BytesIO(stats_bytes))
        except Exception as exc:  # pyarrow raises several unrelated types
            raise ReferenceError_(f"{where} is corrupt: cannot read {_STATS} ({exc})") from exc
        ref = cls(stats, meta)
        # the hash names the very bytes read, in any format version (custody: what
        # sha256sum gives for the file), and costs no re-serialisation
        ref._sha256 = hashlib.sha256(data).hexdigest()
        return ref

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Reference:
        """Read a reference written by :meth:`save`.

        Raises
        ------
        ReferenceError_
            Missing, unreadable, corrupt or incompatible file.
        """
        p = Path(path)
        if not p.is_file():
            raise ReferenceError_(f"reference file not found: {p}")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ReferenceError_(f"cannot read reference {p}: {exc}") from exc
        return cls.from_bytes(data, where=f"reference {p}")

    def __repr__(self) -> str:
        return (
            f"Reference(name={self.name!r}, method={self.method!r}, files={self.meta.get('n_files')}, "
            f"windows={self.meta.get('n_windows')}, bigrams={self.meta.get('n_bigrams')})"
        )


def estimator_fingerprint() -> str:
    """SHA-256 over the source files of :mod:`vtract.tract` (name and bytes, sorted).

    Stored with a reference so that an estimator change, committed or not, is
    visible: statistics from different estimator code are not comparable, and
    :func:`vtract.analyze` gives no verdict with a reference whose recorded
    fingerprint differs. Line endings are read as ``\n`` so that a checkout
    with Windows line endings has the same fingerprint.
    """
    return _source_fingerprint(resources.files("vtract").joinpath("tract"))


def recorded_estimator_fingerprint(reference: Any) -> str | None:
    """The estimator fingerprint a reference records, or ``None`` when it records none.

    It is :func:`estimator_fingerprint` of the vtract that measured the
    reference's organic recordings (``vtract reference build`` and the
    shipped default record it; :meth:`Reference.fit` stores what its
    ``estimator`` argument says). Any object with a ``meta`` mapping is read.
    """
    meta = getattr(reference, "meta", {}) or {}
    estimator = meta.get("estimator") if isinstance(meta, dict) else None
    code = estimator.get("code_sha256") if isinstance(estimator, dict) else None
    return str(code) if code else None


def _calibration_times(calibration: Mapping[str, Any]) -> dict[str, str | None]:
    """When each stored calibration was made (its provenance's ``created_utc``), by key."""
    out: dict[str, str | None] = {}
    for key, record in calibration.items():
        if not isinstance(record, Mapping):
            continue
        metrics = record.get("metrics")
        block = metrics.get("provenance") if isinstance(metrics, Mapping) else None
        if not isinstance(block, Mapping):
            block = record.get("provenance")
        created = block.get("created_utc") if isinstance(block, Mapping) else None
        out[str(key)] = str(created) if created is not None else None
    return out


def _source_fingerprint(root: Any) -> str:
    """SHA-256 over the ``.py`` files in ``root`` (a path or package resource)."""
    h = hashlib.sha256()
    for name in sorted(p.name for p in root.iterdir() if p.name.endswith(".py")):
        text = root.joinpath(name).read_bytes().replace(b"\r\n", b"\n")
        h.update(name.encode() + b"\0" + text + b"\0")
    return h.hexdigest()


#: What identifies one row of a feature table: a section of one window of one bigram
#: occurrence of one recording.
_ROW_KEY = ("file", "bigram", "boundary_s", "window_index", "n_sections", "section")


def _refuse_counted_twice(features: pd.DataFrame) -> None:
    """Refuse rows or recordings a reference would count twice (session 31 probe F5).

    A table concatenated twice doubled every count, which moved the back-off
    level (a bigram of 6 windows passed ``min_count`` 10); one recording under
    two names (same SHA-256) counted as two files. ``vtract reference build``
    keeps the first copy of a recording (``drop_duplicate_recordings``); a
    table given to :meth:`Reference.fit` is refused instead, naming them.
    """
    dup = features.duplicated(list(_ROW_KEY))
    if dup.any():
        first = features.loc[dup, list(_ROW_KEY)].iloc[0].to_dict()
        raise ReferenceError_(
            f"feature table has {int(dup.sum())} row(s) repeating another's file, bigram, "
            f"boundary, window and section (e.g. {first}); each would be counted twice: "
            "drop the duplicates (DataFrame.drop_duplicates) before fitting"
        )
    hashed = features[features["sha256"].astype(str) != ""]  # "": not hashed (an API table)
    names = hashed.groupby("sha256", sort=True)["file"].unique()
    copies = names[names.map(len) > 1]
    if len(copies):
        shown = "; ".join(f"{', '.join(sorted(map(str, files))[:3])}" for files in copies.iloc[:3])
        raise ReferenceError_(
            f"feature table holds {len(copies)} recording(s) under more than one file name "
            f"(same SHA-256: {shown}); each copy would count as another file and speaker: "
            "keep one name per recording (vtract reference build keeps the first)"
        )


def _not_json_constant(token: str) -> Any:
    """Refuse ``NaN``/``Infinity`` in a reference's meta.json (``save`` never writes them)."""
    raise ValueError(
        f"holds {token}, which is not JSON and is never written by Reference.save: the "
        "file was edited"
    )


def default_reference_path() -> Path:
    """Path of the reference shipped inside the package."""
    return Path(str(resources.files("vtract").joinpath(DEFAULT_REFERENCE_RESOURCE)))


@functools.cache
def _default_reference_cached() -> Reference:
    path = default_reference_path()
    if not path.is_file():
        raise ReferenceError_(
            f"the default reference is not installed ({path} missing); build it with "
            "scripts/build_default_reference.py or pass reference=..."
        )
    return Reference.load(path)


def default_reference() -> Reference:
    """The organic reference shipped with vtract (read once, then cached).

    Raises
    ------
    ReferenceError_
        The packaged file is missing or corrupt.
    """
    return _default_reference_cached()


# ---------------------------------------------------------------- internals
def _is_count(value: Any, least: int) -> bool:
    """An integer (Python or NumPy, not bool; a float only if whole) of at least ``least``."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (float, np.floating)):
        return bool(np.isfinite(value) and float(value).is_integer() and value >= least)
    return bool(isinstance(value, (int, np.integer)) and value >= least)


def _candidate_keys(
    level: str, p1: str, p2: str, ref: Reference, variable: str, n: int
) -> list[str]:
    if level == "bigram":
        return [f"{p1}-{p2}"]
    if level == "phone":
        keys = [f"{p1}-*", f"*-{p2}"]
        counts = []
        for k in keys:
            grp = ref._index.get(("phone", k, variable, n))
            counts.append(-1 if grp is None else int(grp["count"].min()))
        # the better populated side first; ties keep the first phone first
        return [keys[i] for i in sorted(range(2), key=lambda i: -counts[i])]
    if level == "class":
        return [f"{phone_class(p1)}-{phone_class(p2)}"]
    return ["*"]


def _level_keys(df: pd.DataFrame) -> Iterable[tuple[str, pd.Series]]:
    yield "bigram", df["bigram"].astype(str)
    yield "phone", df["phone1"].astype(str) + "-*"
    yield "phone", "*-" + df["phone2"].astype(str)
    yield "class", df["class1"].astype(str) + "-" + df["class2"].astype(str)
    yield "global", pd.Series("*", index=df.index)


def _compute_stats(df: pd.DataFrame) -> pd.DataFrame:
    """The stats table for every level, key, variable, n_sections and section."""
    window_rows = df[df["section"] == 0]
    frames = []
    for level, key in _level_keys(df):
        frames.append(_level_stats(df, key, df["section"], SECTION_VARIABLES, level))
        section = pd.Series(-1, index=window_rows.index)
        frames.append(
            _level_stats(window_rows, key.loc[window_rows.index], section, WINDOW_VARIABLES, level)
        )
    stats = pd.concat(frames, ignore_index=True)
    stats = stats.sort_values(list(_KEY_COLUMNS), kind="mergesort").reset_index(drop=True)
    return stats


def _level_stats(
    df: pd.DataFrame, key: pd.Series, section: pd.Series, variables: Sequence[str], level: str
) -> pd.DataFrame:
    """Statistics of several variables for one level (non-finite values ignored)."""
    cols = ["key", "n_sections", "section"]
    groups = pd.DataFrame(
        {
            "key": key.to_numpy(),
            "n_sections": df["n_sections"].to_numpy(dtype=np.int64),
            "section": section.to_numpy(dtype=np.int64),
        }
    )
    gb = groups.groupby(cols, sort=True)
    gid = gb.ngroup().to_numpy(dtype=np.int64)
    table = gb.size().index.to_frame(index=False)
    files = pd.factorize(df["file"].to_numpy())[0]
    speakers = pd.factorize(df["_speaker"].to_numpy())[0]
    out = []
    for variable in variables:
        x = df[variable].to_numpy(dtype=np.float64)
        ok = np.isfinite(x)
        st = _grouped_stats(gid[ok], x[ok], files[ok], speakers[ok], len(table))
        part = table.iloc[st.index].reset_index(drop=True)
        part = pd.concat([part, st.reset_index(drop=True)], axis=1)
        part.insert(0, "variable", variable)
        out.append(part)
    res = pd.concat(out, ignore_index=True)
    res.insert(0, "level", level)
    return res[[*_KEY_COLUMNS, *STAT_COLUMNS]]


def _sorted_quantile(xs: np.ndarray, starts: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolation quantile (as numpy's default) of sorted groups."""
    pos = (n - 1) * q
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a, b = xs[starts + lo], xs[starts + hi]
    return np.where(frac >= 0.5, b - (b - a) * (1.0 - frac), a + (b - a) * frac)


def _grouped_stats(
    gid: np.ndarray, x: np.ndarray, files: np.ndarray, speakers: np.ndarray, n_groups: int
) -> pd.DataFrame:
    """count, n_files, n_speakers, min, max, mean, std, quantiles, MAD per group id."""
    count = np.bincount(gid, minlength=n_groups).astype(np.int64)
    present = np.flatnonzero(count)
    cols: dict[str, np.ndarray] = {
        "count": count[present],
        "n_files": _distinct_per_group(gid, files, n_groups)[present],
        "n_speakers": _distinct_per_group(gid, speakers, n_groups)[present],
    }
    if present.size:
        order = np.lexsort((x, gid))
        xs, gs = x[order], gid[order]
        starts = np.searchsorted(gs, present, side="left")
        n = count[present]
        cols["min"] = xs[starts]
        cols["max"] = xs[starts + n - 1]
        mean = np.add.reduceat(xs, starts) / n
        cols["mean"] = mean
        dev2 = np.add.reduceat((xs - np.repeat(mean, n)) ** 2, starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["std"] = np.where(n > 1, np.sqrt(dev2 / np.maximum(n - 1, 1)), np.nan)
        for name, q in QUANTILES.items():
            cols[name] = _sorted_quantile(xs, starts, n, q)
        med = _sorted_quantile(xs, starts, n, 0.5)
        absdev = np.abs(xs - np.repeat(med, n))
        order2 = np.lexsort((absdev, gs))
        cols["mad"] = _sorted_quantile(absdev[order2], starts, n, 0.5)
    else:
        for c in ("min", "max", "mean", "std", *QUANTILES, "mad"):
            cols[c] = np.empty(0)
    return pd.DataFrame(cols, index=present)


def _distinct_per_group(gid: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    if gid.size == 0:
        return np.zeros(n_groups, dtype=np.int64)
    width = int(codes.max()) + 1
    pairs = np.unique(gid.astype(np.int64) * width + codes.astype(np.int64))
    return np.bincount(pairs // width, minlength=n_groups).astype(np.int64)


def _stats_to_parquet(stats: pd.DataFrame) -> bytes:
    table = stats[[*_KEY_COLUMNS, *STAT_COLUMNS]].reset_index(drop=True)
    buf = io.BytesIO()
    table.to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and paths so ``json.dumps`` accepts them."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


#: Types of the metadata fields a reference file may hold (a field may be absent).
_META_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "vtract_version": (str,),
    "estimator": (dict,),
    "settings": (dict,),
    "corpus": (dict,),
    "files": (list,),
    "calibration": (dict,),
    "provenance": (dict,),
    "n_sections": (list,),
    "levels": (list,),
    "quantiles": (dict,),
    "section_variables": (list,),
    "window_variables": (list,),
    "n_files": (int,),
    "n_speakers": (int,),
    "n_windows": (int,),
    "n_bigrams": (int,),
    "min_count": (int,),
    "stats_sha256": (str,),
}


def _check_meta_types(meta: dict[str, Any], where: str) -> None:
    """Refuse metadata whose fields have the wrong JSON type (an edited or forged file).

    ``meta.json`` is not covered by the statistics hash, so a file can load
    with, say, ``"min_count": "x"`` and fail much later with an obscure error;
    this names the field at load time instead.
    """
    for key, types in _META_TYPES.items():
        if key not in meta:
            continue
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ReferenceError_(
                f"{where} is corrupt: {_META} field {key!r} is {json.dumps(value)[:60]}, "
                f"expected a JSON {_JSON_TYPE_NAMES[types[0]]}"
            )
    if "min_count" in meta and meta["min_count"] < 1:
        raise ReferenceError_(f"{where} is corrupt: min_count {meta['min_count']} is below 1")
    if "estimator" in meta and not isinstance(meta["estimator"].get("method", ""), str):
        raise ReferenceError_(f"{where} is corrupt: the estimator method is not a string")
    if "settings" in meta and not isinstance(meta["settings"].get("extract_features") or {}, dict):
        raise ReferenceError_(f"{where} is corrupt: settings.extract_features is not an object")
    bad_sections = [n for n in meta.get("n_sections", []) if type(n) is not int]
    if bad_sections:
        raise ReferenceError_(f"{where} is corrupt: n_sections holds {bad_sections[:3]}")
    bad_files = [f for f in meta.get("files", []) if not isinstance(f, dict)]
    if bad_files:
        raise ReferenceError_(f"{where} is corrupt: its file list holds non-objects")
    if "corpus" in meta and not isinstance(meta["corpus"].get("recordings", []), list):
        raise ReferenceError_(f"{where} is corrupt: corpus recordings is not a list")


_JSON_TYPE_NAMES = {str: "string", dict: "object", list: "array", int: "integer"}


def _whole(value: Any, least: int) -> bool:
    """A JSON integer (not a bool) of at least ``least``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


#: What each recorded extraction setting must be (:func:`vtract.features.extract_features`'s
#: keyword arguments and the estimator options it passes on), with the words of the refusal.
def _estimator_name(value: Any) -> bool:
    """One of :data:`vtract.tract.METHODS` (or a deprecated name the estimator still reads)."""
    from .tract.estimate import DEPRECATED_METHODS, METHODS

    return isinstance(value, str) and (value in METHODS or value in DEPRECATED_METHODS)


def _solver_name(value: Any) -> bool:
    from .tract.estimate import SOLVERS

    return value is None or (isinstance(value, str) and value in SOLVERS)


_EXTRACT_SETTINGS: dict[str, tuple[Any, str]] = {
    "method": (_estimator_name, "an estimator name (vtract.tract.METHODS)"),
    "sr": (lambda v: v is None or _whole(v, 1), "a positive integer rate (Hz) or null"),
    "window": (lambda v: _whole(v, 2), "an integer of at least 2 samples"),
    "overlap": (lambda v: _whole(v, 0), "an integer of at least 0 samples"),
    "policy": (lambda v: v in ("centred", "published"), "'centred' or 'published'"),
    "sections": (lambda v: v is None or _whole(v, 2), "an integer of at least 2, or null"),
    "cross_word": (lambda v: isinstance(v, bool), "true or false"),
    "highpass_hz": (lambda v: is_finite_number(v) and v >= 0, "a number of at least 0 (Hz)"),
    "voice_source": (lambda v: isinstance(v, bool), "true or false"),
    "n_sections": (lambda v: v is None or _whole(v, 1), "a positive integer or null"),
    "length_cm": (
        lambda v: v is None or (is_finite_number(v) and v > 0),
        "a positive number or null",
    ),
    "solver": (_solver_name, "a solver name ('fast', 'published') or null"),
}


def _check_extract_settings(meta: Mapping[str, Any], where: str) -> None:
    """Refuse recorded extraction settings an analysis could not measure evidence with.

    :func:`vtract.analyze` passes ``settings["extract_features"]`` to
    :func:`vtract.features.extract_features`; an edited value (``"sections":
    "x"``, ``"window": -5``, an unknown key) would otherwise fail deep inside
    the measurement with a Python error instead of naming the field.
    """
    extract = (meta.get("settings") or {}).get("extract_features") or {}
    unknown = sorted(str(k) for k in extract if k not in _EXTRACT_SETTINGS)
    if unknown:
        raise ReferenceError_(
            f"{where} is corrupt: settings.extract_features holds unknown key(s) {unknown}; "
            f"known: {sorted(_EXTRACT_SETTINGS)}"
        )
    for key, value in extract.items():
        ok, expected = _EXTRACT_SETTINGS[key]
        if not ok(value):
            raise ReferenceError_(
                f"{where} is corrupt: settings.extract_features.{key} is "
                f"{json.dumps(value)[:60]}, expected {expected}"
            )
    window, overlap = extract.get("window"), extract.get("overlap")
    if window is not None and overlap is not None and overlap >= window:
        raise ReferenceError_(
            f"{where} is corrupt: settings.extract_features.overlap {overlap} is not below "
            f"its window {window}"
        )


def _check_calibrations(calibration: Mapping[str, Any], where: str) -> None:
    """Refuse calibration records the detectors could not use, naming the record and field."""
    from .detect.stored import check_calibrations

    try:
        check_calibrations(calibration)
    except VtractError as exc:
        raise ReferenceError_(f"{where} is corrupt: {exc}") from None


class _FrozenDict(dict[str, Any]):
    """A dict that refuses to change: the metadata of a :class:`Reference`.

    It is still a ``dict`` (``isinstance``, ``json.dumps``, ``==``); ``copy``
    and ``copy.deepcopy`` give plain, editable dicts, and pickling keeps it
    read-only.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenDict, (dict(self),))


class _FrozenList(list[Any]):
    """A list that refuses to change (see :class:`_FrozenDict`)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(v, memo) for v in self]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenList, (list(self),))


_READ_ONLY = (
    "a Reference's metadata is read-only (its SHA-256 is recorded in every report); "
    "copy.deepcopy(reference.meta) gives an editable copy, and Reference.with_calibration "
    "a reference with other thresholds"
)


def _frozen(value: Any) -> Any:
    """``value`` with every dict and list in it made read-only (:class:`_FrozenDict`)."""
    if isinstance(value, Mapping):
        return _FrozenDict({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return _FrozenList(_frozen(v) for v in value)
    return value


def _upgrade_meta(meta: dict[str, Any], version: int) -> dict[str, Any]:
    """Read the metadata of a file written in format ``version`` in today's terms.

    Version 1: estimator methods renamed (:data:`_RENAMED_METHODS`). Versions
    1-2: recorded extraction settings get ``highpass_hz = 0`` (no analysis
    high-pass existed). The file itself is not changed;
    ``meta["upgraded_from_format"]`` records the version it was read from.
    """
    if version >= FORMAT_VERSION:
        return meta
    renames = _RENAMED_METHODS.get(version, {})
    meta = dict(meta)
    estimator = dict(meta.get("estimator") or {})
    if estimator.get("method") in renames:
        estimator["method"] = renames[estimator["method"]]
        meta["estimator"] = estimator
    settings = dict(meta.get("settings") or {})
    extract = dict(settings.get("extract_features") or {})
    if extract:
        if extract.get("method") in renames:
            extract["method"] = renames[extract["method"]]
        extract.setdefault("highpass_hz", 0.0)
        settings["extract_features"] = extract
        meta["settings"] = settings
    meta["upgraded_from_format"] = version
    return meta
