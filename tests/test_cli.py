"""The command-line frame: version, help, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf
from click.testing import CliRunner

import vtract
from vtract.cli import COMMANDS, cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtract", *args], capture_output=True, text=True, check=False
    )


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert vtract.__version__ in proc.stdout


def test_help_lists_available_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "inspect" in result.output
    assert "Exit codes" in result.output
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert name in COMMANDS


def test_usage_error_exit_code_2():
    assert run("no-such-command").returncode == 2
    assert run("inspect").returncode == 2  # missing FILES


def test_inspect_json_and_exit_codes(tmp_path):
    good = tmp_path / "ok tone é.wav"  # space and non-ASCII in the path
    t = np.arange(16000) / 16000
    sf.write(good, 0.3 * np.sin(2 * np.pi * 200 * t), 16000)
    proc = run("inspect", str(good))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["sha256"] == vtract.load(good).sha256
    assert record["duration"] == 1.0

    missing = run("inspect", str(tmp_path / "missing.wav"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("vtract: error: no such file")
    assert "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert json.loads(missing.stdout)["error"]["type"] == "InputFileError"
