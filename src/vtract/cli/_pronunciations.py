"""The ``--pronunciation WORD=PHONES`` option shared by ``vtract align`` and ``vtract analyze``."""

from __future__ import annotations

from collections.abc import Iterable

import click

__all__ = ["parse_pronunciations", "pronunciation_option"]

#: ``--pronunciation WORD=PHONES`` (repeatable), passed as ``pronunciation``.
pronunciation_option = click.option(
    "--pronunciation",
    "pronunciation",
    multiple=True,
    metavar="WORD=PHONES",
    help="Dictionary entry for a word the aligner does not know, in ARPAbet, "
    "e.g. --pronunciation 'deep=D IY P' (repeatable).",
)


def parse_pronunciations(items: Iterable[str]) -> dict[str, str] | None:
    """``WORD=PHONES`` strings -> ``{word: phones}`` (``None`` when there are none).

    Raises
    ------
    click.UsageError
        An item is not of the form ``WORD=PHONES``.
    """
    prons: dict[str, str] = {}
    for item in items:
        word, sep, phones = item.partition("=")
        if not sep or not word.strip() or not phones.strip():
            raise click.UsageError(
                f"--pronunciation {item!r}: expected WORD=PHONES, e.g. 'deep=D IY P'"
            )
        prons[word.strip()] = phones.strip()
    return prons or None
