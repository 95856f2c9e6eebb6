"""Run many ``vtract`` invocations in one guarded child process.

The child runs each invocation in-process with :class:`click.testing.CliRunner`
(one interpreter start-up for all of them) and appends one JSON line per
finished invocation to a results file. The parent enforces a time limit: an
invocation that hangs is reported as such and the child is restarted for the
rest. Unexpected exceptions are caught with their traceback, so one broken
case cannot hide the others.

Run as ``python -m hardening.cli_runner JOBS.json RESULTS.jsonl`` (``tests/``
on ``sys.path``); use :func:`run_invocations` from tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]


@dataclass
class Outcome:
    """What one ``vtract`` invocation did.

    Attributes
    ----------
    args : list of str
        Command-line arguments after ``vtract``.
    exit_code : int or None
        Exit status, ``None`` when it hung.
    stdout, stderr : str
        Captured output.
    exception : str or None
        Traceback of an exception that escaped the command (a bug), if any.
    seconds : float
        Wall time.
    hung : bool
        True when the time limit was hit.
    """

    args: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    exception: str | None
    seconds: float
    hung: bool = False

    def records(self) -> list[dict]:
        """JSON objects printed on stdout, one per line (non-JSON lines skipped)."""
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out


def has_subcommand(name: str) -> bool:
    """True when ``vtract --help`` lists the subcommand ``name``."""
    from click.testing import CliRunner

    from vtract.cli import cli

    result = CliRunner().invoke(cli, ["--help"])
    commands = result.output.split("Commands:", 1)[-1] if "Commands:" in result.output else ""
    return any(line.split()[:1] == [name] for line in commands.splitlines())


def _child(jobs_path: str, results_path: str) -> None:
    from click.testing import CliRunner

    from vtract.cli import cli

    jobs = json.loads(Path(jobs_path).read_text())
    with open(results_path, "a", encoding="utf-8") as out:
        for index, args in jobs:
            t0 = time.perf_counter()
            runner = CliRunner()
            result = runner.invoke(cli, args, catch_exceptions=True)
            exc = None
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                exc = "".join(traceback.format_exception(*result.exc_info))  # type: ignore[misc]
            record = {
                "index": index,
                "args": args,
                "exit_code": result.exit_code,
                "stdout": result.stdout,
                "stderr": result.stderr,
                "exception": exc,
                "seconds": time.perf_counter() - t0,
            }
            out.write(json.dumps(record) + "\n")
            out.flush()


def run_invocations(
    invocations: list[list[str]],
    workdir: Path,
    *,
    timeout_each: float | list[float] = 120.0,
    env: dict[str, str] | None = None,
) -> list[Outcome]:
    """Run ``vtract ARGS`` for each list of arguments, guarded by a time limit.

    Parameters
    ----------
    invocations : list of list of str
        Arguments after ``vtract`` for each invocation.
    workdir : pathlib.Path
        Folder for the job and result files.
    timeout_each : float or list of float
        Seconds an invocation may run (start-up gets 20 s more) before it
        counts as hung and the child is killed; one value per invocation or
        one for all.
    env : dict, optional
        Extra environment variables for the child.

    Returns
    -------
    list of Outcome
        One per invocation, in order.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    done: dict[int, Outcome] = {}
    pending = list(range(len(invocations)))
    child_env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    limits = (
        list(timeout_each)
        if isinstance(timeout_each, list)
        else [float(timeout_each)] * len(invocations)
    )
    attempt = 0
    while pending:
        attempt += 1
        jobs = workdir / f"jobs{attempt}.json"
        results = workdir / f"results{attempt}.jsonl"
        jobs.write_text(json.dumps([[i, invocations[i]] for i in pending]))
        errfile = workdir / f"stderr{attempt}.txt"
        t0 = last = time.monotonic()
        seen = 0
        with open(errfile, "w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hardening.cli_runner", str(jobs), str(results)],
                env=child_env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            hung = False
            while proc.poll() is None:
                time.sleep(0.2)
                n = _count_lines(results)
                if n != seen:
                    seen, last = n, time.monotonic()
                elif time.monotonic() - last > limits[pending[min(seen, len(pending) - 1)]] + (
                    20 if seen == 0 else 0
                ):
                    proc.kill()
                    proc.wait()
                    hung = True
        child_err = errfile.read_text(errors="replace")
        elapsed = time.monotonic() - t0
        finished = []
        if results.exists():
            for line in results.read_text(encoding="utf-8").splitlines():
                rec = json.loads(line)
                finished.append(rec["index"])
                done[rec["index"]] = Outcome(
                    args=rec["args"],
                    exit_code=rec["exit_code"],
                    stdout=rec["stdout"],
                    stderr=rec["stderr"],
                    exception=rec["exception"],
                    seconds=rec["seconds"],
                )
        pending = [i for i in pending if i not in finished]
        if pending:
            # The first unfinished invocation hung or killed the interpreter.
            culprit = pending.pop(0)
            done[culprit] = Outcome(
                args=invocations[culprit],
                exit_code=None,
                stdout="",
                stderr=child_err[-4000:],
                exception=None if hung else f"interpreter died (exit {proc.returncode})",
                seconds=elapsed,
                hung=hung,
            )
    return [done[i] for i in range(len(invocations))]


def _count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
