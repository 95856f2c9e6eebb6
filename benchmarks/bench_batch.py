"""Batch throughput and memory: 1 vs 2 workers, loky vs Dask, on ../shared/data.

Run: ``python benchmarks/bench_batch.py [--per-class 20] [--methods lpc-refined,paper]
[--skip-dask] [--growth-passes 4]``. Writes ``benchmarks/results/batch.json``.

Inputs: organic (LJSpeech clips, ESPnet/LibriTTS ground truth, MFA test
recordings with ``.lab`` transcripts) and synthetic
(ESPnet Tacotron 2 / Transformer / FastSpeech, LibriTTS TTS, Piper) recordings
of ``../shared/data`` with their transcripts, ``--per-class`` of each
(deterministic pick, spread over the sources).

Stages, each with 1 and then 2 worker processes (loky, one Numba thread per
worker, pool warmed up first so process start-up and JIT are not timed):

- ``align``: transcripts force-aligned once (:func:`vtract.align`), written as
  TextGrids: this is also how the estimation stage gets its alignments.
- ``estimate:<method>``: the estimation stage alone: load, read the
  TextGrid, bigram windows, tract estimates, feature table
  (:func:`vtract.features.extract_features`) through
  :func:`vtract.batch.map_files` (``--estimate-passes`` passes over the
  files for the fast default estimator, one for the others).
- ``analyze``: the full per-file analysis through :func:`vtract.analyze_many`
  (streamed Parquet output), alignments from the TextGrids.

Figures: throughput in seconds of audio per second of wall time, the 2/1
worker scaling ratio (target >= 1.7 for the estimation stage on 2 cores),
peak RSS per worker (``ru_maxrss`` reported by the worker) and of the whole
process tree (psutil, sampled every 50 ms), one worker's peak RSS after each
of ``--growth-passes`` passes over the files, for the estimation stage and
for the full analysis (memory must not grow with the number of files), the
main process RSS before/after streaming the results,
and whether the Dask backend (``LocalCluster``, 2 single-threaded worker
processes) gives the same verdicts and scores as loky.

The machine is shared: the load average before and after each stage is
recorded; wall-time figures taken under load understate the scaling. So each
pass also records CPU time (per worker, from the worker's ``process_time``,
and of the coordinating process) and ``projected_wall_s`` = the busiest
worker's CPU time (or the coordinator's, if larger): the wall time on idle
cores if workers do not slow each other down (no shared memory-bandwidth or
cache limit, which this cannot see). ``projected_scaling_ratio_idle_cores``
compares those; ``scaling_ratio`` is the measured one.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vtract
from _harness import write_result
from vtract.batch import AnalyzeTask, BatchInput, discover_inputs, hash_inputs, map_files

DATA = Path(
    os.environ.get("VTRACT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)

PIPER_TEXTS = {
    "joe_0": "She had your dark suit in greasy wash water all year.",
    "joe_1": "Don't ask me to carry an oily rag like that.",
    "joe_2": "Author of the danger trail, Philip Steels, etc.",
}


# --------------------------------------------------------------------------- corpus


def _espnet_lj_texts() -> dict[str, str]:
    out = {}
    for line in (DATA / "mixed/espnet/ljspeech/tacotron2.v1/text/text").read_text().splitlines():
        key, _, text = line.partition(" ")
        out[key] = text.strip()
    return out


def _libritts_texts() -> dict[str, str]:
    lab = DATA / "mixed/espnet/libritts/info/lab"
    return {p.name.split(".")[0]: p.read_text().strip() for p in sorted(lab.glob("*.txt"))}


def corpus(per_class: int) -> list[BatchInput]:
    """Organic and synthetic recordings with transcripts, ``per_class`` of each, interleaved."""
    lj = {}
    for line in (DATA / "organic/ljspeech/transcripts.psv").read_text().splitlines():
        key, _, text = line.partition("|")
        lj[key] = text.strip()
    esp, libri = _espnet_lj_texts(), _libritts_texts()

    organic: list[list[BatchInput]] = [
        [BatchInput(p, transcript=lj[p.stem], label="organic")
         for p in sorted((DATA / "organic/ljspeech").glob("*.flac")) if p.stem in lj],
        [BatchInput(p, transcript=esp[p.stem], label="organic")
         for p in sorted((DATA / "mixed/espnet/ljspeech/ground_truth/wav").glob("*.wav"))],
        [BatchInput(p, transcript=libri[p.stem], label="organic")
         for p in sorted((DATA / "mixed/espnet/libritts/audio/ground_truth").glob("*.wav"))],
        [BatchInput(p, transcript=" ".join(p.with_suffix(".lab").read_text().split()), label="organic")
         for p in sorted((DATA / "organic/mfa").iterdir())
         if p.suffix in (".wav", ".flac", ".mp3") and p.with_suffix(".lab").is_file()],
    ]  # fmt: skip
    synthetic: list[list[BatchInput]] = [
        [BatchInput(p, transcript=esp[p.stem.removesuffix("_gen")], label="synthetic")
         for p in sorted((DATA / "mixed/espnet/ljspeech").glob("*/wav_*/*.wav"))],
        [BatchInput(p, transcript=libri[p.stem], label="synthetic")
         for d in ("tacotron2.v1-GL", "transformer.v1-GL")
         for p in sorted((DATA / "mixed/espnet/libritts/audio" / d).glob("*.wav"))],
        [BatchInput(DATA / f"synthetic/piper/{k}.wav", transcript=t, label="synthetic")
         for k, t in PIPER_TEXTS.items()],
    ]  # fmt: skip
    picked = _round_robin(organic, per_class) + _round_robin(synthetic, per_class)
    return hash_inputs(discover_inputs(picked))


def _round_robin(groups: list[list[BatchInput]], n: int) -> list[BatchInput]:
    out: list[BatchInput] = []
    iters = [iter(g) for g in groups]
    while len(out) < n and iters:
        for it in list(iters):
            item = next(it, None)
            if item is None:
                iters.remove(it)
            elif len(out) < n:
                out.append(item)
    return out


# --------------------------------------------------------------------------- per-file jobs


def align_to_textgrid(item: BatchInput, folder: str) -> dict[str, Any]:
    """Force-align one file to its transcript and write the alignment as a TextGrid."""
    ev = vtract.load(item.path)
    aln = vtract.align(ev, item.transcript)
    target = Path(folder) / f"{item.sha256}.TextGrid"
    aln.to_textgrid(target)
    return {"duration": ev.duration, "textgrid": str(target)}


def estimate_file(item: BatchInput, method: str) -> dict[str, Any]:
    """The estimation stage of one file: windows -> tract estimates -> feature rows."""
    from vtract.features import extract_features

    ev = vtract.load(item.path)
    aln = vtract.read_alignment(item.textgrid)
    df = extract_features(ev, aln, method=method, label=item.label)
    return {
        "duration": ev.duration,
        "rows": len(df),
        "features": df if item.label == "organic" else None,
    }


# --------------------------------------------------------------------------- measuring


class TreeMemory:
    """Peak RSS (MiB) of this process plus all its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self._psutil = psutil
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> float:
        me = self._psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                pass
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main_cpu_s() -> float:
    """CPU seconds used so far by this (the coordinating) process."""
    t = os.times()
    return t.user + t.system


