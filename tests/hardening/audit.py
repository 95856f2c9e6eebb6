"""Watch what a ``vtract`` process does to files: audit hooks and strace.

Tests run as root in CI, where ``chmod`` does not stop writes, so read-only
permissions alone prove nothing. Two independent witnesses are used instead:

- :func:`run_audited` runs the CLI in a child interpreter with
  :func:`sys.addaudithook` recording every Python-level ``open`` (with its
  mode and flags) and every rename/remove/truncate/chmod/utime;
- :func:`run_straced` runs it under ``strace -f`` (when installed), which
  also sees C libraries (libsndfile, pocketsphinx, Praat) and worker
  processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Child interpreter: install the hook, run ``vtract ARGS``, dump the events.
_HOOKED_MAIN = r"""
import atexit, json, os, sys
_log_path = os.environ["VTRACT_AUDIT_LOG"]
_events = []
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_MUTATING = {"os.rename", "os.replace", "os.remove", "os.unlink", "os.rmdir", "os.truncate",
             "os.chmod", "os.chown", "os.utime", "os.link", "os.symlink", "shutil.rmtree",
             "shutil.move", "os.mkdir"}

def _hook(event, args):
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int) or path is None:
            return
        _events.append(["open", os.fsdecode(path), str(mode), int(flags or 0)])
    elif event in _MUTATING:
        paths = [os.fsdecode(a) for a in args if isinstance(a, (str, bytes, os.PathLike))]
        _events.append([event, *paths])

def _dump():
    with open(_log_path, "w", encoding="utf-8") as fh:
        json.dump(_events, fh)

atexit.register(_dump)
sys.addaudithook(_hook)
from vtract.cli import main
main(sys.argv[1:])
"""


@dataclass
class Audit:
    """What one watched run did.

    Attributes
    ----------
    proc : subprocess.CompletedProcess
        The finished run.
    writes : list of tuple
        ``(event, path)`` for every open-for-writing or mutating call.
    reads : list of str
        Paths opened read-only.
    """

    proc: subprocess.CompletedProcess[str]
    writes: list[tuple[str, str]]
    reads: list[str]

    def touching(self, folder: Path) -> list[tuple[str, str]]:
        """Mutations of anything inside ``folder`` (resolved)."""
        root = os.path.realpath(folder)
        return [(e, p) for e, p in self.writes if _inside(p, root)]


def _inside(path: str, root: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _is_write(mode: str, flags: int) -> bool:
    if any(ch in mode for ch in "wax+"):
        return True
    return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))


def run_audited(args: list[str], workdir: Path, *, timeout: float = 300) -> Audit:
    """Run ``vtract ARGS`` in a child interpreter under a recording audit hook."""
    log = workdir / "audit.json"
    proc = subprocess.run(
        [sys.executable, "-c", _HOOKED_MAIN, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "VTRACT_AUDIT_LOG": str(log)},
        check=False,
    )
    events = json.loads(log.read_text(encoding="utf-8"))
    writes, reads = [], []
    for ev in events:
        if ev[0] == "open":
            _, path, mode, flags = ev
            if _is_write(mode, flags):
                writes.append(("open", path))
            else:
                reads.append(path)
        else:
            writes += [(ev[0], p) for p in ev[1:]]
    return Audit(proc, writes, reads)


def _strace_works() -> bool:
    """strace is installed and may trace here (containers often forbid ptrace)."""
    if shutil.which("strace") is None:
        return False
    try:
        proc = subprocess.run(
            ["strace", "-f", "-qq", "-o", os.devnull, sys.executable, "-c", "pass"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


HAS_STRACE = _strace_works()

_OPEN_RE = re.compile(r'open(?:at)?\((?:[^,]+, )?"((?:[^"\\]|\\.)*)", ([A-Z_|]+)')
_MUTATE_RE = re.compile(
    r"\b(rename|renameat2?|unlink|unlinkat|truncate|chmod|fchmodat|utimensat|link|linkat)"
    r"\(([^)]*)\)"
)
_STR_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _unescape(s: str) -> str:
    # strace -xx prints every byte of a string as \xHH
    return (
        bytes.fromhex(s.replace("\\x", "")).decode("utf-8", "surrogateescape")
        if s.startswith("\\x")
        else s
    )


def run_straced(args: list[str], workdir: Path, *, timeout: float = 300) -> Audit:
    """Run ``vtract ARGS`` under ``strace -f``: every process, every C library."""
    log = workdir / "strace.log"
    proc = subprocess.run(
        [
            "strace", "-f", "-qq", "-xx", "-o", str(log),
            "-e", "trace=open,openat,creat,rename,renameat,renameat2,unlink,unlinkat,"
            "truncate,chmod,fchmodat,utimensat,link,linkat",
            sys.executable, "-m", "vtract", *args,
        ],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    writes, reads = [], []
    for line in log.read_text(errors="replace").splitlines():
        m = _OPEN_RE.search(line)
        if m:
            path, flags = _unescape(m.group(1)), m.group(2)
            if any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")):
                writes.append(("open", path))
            else:
                reads.append(path)
            continue
        m = _MUTATE_RE.search(line)
        if m:
            writes += [(m.group(1), _unescape(s)) for s in _STR_RE.findall(m.group(2))]
    return Audit(proc, writes, reads)
