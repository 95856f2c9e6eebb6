"""The ``--channel`` option shared by the commands that decode evidence (analyze, batch)."""

from __future__ import annotations

import click

__all__ = ["channel_option"]

#: ``--channel N``: analyse one zero-based channel instead of the average of all.
channel_option = click.option(
    "--channel",
    type=click.IntRange(min=0),
    default=None,
    help="Analyse one channel (zero-based) instead of the average of all channels.",
)