def cpu_figures(worker_cpu: dict[str, float], main_cpu: float, audio: float) -> dict[str, Any]:
    """CPU accounting, independent of other users of the machine.

    ``projected_wall_s`` is the wall time this pass would take on otherwise idle
    cores: the busiest worker's CPU time (workers run in parallel), or the
    coordinating process's CPU time if that is larger.
    """
    busiest = max(worker_cpu.values(), default=0.0)
    total = sum(worker_cpu.values())
    return {
        "worker_cpu_s": {w: round(c, 3) for w, c in sorted(worker_cpu.items())},
        "main_cpu_s": round(main_cpu, 3),
        "audio_s_per_worker_cpu_s": round(audio / total, 3) if total > 0 else None,
        "projected_wall_s": round(max(busiest, main_cpu), 3),
    }


def _scaling(out: dict[str, Any], jobs: list[int], name: str) -> None:
    a, b = (out[f"{n}_workers"] for n in jobs)
    out["scaling_ratio"] = (
        round(b["audio_s_per_s"] / a["audio_s_per_s"], 3) if a["audio_s_per_s"] > 0 else None
    )
    out["projected_scaling_ratio_idle_cores"] = (
        round(a["projected_wall_s"] / b["projected_wall_s"], 3)
        if b["projected_wall_s"] > 0
        else None
    )
    print(f"  {name:<18} scaling {jobs[0]}->{jobs[1]} workers: measured {out['scaling_ratio']}, "
          f"projected on idle cores {out['projected_scaling_ratio_idle_cores']}", flush=True)  # fmt: skip


