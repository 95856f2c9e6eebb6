"""The estimator ``--method`` choices and callback shared by the commands that take one."""

from __future__ import annotations

from typing import Any

import click

#: Estimators a command may name; ``formant`` is the old name of ``default``.
METHODS = ("lpc-refined", "default", "paper", "lpc", "formant")


def renamed_method(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Replace a deprecated estimator name (``formant``) by today's, with a note on stderr."""
    from ..tract.estimate import DEPRECATED_METHODS

    if value in DEPRECATED_METHODS:
        click.echo(f"note: --method {value} is now called {DEPRECATED_METHODS[value]}", err=True)
        return DEPRECATED_METHODS[value]
    return value


#: ``--method`` of the commands that analyse against a reference (analyze, batch).
analysis_method_option = click.option(
    "--method",
    type=click.Choice(METHODS),
    default=None,
    callback=renamed_method,
    help="Tract estimator (default: the one the reference was built with; another one needs "
    "a reference built with it).",
)
