"""Hand-made feature tables and a minimal reference for detector tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = {
    "q01": 0.01,
    "q05": 0.05,
    "q25": 0.25,
    "median": 0.5,
    "q75": 0.75,
    "q95": 0.95,
    "q99": 0.99,
}


class TableReference:
    """Reference computed directly from an organic feature table (bigram level only).

    Unseen bigrams back off to the pooled "global" statistics per section,
    like the Reference contract in FEATURES.md.
    """

    def __init__(self, organic: pd.DataFrame, calibration: dict | None = None) -> None:
        self.sha256 = "0" * 64
        self.name = "test"
        self.calibration = dict(calibration or {})
        self._by = {k: self._stats(g) for k, g in organic.groupby(["bigram", "n_sections"])}
        self._global = {n: self._stats(g) for n, g in organic.groupby("n_sections")}

    @staticmethod
    def _stats(g: pd.DataFrame) -> pd.DataFrame:
        agg = g.groupby("section")["area_cm2"]
        cols = {name: agg.quantile(q) for name, q in QUANTILES.items()}
        cols["min"] = agg.min()
        cols["max"] = agg.max()
        cols["count"] = agg.count()
        return pd.DataFrame(cols)

    def lookup(self, bigram: str, n_sections: int, *, levels=("bigram", "global"), min_count=None):
        key = (bigram, n_sections)
        if key in self._by and "bigram" in levels:
            return self._by[key], "bigram"
        if "global" not in levels:
            from vtract.errors import ReferenceError_

            raise ReferenceError_(f"no bigram-level statistics for {bigram}")
        return self._global[n_sections], "global"


def make_features(
    file: str,
    bigrams: list[str],
    *,
    rng: np.random.Generator,
    n_sections: int = 4,
    n_windows: int = 3,
    scale: float = 1.0,
    spread: float = 0.1,
    label: str = "",
    speaker: str = "",
) -> pd.DataFrame:
    """Feature rows with log-normal areas around a fixed shape per bigram.

    Each bigram has its own base shape (deterministic from its name);
    ``scale`` multiplies every area (1 = organic-like), ``spread`` is the
    log-normal sigma.
    """
    rows = []
    for i, bg in enumerate(bigrams):
        seed = sum(ord(c) for c in bg)
        base = 1.0 + (np.arange(n_sections) * (seed % 5 + 1)) % 4
        boundary = 0.1 + 0.2 * i
        for w in range(-(n_windows // 2), n_windows - n_windows // 2):
            areas = base * scale * np.exp(rng.normal(0.0, spread, n_sections))
            for s in range(n_sections):
                rows.append(
                    {
                        "file": file,
                        "sha256": "",
                        "speaker": speaker,
                        "label": label,
                        "bigram": bg,
                        "bigram_ipa": bg.lower(),
                        "phone1": bg.split("-")[0],
                        "phone2": bg.split("-")[1],
                        "class1": "",
                        "class2": "",
                        "word": "w",
                        "boundary_s": boundary,
                        "window_index": w,
                        "offset_s": w * 450 / 16000,
                        "section": s,
                        "n_sections": n_sections,
                        "area_cm2": float(areas[s]),
                        "length_cm": 16.0,
                        "fit_error_db": 1.0,
                        "f1_hz": 500.0,
                        "f2_hz": 1500.0,
                        "f3_hz": 2500.0,
                        "method": "test",
                    }
                )
    return pd.DataFrame(rows)


BIGRAMS = ["AH-N", "T-IY", "S-T", "IH-NG", "DH-AH", "AE-T", "ER-Z", "K-AE"]


def critical_flags(big: pd.DataFrame, code: str = "c") -> list:
    """A critical flag ``code`` on every bigram occurrence (row) of ``big``, spanning it."""
    from vtract.report import Flag

    return [
        Flag(code=code, message="m", severity="critical", bigram=b, start=s, end=e)
        for b, s, e in zip(big["bigram"], big["start_s"], big["end_s"])
    ]
