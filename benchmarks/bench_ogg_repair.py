"""Truncated Ogg files: how much audio libsndfile alone decodes, and how much vtract does.

Run: ``python benchmarks/bench_ogg_repair.py``. Writes
``benchmarks/results/ogg_repair.json``. The bundled example recordings
(``vtract.demo``'s Piper and espeak-ng speech and the VocalTractLab
utterance, 16 kHz) are written as Ogg Vorbis (16 kHz) and Ogg Opus (48 kHz)
by libsndfile, then cut at 1 %, 2 %, ..., 99 % of their bytes. For every cut
it records:

* what libsndfile decodes from the cut bytes (seconds; 0 when it refuses the
  file, which it does for an Opus file cut inside its first audio page);
* what :func:`vtract.load` decodes (the whole packets of the cut page too,
  from :func:`vtract.ogg.repair_truncated`'s in-memory copy), or the error
  it raises;
* whether vtract's samples are exactly the first samples of the whole
  file's decoding (they must be, at every cut).

It also times the checks on two hostile files made here (``hostile`` in
the JSON): 200,000 one-page Ogg streams (5.4 MB; the container findings),
and an Opus stream of 4,000 pages of 255 full segments each (260 MB), cut
inside its last page (the repair's page and packet walk).
"""

from __future__ import annotations

import argparse
import io
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vtract
from _harness import emit_result
from vtract.container import container_findings
from vtract.errors import VtractError
from vtract.ogg import page_checksum, repair_truncated

EXAMPLES = Path(vtract.__file__).parent / "data" / "examples"


def _plain_seconds(raw: bytes) -> float:
    try:
        with sf.SoundFile(io.BytesIO(raw)) as snd:
            return snd.read().shape[0] / snd.samplerate
    except (sf.LibsndfileError, RuntimeError):
        return 0.0


def _page(
    flags: int, granule: int, serial: int, sequence: int, lacing: list[int], body: bytes
) -> bytes:
    head = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = bytearray(head + bytes(lacing) + body)
    struct.pack_into("<I", page, 22, page_checksum(bytes(page)))
    return bytes(page)


def _hostile_timings() -> dict[str, float]:
    """Seconds for the page checks on files built to make them slow."""
    streams = b"".join(_page(0x02, 0, serial, 0, [], b"") for serial in range(200_000))
    t0 = time.perf_counter()
    found = container_findings(streams, declared_frames=None, decoded_frames=0, sample_rate=1)
    t_streams = time.perf_counter() - t0
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    pages = [_page(0x02, 0, 1, 0, [len(head)], head), _page(0, 0, 1, 1, [8], b"OpusTags")]
    pages += [_page(0x01 if k > 2 else 0, -1, 1, k, [255] * 255, bytes(255 * 255))
              for k in range(2, 4000)]  # fmt: skip
    big = b"".join(pages)[:-100]
    t0 = time.perf_counter()
    repair_truncated(big)
    t_repair = time.perf_counter() - t0
    return {
        "streams_200000_findings_s": round(t_streams, 2),
        "streams_200000_warnings": len(found),
        "cut_stream_mb": round(len(big) / 1e6, 1),
        "cut_stream_repair_s": round(t_repair, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-json", action="store_true", help="print the figures only")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in sorted(EXAMPLES.glob("*.flac")):
            speech, sr = sf.read(source, dtype="float64")
            for codec, rate in (("VORBIS", sr), ("OPUS", 48000)):
                audio = speech if rate == sr else resample_poly(speech, rate // sr, 1)
                buf = io.BytesIO()
                sf.write(buf, audio, rate, format="OGG", subtype=codec)
                raw = buf.getvalue()
                whole = sf.read(io.BytesIO(raw), dtype="float32")[0]
                for percent in range(1, 100):
                    cut = raw[: len(raw) * percent // 100]
                    path = Path(tmp) / "cut.ogg"
                    path.write_bytes(cut)
                    row = {
                        "file": source.name,
                        "codec": codec.lower(),
                        "percent": percent,
                        "whole_s": whole.size / rate,
                        "libsndfile_s": _plain_seconds(cut),
                    }
                    try:
                        ev = vtract.load(path, sr=None)
                    except VtractError as exc:
                        row.update(vtract_s=0.0, error=type(exc).__name__, exact=True)
                    else:
                        n = ev.samples.size
                        row.update(
                            vtract_s=n / rate,
                            error=None,
                            exact=bool(np.array_equal(ev.samples, whole[:n])),
                            repaired=any("repaired copy" in w for w in ev.warnings),
                        )
                    rows.append(row)
    figures: dict[str, object] = {"cuts": len(rows)}
    for codec in ("vorbis", "opus"):
        part = [r for r in rows if r["codec"] == codec]
        gain = np.array([r["vtract_s"] - r["libsndfile_s"] for r in part])
        refused_alone = [r for r in part if r["libsndfile_s"] == 0.0]
        figures[codec] = {
            "cuts": len(part),
            "samples_exact_share": float(np.mean([r["exact"] for r in part])),
            "vtract_below_libsndfile": int(np.sum(gain < -1e-9)),
            "repaired_share": float(np.mean([bool(r.get("repaired")) for r in part])),
            "gain_s_median": float(np.median(gain)),
            "gain_s_max": float(gain.max()),
            "libsndfile_nothing": len(refused_alone),
            "libsndfile_nothing_vtract_loads": sum(r["error"] is None for r in refused_alone),
            "vtract_errors": {
                name: sum(r["error"] == name for r in part)
                for name in sorted({str(r["error"]) for r in part if r["error"]})
            },
        }
    figures["hostile"] = _hostile_timings()
    emit_result("ogg_repair", figures, {"percents": "1..99", "files": "bundled examples"},
                write=not args.no_json)  # fmt: skip


if __name__ == "__main__":
    main()
