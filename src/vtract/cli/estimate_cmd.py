"""``vtract estimate``: vocal-tract estimate of one stretch of a file."""

from __future__ import annotations

import json
import math

import click

from ..errors import EstimationError
from ..json_values import finite_or_null
from ._channel import channel_option
from ._methods import METHODS, renamed_method


@click.command("estimate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--start", required=True, type=float, help="Window start (s).")
@click.option("--end", required=True, type=float, help="Window end (s).")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="default",
    show_default=True,
    help="Estimator (default: the most accurate shapes; lpc-refined: the detector's; "
    "formant: old name of default).",
    callback=renamed_method,
)
@click.option(
    "--solver",
    type=click.Choice(["fast", "published"]),
    default=None,
    help="Solver of --method paper (default fast).",
)
@click.option(
    "--sections",
    "n_sections",
    type=click.IntRange(2, 64),
    default=None,
    help="Number of tube sections (default: from length and rate).",
)
@click.option(
    "--length",
    "length_cm",
    type=click.FloatRange(5.0, 30.0),
    default=None,
    help="Known tract length (cm); default: estimated from formants.",
)
@channel_option
@click.option("--json", "as_json", is_flag=True, help="Print the estimate as one JSON object.")
def estimate_command(
    file: str,
    start: float,
    end: float,
    method: str,
    solver: str | None,
    n_sections: int | None,
    length_cm: float | None,
    channel: int | None,
    as_json: bool,
) -> None:
    """Estimate the vocal-tract areas of FILE between --start and --end seconds.

    The file is analysed at its own sample rate when it is 8-48 kHz (each
    method resamples as documented in ``vtract.tract.estimate``); a file above
    48 kHz is resampled to 48 kHz first, and one below 8 kHz is refused. The
    estimate is checked against human anatomy
    (``vtract.plausibility.check_plausibility``: areas, their ratio, length,
    straw-like shape) and the findings are printed with it, after what loading
    the evidence noted (clipping, channels averaged, resampling, container
    findings).
    """
    from dataclasses import asdict

    from ..evidence import load
    from ..plausibility import check_plausibility
    from ..provenance import path_text
    from ..tract import estimate_tract
    from ..tract.preprocess import MAX_RATE, MIN_RATE

    if not (math.isfinite(end) and end > start >= 0.0):
        raise EstimationError(
            f"--start {start} / --end {end}: expected finite times with 0 <= start < end"
        )
    ev = load(file, sr=None, channel=channel)
    if ev.sr > MAX_RATE:
        ev = load(file, sr=MAX_RATE, channel=channel)
    elif ev.sr < MIN_RATE:
        raise EstimationError(
            f"{path_text(file)} is sampled at {ev.sr} Hz; the estimators need {MIN_RATE} Hz or more"
        )
    i0, i1 = round(start * ev.sr), round(end * ev.sr)
    if i1 > ev.samples.size:
        raise EstimationError(f"--end {end} s is past the end of {file} ({ev.duration:.3f} s)")
    est = estimate_tract(
        ev.samples[i0:i1],
        ev.sr,
        method=method,
        n_sections=n_sections,
        length_cm=length_cm,
        solver=solver,
    )
    flags = check_plausibility(est)
    if as_json:
        record = {
            "file": path_text(file),
            "sha256": ev.sha256,
            "start": start,
            "end": end,
            "evidence_warnings": list(ev.warnings),
            **est.to_dict(),
            "flags": [asdict(f) for f in flags],
        }
        click.echo(json.dumps(finite_or_null(record), allow_nan=False))
        return
    click.echo(f"{path_text(file)} [{start:.3f}-{end:.3f} s] method={est.method}")
    for warning in ev.warnings:
        click.echo(f"evidence: {warning}")
    click.echo(
        f"length {est.length_cm:.2f} cm, {est.n_sections} sections of "
        f"{est.section_length_cm:.3f} cm"
    )
    click.echo("areas (cm^2, glottis -> lips): " + " ".join(f"{a:.2f}" for a in est.areas))
    click.echo(
        "formants (Hz): "
        + " ".join(f"{f:.0f}/{b:.0f}" for f, b in zip(est.formants_hz, est.bandwidths_hz))
        + " (freq/bw)"
    )
    if est.fit_error_db == est.fit_error_db:
        click.echo(f"fit error {est.fit_error_db:.2f} dB")
    click.echo("anatomical findings: " + ("none" if not flags else str(len(flags))))
    for f in flags:
        click.echo(f"  {f.severity} {f.code}: {f.message}")
