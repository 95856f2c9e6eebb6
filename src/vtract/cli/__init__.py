"""The ``vtract`` command line.

Each subcommand lives in its own module of this package and is imported only
when it is run, so ``vtract --help`` stays fast. Exit codes (DESIGN.md):
0 = ran, whatever the verdict; 1 = the input could not be analysed (one-line
reason on stderr); 2 = usage error; 130 = interrupted (Ctrl-C). A :class:`~vtract.errors.VtractError`
or an :class:`OSError` (an output that cannot be written) never reaches the
user as a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from .._version import __version__
from ..errors import VtractError

__all__ = ["EXIT_INPUT", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "cli", "main"]

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
#: Ctrl-C (SIGINT): 128 + 2, as shells report a command killed by it.
EXIT_INTERRUPTED = 130

#: subcommand name -> (module in vtract.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "inspect": (
        "inspect_cmd",
        "inspect_command",
        "Decode evidence files and print hashes and metadata.",
    ),
    "align": (
        "align_cmd",
        "align_command",
        "Align evidence to phones (transcript or recognition).",
    ),
    "estimate": (
        "estimate_cmd",
        "estimate_command",
        "Estimate vocal-tract shapes for windows of a file.",
    ),
    "analyze": (
        "analyze_cmd",
        "analyze_command",
        "Analyse evidence files and print a verdict per file.",
    ),
    "batch": ("batch_cmd", "batch_command", "Analyse many files in parallel into a results table."),
    "reference": ("reference_cmd", "reference_group", "Build and inspect organic references."),
    "calibrate": (
        "calibrate_cmd",
        "calibrate_command",
        "Set detector thresholds from labelled data.",
    ),
    "demo": ("demo_cmd", "demo_command", "Run the whole pipeline on bundled example audio."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (mod, _, _) in COMMANDS.items() if _module_exists(mod)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        mod, attr, _ = COMMANDS[cmd_name]
        if not _module_exists(mod):
            return None
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VtractError as exc:
            fail(exc)
        except OSError as exc:
            # the file system refused something (disk full, permissions, a file
            # where a folder should be): a one-line reason, never a traceback
            from ..output_files import os_error_reason

            fail(os_error_reason(exc))
        except KeyboardInterrupt:
            # Ctrl-C: the shell's convention (128 + SIGINT), not the exit code of an
            # input that could not be analysed; outputs were left as they were
            click.echo("vtract: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


def _module_exists(mod: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{mod}") is not None


def fail(exc: BaseException | str) -> None:
    """Print a one-line reason to stderr and exit with :data:`EXIT_INPUT`."""
    message = str(exc).replace("\n", " ").strip() or type(exc).__name__
    click.echo(f"vtract: error: {message}", err=True)
    sys.exit(EXIT_INPUT)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="vtract")
def cli() -> None:
    """vtract: detect audio deepfakes by reconstructing the speaker's vocal tract.

    Exit codes: 0 ran (whatever the verdict), 1 input could not be analysed,
    2 usage error.
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="vtract")