def fresh_workers() -> None:
    """Stop the loky workers of the previous pass, so each pass's peak RSS is its own."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)  # the one map_files reuses
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def warm(func: Callable[[BatchInput], Any], item: BatchInput) -> Any:
    """Run ``func`` then linger, so that warm-up tasks spread over every worker."""
    out = func(item)
    time.sleep(0.5)
    return out


def warm_analyze(path: Any, **kwargs: Any) -> Any:
    """:func:`vtract.analyze`, then linger (warm-up tasks spread over every worker)."""
    report = vtract.analyze(path, **kwargs)
    time.sleep(0.5)
    return report


def utilisation(worker_cpu: dict[str, float], wall: float, n_jobs: int) -> float | None:
    """Share of the workers' wall time they actually got a CPU (1.0 = idle machine)."""
    return round(sum(worker_cpu.values()) / (wall * n_jobs), 3) if wall > 0 else None


def run_map(
    func: Callable[[BatchInput], Any], items: list[BatchInput], n_jobs: int
) -> dict[str, Any]:
    """Time one map_files pass; collect durations, failures and worker peaks."""
    load0 = os.getloadavg()[0]
    audio = 0.0
    failures: list[str] = []
    workers: dict[str, float] = {}
    cpu: dict[str, float] = {}
    values = []
    main0 = main_cpu_s()
    with TreeMemory() as mem:
        t0 = time.perf_counter()
        for o in map_files(func, items, n_jobs=n_jobs, threads_per_worker=1, progress=False):
            workers[o.worker] = max(workers.get(o.worker, 0.0), o.worker_maxrss_mb)
            cpu[o.worker] = cpu.get(o.worker, 0.0) + o.cpu_s
            if o.ok:
                audio += o.value["duration"]
                values.append(o.value)
            else:
                failures.append(f"{o.item.path.name}: {o.error_type}: {o.error_message}")
        wall = time.perf_counter() - t0
    main = main_cpu_s() - main0
    return {
        **cpu_figures(cpu, main, audio),
        "files": len(items),
        "failed": len(failures),
        "failures": failures[:5],
        "audio_s": round(audio, 3),
        "wall_s": round(wall, 3),
        "worker_cpu_utilisation": utilisation(cpu, wall, n_jobs),
        "audio_s_per_s": round(audio / wall, 3),
        "files_per_s": round(len(items) / wall, 3),
        "worker_peak_rss_mb": {w: round(v, 1) for w, v in sorted(workers.items())},
        "tree_peak_rss_mb": round(mem.peak, 1),
        "loadavg_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "_values": values,
    }


def stage(
    name: str, func: Callable[[BatchInput], Any], items: list[BatchInput], jobs: list[int]
) -> tuple[dict[str, Any], list[Any]]:
    """Warm the pool, then time ``func`` over ``items`` for each worker count."""
    out: dict[str, Any] = {}
    values: list[Any] = []
    for n in jobs:
        fresh_workers()
        warm_func = functools.partial(warm, func)
        list(map_files(warm_func, items[: 2 * n], n_jobs=n, threads_per_worker=1, progress=False))
        res = run_map(func, items, n)
        values = res.pop("_values")
        out[f"{n}_workers"] = res
        print(f"  {name:<18} {n} worker(s): {res['audio_s_per_s']:8.2f} s audio/s "
              f"({res['wall_s']:.1f} s wall, {res['failed']} failed, load {res['loadavg_before_after']})",
              flush=True)  # fmt: skip
    if len(jobs) == 2:
        _scaling(out, jobs, name)
    return out, values


def growth(
    func: Callable[[BatchInput], Any], items: list[BatchInput], passes: int
) -> dict[str, Any]:
    """Worker peak RSS after each pass over the same files, one worker process (fresh)."""
    fresh_workers()
    peaks: list[float] = []
    seen = 0
    for _ in range(passes):
        for o in map_files(func, items, n_jobs=1, threads_per_worker=1, progress=False):
            seen += 1
            last = o.worker_maxrss_mb
        peaks.append(round(last, 1))
    steady = peaks[1] if len(peaks) > 2 else peaks[0]
    later = seen - len(items) * (2 if len(peaks) > 2 else 1)
    return {
        "files_per_pass": len(items),
        "worker_peak_rss_mb_after_each_pass": peaks,
        "growth_mb_from_pass_1_to_last": round(peaks[-1] - peaks[0], 1),
        "growth_mb_per_100_files_after_pass_2": round(
            100 * (peaks[-1] - steady) / max(1, later), 2
        ),
    }


