"""``vtract calibrate``: set detector thresholds from labelled recordings."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ..errors import VtractError
from ..output_files import prepare_output, refuse_output_over_inputs


def _manifest_features(
    path: Path, reference: Any, seen: dict[str, tuple[str, str]], voice_source: bool = False
) -> tuple[list[Any], list[str], list[str]]:
    """Feature tables of the labelled recordings listed in a CSV manifest.

    ``seen`` maps the real path of every recording already taken (from any
    manifest) to its label and where it was listed: a recording listed again
    is measured once (a note), or refused when its label differs. Alignments
    are checked against their recording as ``analyze`` checks them
    (:func:`vtract.analysis.check_alignment`).

    Returns
    -------
    tables : list of pandas.DataFrame
    problems : list of str
        Recordings skipped, with the reason.
    notes : list of str
        Recordings listed again, and alignment coverage warnings.
    """
    from ..alignment import align, read_alignment
    from ..analysis import check_alignment, reference_features
    from ..batch.manifest import read_manifest
    from ..detect.labelled import LabelConflictError
    from ..evidence import load

    tables, problems, notes = [], [], []
    for item in read_manifest(path):
        if item.problem:
            problems.append(f"{item.path}: {item.problem}")
            continue
        if item.label not in ("organic", "synthetic"):
            problems.append(f"{item.path}: no label (expected organic or synthetic)")
            continue
        real = os.path.realpath(item.path)
        if real in seen:
            label, where = seen[real]
            if label != item.label:
                raise LabelConflictError(
                    f"{str(item.path)!r} is labelled {label!r} in {where} and "
                    f"{item.label!r} in {path}; give each recording one label"
                )
            notes.append(f"left out {str(item.path)!r}: listed again (measured once)")
            continue
        seen[real] = (item.label, str(path))
        try:
            ev = load(item.path)
            if item.textgrid is not None:
                aln = read_alignment(item.textgrid, for_audio=item.path)
            else:
                aln = align(ev, item.transcript)
            # an alignment of another recording (or in other time units) is refused, as analyze does
            notes += [f"{item.path}: {w}" for w in check_alignment(aln, ev.duration)]
            feats, _, _ = reference_features(
                ev,
                aln,
                reference,
                speaker=item.speaker,
                label=item.label,
                voice_source=voice_source,
            )
        except VtractError as exc:
            problems.append(f"{item.path}: {exc}")
            continue
        tables.append(feats.assign(file=str(item.path)))
    return tables, problems, notes


def _input_files(inputs: tuple[str, ...]) -> list[Path]:
    """The feature tables and manifests given, and the audio and alignments the manifests list."""
    from ..batch.manifest import read_manifest

    given = [Path(name) for name in inputs]
    files = list(given)
    for p in given:
        if p.suffix.lower() == ".csv":
            for item in read_manifest(p):
                files += [f for f in (item.path, item.textgrid, item.transcript_path) if f]
    return files


def _input_hashes(inputs: tuple[str, ...]) -> dict[str, str]:
    """SHA-256 of every feature table and manifest given, keyed ``input:<path>``."""
    from ..provenance import file_sha256, path_text

    return {f"input:{path_text(Path(name))}": file_sha256(name) for name in inputs}


def _record_provenance(
    calibration: dict[str, Any],
    *,
    parameters: dict[str, Any],
    inputs: dict[str, str],
    extra: dict[str, Any],
) -> None:
    """Store how and from what each new calibration was made, inside it (as the shipped one).

    The default and dry-voice records get ``metrics["provenance"]`` (time,
    vtract version and commit, dependencies, the command's parameters, the
    hashes of the reference and inputs) and the ``extra`` figures; the paper
    record, which has no metrics, gets ``provenance``.
    """
    from ..provenance import provenance

    block = provenance(parameters=parameters, inputs=inputs)
    for record in calibration.values():
        if isinstance(record.get("metrics"), dict):
            record["metrics"].update(provenance=block, **extra)
        else:
            record["provenance"] = block


@click.command("calibrate")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--reference",
    "reference",
    default=None,
    type=click.Path(dir_okay=False),
    help="Reference to calibrate (default: the one shipped with vtract).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the calibrated reference (.vtref); may be the --reference file, "
    "which is then updated in place (atomically). Never one of INPUTS or the files they list.",
)
@click.option(
    "--fpr",
    "fpr",
    default=0.01,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="False-positive rate the threshold must not exceed on new organic recordings "
    "(split-conformal rule: needs at least 1/FPR - 1 organic speakers, 99 for 0.01, or "
    "recordings with --threshold-by recording).",
)
@click.option(
    "--statistic",
    "statistic",
    default="dynamics",
    show_default=True,
    type=click.Choice(["dynamics", "deviation"]),
    help="Default-detector statistic: tract dynamics (descriptor model; needs at least 4 "
    "organic recordings of at least 2 speakers: each is scored out-of-fold by a model that "
    "never saw its speaker, whatever --threshold-by counts) or the legacy reference "
    "deviation + flags.",
)
@click.option(
    "--threshold-by",
    "threshold_by",
    default="speaker",
    show_default=True,
    type=click.Choice(["recording", "speaker"]),
    help="What the --fpr guarantee counts: new recordings like the calibration ones, or "
    "new speakers (each organic speaker weighs one however many recordings it has; "
    "needs 1/FPR - 1 speakers and the manifest's speaker column).",
)
@click.option(
    "--no-flags",
    is_flag=True,
    help="Leave plausibility flags out of the deviation statistic (--statistic deviation "
    "only); the choice is stored with the calibration and analyze follows it.",
)
@click.option(
    "--with-shimmer",
    is_flag=True,
    help="Also calibrate the dry-voice model (the four descriptors and the voice shimmer, "
    "log_shimmer), which decides recordings that show no room; rooms raise organic "
    "shimmer, so reverberant ones keep the four-descriptor model (docs/DETECTION.md, "
    "session 20). Needs feature tables with shimmer_local.",
)
def calibrate_command(
    inputs: tuple[str, ...],
    reference: str | None,
    out: str,
    fpr: float,
    statistic: str,
    no_flags: bool,
    with_shimmer: bool,
    threshold_by: str,
) -> None:
    """Set detector thresholds from labelled INPUTS and store them with the reference.

    INPUTS are feature tables (.parquet, with ``file`` and ``label`` columns)
    or CSV manifests (path, label, and transcript or textgrid; see ``vtract
    batch``). The default detector's statistic is the tract dynamics of each
    recording: a one-class model of the organic recordings, or, when
    synthetic ones are given, an organic-vs-synthetic model; its threshold is
    set for --fpr on out-of-fold organic statistics, each speaker weighing
    one (--threshold-by; ROC, EER and
    precision/recall are measured when synthetic ones are given). With
    synthetic recordings the published detector's ideal features are fitted
    too. Organic recordings should NOT be ones the
    reference was built from. A recording labelled both organic and
    synthetic is refused, copies of one recording (same SHA-256) count once,
    and tables measured with another estimator or section count than the
    reference, or a reference from other estimator code, are refused. The
    calibration stores its settings, inputs and their hashes. Prints a JSON
    summary.
    """
    from ..detect.calibration import Calibration
    from ..detect.default import DRY_VOICE
    from ..detect.dynamics import DESCRIPTORS, WITH_SHIMMER
    from ..detect.fitting import fit_thresholds, merged_calibrations
    from ..detect.labelled import combine_tables
    from ..features import read_features
    from ..reference import Reference, default_reference, default_reference_path

    if no_flags and statistic != "deviation":
        raise click.UsageError(
            "--no-flags leaves the plausibility flags out of the deviation statistic; give "
            "--statistic deviation with it (the dynamics statistic has no flags)"
        )
    # before any measuring: --out must not replace an input. The --reference file may be
    # updated in place; the shipped reference is kept unless it is the --reference given.
    shipped = default_reference_path()
    if reference is not None and os.path.realpath(reference) == os.path.realpath(shipped):
        refuse_output_over_inputs([out], _input_files(inputs))
    else:
        refuse_output_over_inputs([out], [*_input_files(inputs), shipped])
    prepare_output(out)
    ref = Reference.load(reference) if reference is not None else default_reference()
    tables: list[Any] = []
    problems: list[str] = []
    notes: list[str] = []
    seen: dict[str, tuple[str, str]] = {}
    for name in inputs:
        p = Path(name)
        if p.suffix.lower() == ".csv":
            t, pr, nt = _manifest_features(p, ref, seen, voice_source=with_shimmer)
            tables += t
            problems += pr
            notes += nt
        elif p.suffix.lower() in (".parquet", ".pq"):
            tables.append(read_features(p))
        else:
            raise click.UsageError(f"{name}: expected a .parquet feature table or a .csv manifest")
    for msg in problems:
        click.echo(f"vtract: warning: skipped {msg}", err=True)
    for msg in notes:
        click.echo(f"vtract: note: {msg}", err=True)
    tables = [t for t in tables if len(t)]
    if not tables:
        raise VtractError("no labelled recording could be measured; nothing to calibrate")
    features, given_again = combine_tables(tables)
    for d in given_again:
        click.echo(
            f"vtract: note: left out {d['file']!r} from a later input: {d['reason']}", err=True
        )
    calibration, summary = fit_thresholds(
        ref,
        features,
        target_fpr=fpr,
        use_flags=not no_flags,
        statistic=statistic,
        descriptors=DESCRIPTORS,
        voice_descriptors=WITH_SHIMMER if with_shimmer else None,
        threshold_by=threshold_by,
    )
    for d in summary["duplicates_left_out"]:
        click.echo(f"vtract: note: left out {d['file']!r}: {d['reason']}", err=True)
    for msg in summary["warnings"]:
        click.echo(f"vtract: warning: {msg}", err=True)
    if summary["in_reference"]:
        click.echo(
            f"vtract: warning: {summary['in_reference']} organic recording(s) are inside the "
            "reference; their statistics are optimistically low, so the threshold is too low",
            err=True,
        )
    hashes = summary.pop("file_sha256")
    _record_provenance(
        calibration,
        parameters={
            "command": "vtract calibrate",
            "fpr": fpr,
            "statistic": statistic,
            "use_flags": not no_flags,
            "threshold_by": threshold_by,
            "with_shimmer": with_shimmer,
            "fakes": summary["n_synthetic_files"] > 0,
        },
        inputs={"reference": ref.sha256, **_input_hashes(inputs)},
        extra={
            "calibration_file_sha256": hashes,
            "in_reference": summary["in_reference"],
            "duplicates_left_out": [*given_again, *summary["duplicates_left_out"]],
            "skipped": problems,
        },
    )
    default = Calibration.from_dict(calibration["default"])
    if default.target_fpr_warning is not None:
        click.echo(f"vtract: warning: {default.target_fpr_warning}", err=True)
    merged, dropped_dry_voice = merged_calibrations(ref.calibration, calibration)
    if dropped_dry_voice:
        click.echo(
            f"vtract: note: the reference's {DRY_VOICE} calibration (voice shimmer) was removed; "
            "calibrate with --with-shimmer to make a new one",
            err=True,
        )
    written = ref.with_calibration(merged).save(out)
    summary.update(
        out=str(written),
        skipped=len(problems),
        duplicates_left_out=[*given_again, *summary["duplicates_left_out"]],
    )
    click.echo(json.dumps(summary, sort_keys=True, default=float))
