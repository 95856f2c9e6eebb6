"""``vtract inspect``: decode evidence and print its custody record."""

from __future__ import annotations

import json

import click

from ..errors import VtractError
from ..evidence import load
from ..provenance import path_text
from . import EXIT_INPUT


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--sr",
    default=16000,
    show_default=True,
    type=click.IntRange(4000, 384000),
    help="Rate to decode to (Hz).",
)
@click.option(
    "--channel",
    type=click.IntRange(min=0),
    default=None,
    help="Analyse one channel (zero-based) instead of the mix-down.",
)
def inspect_command(files: tuple[str, ...], sr: int, channel: int | None) -> None:
    """Decode FILES read-only and print one JSON object per file.

    Each object holds the file's SHA-256, the decoded PCM's SHA-256, format,
    original rate, channels, duration and warnings (clipping, DC offset,
    resampling). A file that cannot be decoded gets an ``error`` object and
    the command exits 1 after the others are done.
    """
    status = 0
    for f in files:
        try:
            ev = load(f, sr=sr, channel=channel)
            record: dict[str, object] = {"file": path_text(f), **ev.summary()}
        except VtractError as exc:
            record = {
                "file": path_text(f),
                "error": {"type": type(exc).__name__, "message": str(exc)},
            }
            click.echo(f"vtract: error: {exc}", err=True)
            status = EXIT_INPUT
        click.echo(json.dumps(record, sort_keys=True))
    raise SystemExit(status)