def analyze_stage(
    manifest_items: list[BatchInput], jobs: list[int], reference: Any, work: Path
) -> tuple[dict[str, Any], dict[int, Any]]:
    out: dict[str, Any] = {}
    tables = {}
    for n in jobs:
        fresh_workers()
        vtract.analyze_many(manifest_items[: 2 * n], n_jobs=n, threads_per_worker=1, reference=reference,
                            per_file=warm_analyze, out=work / f"warm{n}.parquet", quiet=True,
                            resume=False)  # fmt: skip
        load0 = os.getloadavg()[0]
        main0 = rss_mb()
        cpu0 = main_cpu_s()
        with TreeMemory() as mem:
            res = vtract.analyze_many(manifest_items, n_jobs=n, threads_per_worker=1, reference=reference,
                                      out=work / f"analyze{n}.parquet", quiet=True, resume=False)  # fmt: skip
        main_cpu = main_cpu_s() - cpu0
        table = res.table()
        tables[n] = table
        worker_cpu = {str(w): float(c) for w, c in table.groupby("worker")["cpu_s"].sum().items()}
        out[f"{n}_workers"] = {
            **cpu_figures(worker_cpu, main_cpu, res.audio_s),
            "files": res.total,
            "done": res.done,
            "failed": res.failed,
            "errors": [f"{Path(p).name}: {t}: {m}" for p, t, m in res.errors[:5]],
            "verdicts": res.verdicts,
            "audio_s": round(res.audio_s, 3),
            "wall_s": round(res.elapsed_s, 3),
            "worker_cpu_utilisation": utilisation(worker_cpu, res.elapsed_s, n),
            "audio_s_per_s": round(res.audio_per_s, 3),
            "files_per_s": round(res.files_per_s, 3),
            "worker_peak_rss_mb": {
                w: round(v, 1) for w, v in table.groupby("worker")["worker_maxrss_mb"].max().items()
            },
            "tree_peak_rss_mb": round(mem.peak, 1),
            "main_rss_mb_before_after": [round(main0, 1), round(rss_mb(), 1)],
            "loadavg_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        }
        r = out[f"{n}_workers"]
        print(f"  {'analyze':<18} {n} worker(s): {r['audio_s_per_s']:8.2f} s audio/s "
              f"({r['wall_s']:.1f} s wall, {r['failed']} failed, verdicts {r['verdicts']})", flush=True)  # fmt: skip
    if len(jobs) == 2:
        _scaling(out, jobs, "analyze")
    return out, tables


def compare_tables(a: Any, b: Any) -> dict[str, Any]:
    """Same rows, verdicts and scores (NaN = NaN)?"""
    same_order = a["input_key"].tolist() == b["input_key"].tolist()
    va, vb = a["verdict"].fillna("").tolist(), b["verdict"].fillna("").tolist()
    sa, sb = a["score"].to_numpy(float), b["score"].to_numpy(float)
    both = ~(np.isnan(sa) | np.isnan(sb))
    return {
        "rows": [len(a), len(b)],
        "same_order": same_order,
        "verdicts_identical": va == vb,
        "scores_identical": bool(np.array_equal(sa, sb, equal_nan=True)),
        "max_abs_score_difference": float(np.max(np.abs(sa[both] - sb[both])))
        if both.any()
        else 0.0,
        "errors_identical": a["error_type"].fillna("").tolist()
        == b["error_type"].fillna("").tolist(),
        "files_with_different_scores": [
            Path(p).name
            for p, x, y in zip(a["path"], sa, sb)
            if not (x == y or (np.isnan(x) and np.isnan(y)))
        ][:10],
    }


def source_fingerprint() -> str:
    """SHA-256 over vtract's Python sources: others edit the shared checkout while we run."""
    import hashlib

    root = Path(vtract.__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--per-class", type=int, default=20, help="files per class (organic, synthetic)"
    )
    ap.add_argument(
        "--methods", default="lpc-refined,paper", help="estimators for the estimation stage"
    )
    ap.add_argument("--jobs", default="1,2", help="worker counts to compare")
    ap.add_argument("--growth-passes", type=int, default=4)
    ap.add_argument(
        "--estimate-passes",
        type=int,
        default=3,
        help="passes over the files in the estimation stage (the fast estimator needs several)",
    )
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--skip-analyze", action="store_true")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"shared speech data not found at {DATA} (set VTRACT_SHARED_DATA)")
    jobs = [int(j) for j in args.jobs.split(",")]
    methods = [m for m in args.methods.split(",") if m]
    items = corpus(args.per_class)
    print(f"{len(items)} files ({sum(i.label == 'organic' for i in items)} organic), "
          f"{os.cpu_count()} cores, load {os.getloadavg()}", flush=True)  # fmt: skip
    figures: dict[str, Any] = {"files": len(items), "cores": os.cpu_count()}
    source_at_start = source_fingerprint()

    with tempfile.TemporaryDirectory(prefix="vtract-bench-batch-") as tmp:
        work = Path(tmp)
        (work / "tg").mkdir()
        align_func = functools.partial(align_to_textgrid, folder=str(work / "tg"))
        figures["align"], aligned = stage("align", align_func, items, jobs)
        by_sha = {Path(v["textgrid"]).stem: v["textgrid"] for v in aligned}
        with_tg = [
            BatchInput(i.path, textgrid=Path(by_sha[i.sha256]), label=i.label, sha256=i.sha256)
            for i in items
            if i.sha256 in by_sha
        ]
        with_tg = hash_inputs(with_tg)
        figures["aligned_files"] = len(with_tg)

        organic_features = None
        for method in methods:
            func = functools.partial(estimate_file, method=method)
            passes = args.estimate_passes if method == "lpc-refined" else 1
            figures[f"estimate:{method}"], values = stage(
                f"estimate:{method}", func, with_tg * passes, jobs
            )
            values = values[: len(with_tg)]
            if method == "lpc-refined":  # the detector's estimator (reference build stage)
                organic_features = [v["features"] for v in values if v["features"] is not None]
            if method == methods[0]:
                figures[f"memory_growth:{method}"] = growth(func, with_tg, args.growth_passes)
                print(f"  memory growth: {figures[f'memory_growth:{method}']}", flush=True)

        if not args.skip_analyze:
            reference: Any = None
            try:
                vtract.default_reference()
                figures["reference"] = "default (shipped)"
            except vtract.VtractError as exc:
                if organic_features is None:
                    sys.exit(
                        f"no default reference ({exc}) and no default-method features to build one"
                    )
                import pandas as pd

                from vtract.reference import Reference

                ref = Reference.fit(
                    pd.concat(organic_features, ignore_index=True), name="bench-organic"
                )
                reference = ref.save(work / "bench.vtref")
                figures["reference"] = (
                    "built from this benchmark's organic files (no default reference installed)"
                )
            figures["analyze"], tables = analyze_stage(with_tg, jobs, reference, work)
            figures["memory_growth:analyze"] = growth(
                AnalyzeTask(reference=reference), with_tg, args.growth_passes
            )
            print(f"  memory growth (analyze): {figures['memory_growth:analyze']}", flush=True)
            if len(jobs) == 2:  # the same backend, another worker count
                figures["loky_1_vs_2_workers"] = compare_tables(tables[jobs[0]], tables[jobs[1]])
                print(f"  loky 1 vs 2 workers: {figures['loky_1_vs_2_workers']}", flush=True)
            if not args.skip_dask:
                t0 = time.perf_counter()
                res = vtract.analyze_many(with_tg, backend="dask", n_jobs=max(jobs), threads_per_worker=1,
                                          reference=reference, out=work / "dask.parquet", quiet=True)  # fmt: skip
                figures["dask_vs_loky"] = compare_tables(tables[max(jobs)], res.table())
                figures["dask_vs_loky"]["dask_wall_s_including_cluster_start"] = round(
                    time.perf_counter() - t0, 2
                )
                print(f"  dask vs loky: {figures['dask_vs_loky']}", flush=True)

    figures["source_changed_during_run"] = source_fingerprint() != source_at_start
    if figures["source_changed_during_run"]:
        print("WARNING: vtract's sources changed during the run: workers started later ran "
              "other code; differences between passes may come from that", flush=True)  # fmt: skip
    figures["note"] = (
        "machine shared with other engineers: see loadavg_before_after per stage; "
        "the lead re-runs on a quiet machine"
    )
    write_result(
        "batch",
        figures,
        {"per_class": args.per_class, "methods": methods, "jobs": jobs,
         "growth_passes": args.growth_passes, "estimate_passes": args.estimate_passes,
         "threads_per_worker": 1, "backend": "loky"},
    )  # fmt: skip


if __name__ == "__main__":
    main()
