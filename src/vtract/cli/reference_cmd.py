"""``vtract reference``: build an organic reference from recordings, or describe one."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ReferenceError_
from ..output_files import OutputFileError, prepare_output, refuse_output_over_inputs
from ._methods import METHODS, renamed_method

if TYPE_CHECKING:
    from ..batch.inputs import LeftOut

#: Transcript files :mod:`vtract.corpus` reads beside ``x.wav`` (``{}`` is the stem).
_SIDECARS = ("{}.lab", "{}.txt", "{}.normalized.txt", "transcripts.psv")


def _input_files(inputs: Iterable[str], recordings: Sequence[Any]) -> list[Path]:
    """Every file a reference build reads: manifests and audio given, and per recording its
    audio, alignments and the transcript files beside it (:func:`vtract.corpus.find_recordings`).
    """
    files = [Path(i) for i in inputs if Path(i).is_file()]
    for rec in recordings:
        files += [rec.audio, *rec.alignments]
        if rec.transcript_file is not None:
            files.append(rec.transcript_file)
        folder, stem = rec.audio.parent, rec.audio.stem
        files += [p for name in _SIDECARS if (p := folder / name.format(stem)).is_file()]
    return files


@click.group("reference")
def reference_group() -> None:
    """Build and inspect organic references (per-bigram vocal-tract statistics)."""


@reference_group.command("build")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Reference file to write (.vtref).",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="lpc-refined",
    show_default=True,
    help="Tract estimator (lpc-refined: the one the default detector is built on; "
    "formant: old name of default).",
    callback=renamed_method,
)
@click.option("--name", default=None, help="Reference name (default: the output file's stem).")
@click.option(
    "--speaker-from",
    type=click.Choice(["none", "parent", "prefix"]),
    default="none",
    show_default=True,
    help="Speaker of folder inputs: unknown, parent folder name, or file-name prefix before -/_.",
)
@click.option(
    "--recognise/--no-recognise",
    "--recognize/--no-recognize",
    "recognise",
    default=False,
    show_default=True,
    help="Recognise speech (then align) for recordings with neither alignment nor transcript.",
)
@click.option(
    "--sections",
    type=click.IntRange(2, 64),
    default=15,
    show_default=True,
    help="Sections per tract in the table.",
)
@click.option("--cross-word", is_flag=True, help="Also use phone pairs across word boundaries.")
@click.option(
    "--min-count",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="Windows a back-off level needs.",
)
@click.option(
    "--jobs", type=click.IntRange(1), default=1, show_default=True, help="Parallel processes."
)
@click.option(
    "--features-out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the feature table (Parquet).",
)
def build_command(
    inputs: tuple[str, ...],
    out: str,
    method: str,
    name: str | None,
    speaker_from: str,
    recognise: bool,
    sections: int,
    cross_word: bool,
    min_count: int,
    jobs: int,
    features_out: str | None,
) -> None:
    """Build a reference from organic recordings in INPUTS.

    INPUTS are folders (searched recursively), manifests (.csv/.tsv/.psv with
    a 'path' column and optional 'transcript', 'alignment', 'speaker',
    'label': the columns of a batch or calibrate manifest, case-insensitive,
    with their synonyms 'file'/'audio' and 'textgrid'; a transcript ending in
    .txt/.lab is a file holding the words) or audio files. Rows labelled
    synthetic are left out with a note. Phones come from an alignment beside
    the audio (TextGrid, HTS .lab, TIMIT .PHN), else from a transcript
    (.lab/.txt beside the audio or transcripts.psv) by forced alignment,
    else, with --recognise, from speech recognition. An alignment that runs
    past its recording's end is refused as analyze refuses it. Folders are
    searched as 'vtract batch' searches them: links to folders are not
    followed, and a broken link, a FIFO named like audio, a link to a folder
    or a folder that cannot be listed is named on stderr ('left out') and
    under 'left_out' in the summary. Prints a JSON summary; recordings that
    could not be used are listed with the reason.
    """
    from ..corpus import (
        corpus_features,
        drop_duplicate_recordings,
        extraction_settings,
        find_recordings,
        organic_recordings,
    )
    from ..features import write_features
    from ..provenance import path_text
    from ..reference import (
        Reference,
        SmallReferenceWarning,
        estimator_fingerprint,
        few_speakers_warning,
    )

    manifest_notes: list[str] = []
    searched_out: list[LeftOut] = []
    recordings = find_recordings(
        inputs,
        speaker_from=speaker_from,  # type: ignore[arg-type]
        recognise=recognise,
        notes=manifest_notes,
        left_out=searched_out,
    )
    # what a searched folder holds but the build does not use, as 'vtract batch' says it
    left_out = [{"path": path_text(e.path), "reason": e.reason} for e in searched_out]
    for entry in left_out:
        click.echo(
            f"vtract: note: left out {entry['path']!a}: {entry['reason']}, not used", err=True
        )
    for note in manifest_notes:
        click.echo(f"vtract: note: {note}", err=True)
    if not recordings:
        said = f"; {len(left_out)} entr{'y' if len(left_out) == 1 else 'ies'} left out (above)"
        raise ReferenceError_(f"no audio found in {', '.join(inputs)}" + (said if left_out else ""))
    # a labelled (calibrate) manifest: its fakes must not become organic statistics
    recordings, labelled_synthetic = organic_recordings(recordings)
    for d in labelled_synthetic:
        click.echo(f"vtract: note: left out {d['file']!a}: {d['reason']}", err=True)
    if not recordings:
        raise ReferenceError_("every recording given is labelled synthetic; a reference is organic")
    # one recording counted twice would inflate windows and speakers
    recordings, duplicates = drop_duplicate_recordings(recordings)
    for d in duplicates:
        click.echo(f"vtract: note: left out {d['file']!a}: {d['reason']}", err=True)
    # before any measuring: neither output may replace an input, nor the other output
    refuse_output_over_inputs([out, features_out], _input_files(inputs, recordings))
    if features_out is not None and os.path.realpath(features_out) == os.path.realpath(out):
        raise OutputFileError(f"--out and --features-out are the same file: {out!r}")
    for path in (out, features_out):
        if path is not None:
            prepare_output(path)
    table, records = corpus_features(
        recordings, method=method, sections=sections, cross_word=cross_word, jobs=jobs
    )
    used = [r for r in records if not r["skipped"] and r["n_windows"] > 0]
    if table.empty:
        reasons = sorted({r["skipped"] or "no usable bigram windows" for r in records})
        raise ReferenceError_(
            f"none of the {len(records)} recordings gave features ({'; '.join(reasons)})"
        )
    if features_out:
        write_features(table, features_out)
    with warnings.catch_warnings():  # said below, on stderr and in the summary
        warnings.simplefilter("ignore", SmallReferenceWarning)
        ref = Reference.fit(
            table,
            name=name or Path(out).stem,
            corpus_info={
                "inputs": [str(Path(i)) for i in inputs],
                "speaker_from": speaker_from,
                "recognition_allowed": recognise,
                "recordings": records,
                "duplicates_left_out": duplicates,
                "labelled_synthetic_left_out": labelled_synthetic,
                "manifest_notes": manifest_notes,
                "left_out": left_out,
            },
            estimator={"method": method, "code_sha256": estimator_fingerprint()},
            settings={"extract_features": extraction_settings(method, sections, cross_word)},
            min_count=min_count,
        )
    ref.save(out)
    summary = {
        "out": path_text(out),
        "sha256": ref.sha256,
        "method": method,
        "recordings": len(records),
        "used": len(used),
        "skipped": [{"file": r["file"], "reason": r["skipped"]} for r in records if r["skipped"]],
        "duplicates_left_out": duplicates,
        "labelled_synthetic_left_out": labelled_synthetic,
        "left_out": left_out,
        "n_windows": ref.meta["n_windows"],
        "n_bigrams": ref.meta["n_bigrams"],
        "n_speakers": ref.meta["n_speakers"],
    }
    few = few_speakers_warning(ref)
    if few is not None:
        summary["warnings"] = [few]
        click.echo(f"vtract: warning: {few}", err=True)
    click.echo(json.dumps(summary, sort_keys=True))


@reference_group.command("info")
@click.argument("ref", type=click.Path(dir_okay=False), required=False)
@click.option(
    "--files", "show_files", is_flag=True, help="Also list the input files with their hashes."
)
def info_command(ref: str | None, show_files: bool) -> None:
    """Describe the reference REF (JSON): name, estimator, corpus, counts, hash.

    Without REF, the reference shipped with vtract (the one analyze and
    batch use by default), with its path.
    """
    from ..provenance import path_text
    from ..reference import Reference, default_reference_path

    path = Path(ref) if ref is not None else default_reference_path()
    r = Reference.load(path)
    info = {**r.info(), "path": path_text(path), "shipped_default": ref is None}
    if show_files:
        info["files"] = r.meta.get("files", [])
    click.echo(json.dumps(info, sort_keys=True, indent=1))
