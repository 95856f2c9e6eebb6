"""``vtract align``: align one evidence file and write a TextGrid."""

from __future__ import annotations

import json

import click

from ..output_files import atomic_path, prepare_output, refuse_output_over_inputs
from ..provenance import path_text
from ._pronunciations import parse_pronunciations, pronunciation_option


@click.command("align")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--transcript", "transcript", default=None, help="What is said in FILE.")
@click.option(
    "--recognize",
    "--recognise",
    "recognize",
    is_flag=False,
    flag_value="words",
    default=None,
    type=click.Choice(["words", "allphone"]),
    help="No transcript: recognise words (default) or phones (allphone, faster).",
)
@pronunciation_option
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="TextGrid to write (words and phones tiers).",
)
def align_command(
    file: str,
    transcript: str | None,
    recognize: str | None,
    pronunciation: tuple[str, ...],
    out: str,
) -> None:
    """Align FILE to words and phones and write a TextGrid.

    Give either --transcript TEXT (forced alignment) or --recognize
    [words|allphone] (no transcript; the result is marked low-confidence).
    Prints one JSON object: file, sha256, out, source, low_confidence,
    counts, words, beams and the aligner model's file hashes.
    """
    from ..alignment import align
    from ..evidence import load

    if (transcript is None) == (recognize is None):
        raise click.UsageError(
            "give exactly one of --transcript TEXT or --recognize [words|allphone]"
        )
    prons = parse_pronunciations(pronunciation)
    # --out over the evidence (same path, another spelling, a symlink to it) is refused
    # before any work, and the TextGrid replaces --out only once it is whole
    refuse_output_over_inputs([out], [file])
    prepare_output(out)
    ev = load(file)
    alignment = align(ev, transcript, pronunciations=prons, recognize=recognize or "words")
    with atomic_path(out) as tmp:
        alignment.to_textgrid(tmp, xmax=ev.duration)
    record = {
        "file": path_text(file),
        "sha256": ev.sha256,
        "out": path_text(out),
        **alignment.summary(),
    }
    click.echo(json.dumps(record, sort_keys=True, ensure_ascii=False))
