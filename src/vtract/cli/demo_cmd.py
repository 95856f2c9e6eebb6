"""``vtract demo``: run the whole pipeline on the bundled example audio."""

from __future__ import annotations

import click


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="vtract-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write the reports into.",
)
@click.option(
    "--reference",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Organic reference file (default: the one shipped with vtract).",
)
@click.option(
    "--detector",
    type=click.Choice(["default", "paper"]),
    default="default",
    show_default=True,
    help="Detector to use.",
)
@click.option("--pdf", is_flag=True, help="Also write report.pdf for the main example.")
def demo_command(out_dir: str, reference: str | None, detector: str, pdf: bool) -> None:
    """Analyse the bundled example recordings and write HTML + JSON reports.

    The examples are synthetic speech made by vtract's own script (Piper neural
    TTS, espeak-ng, VocalTractLab articulatory synthesis); none is a human
    recording. Open the printed report.html in a browser.
    """
    from pathlib import Path

    from ..demo import example_recordings, run_demo, score_meaning
    from ..output_files import refuse_output_over_inputs

    if reference is not None:  # the bundled examples never share a name with an output
        out = Path(out_dir)
        names = ["report", "index", "summary", *(r.name for r in example_recordings())]
        outputs = [out / f"{n}.{ext}" for n in names for ext in ("html", "json")]
        refuse_output_over_inputs([*outputs, out / "report.pdf"], [reference])
    result = run_demo(out_dir, reference=reference, detector=detector, pdf=pdf)
    hits = 0
    missed: list[str] = []
    for name, report in result.reports.items():
        label = result.labels.get(name, "?")
        # every non-human example (TTS or simulated tract) should be called synthetic
        expected = "organic" if label == "organic" else "synthetic"
        score = "–" if report.score is None else f"{report.score:.2f}"
        above = report.thresholds.get("score_synthetic_above")
        cut = "" if above is None or report.score is None else f" (synthetic above {above:.2f})"
        if report.verdict == "inconclusive":
            outcome = "inconclusive"
        elif report.verdict == expected:
            outcome = "correct"
        else:
            outcome = "MISSED" if expected == "synthetic" else "FALSE ALARM"
            if expected == "synthetic":
                missed.append(name)
        hits += report.verdict == expected
        click.echo(
            f"{name:18s} truth {label:12s} verdict {report.verdict:12s} score {score:>5s}{cut}  "
            f"{report.n_bigrams:3d} bigrams  {outcome}"
        )
    click.echo(score_meaning(detector))
    if missed:
        limits = (
            f"It missed {', '.join(missed)}: the detector misses clean synthetic speech like "
            "these examples; its measured limits are in the README, 'Measured figures'."
        )
    else:
        limits = (
            "A few examples do not measure a detector: its measured limits (AUC, "
            "false-positive rate) are in the README, 'Measured figures'."
        )
    click.echo(f"{hits} of {len(result.reports)} verdicts are right. {limits}")
    click.echo(f"report: {result.main_html.resolve()}")
    click.echo(f"json:   {result.main_json.resolve()}")
    if result.main_pdf is not None:
        click.echo(f"pdf:    {result.main_pdf.resolve()}")
    click.echo(f"all:    {result.index_html.resolve()}")
