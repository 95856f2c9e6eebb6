"""Evidence safety: inputs are only read, outputs are atomic and stay where asked.

Read-only permissions are set, but tests run as root in CI where they block
nothing, so the child process is also watched with an audit hook (every
Python ``open`` and rename/remove) and, where installed, with ``strace -f``
(C libraries and worker processes too).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from hardening.audit import HAS_STRACE, run_audited, run_straced
from hardening.cli_runner import has_subcommand
from hardening.corpus import require

needs_analyze = pytest.mark.skipif(not has_subcommand("analyze"), reason="no `vtract analyze` yet")
needs_batch = pytest.mark.skipif(not has_subcommand("batch"), reason="no `vtract batch` yet")

#: Cases copied into the read-only evidence folder: speech + alignment, noise, a refused file.
EVIDENCE_CASES = ("textgrid_valid", "clipped_square", "zero_byte", "nan_inf_float")


def _fingerprint(folder: Path) -> dict[str, tuple[str, int, int]]:
    """sha256, mtime_ns and mode of every entry under ``folder``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(folder))] = (digest, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


@pytest.fixture
def sealed(corpus, tmp_path):
    """A read-only evidence folder holding read-only copies of a few corpus cases."""
    folder = tmp_path / "sealed evidence ü"
    folder.mkdir()
    files: dict[str, Path] = {}
    for name in EVIDENCE_CASES:
        case = require(corpus, name)
        dst = folder / case.audio.name
        dst.write_bytes(case.audio.read_bytes())
        files[name] = dst
        if case.textgrid is not None:
            tg = folder / case.textgrid.name
            tg.write_bytes(case.textgrid.read_bytes())
            files[name + ":textgrid"] = tg
    for p in folder.iterdir():
        p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    before = _fingerprint(folder)
    yield folder, files
    folder.chmod(stat.S_IRWXU)
    after = _fingerprint(folder)
    for p in folder.iterdir():
        p.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert after == before, "the evidence folder changed"


def _analyze_args(files: dict[str, Path]) -> list[str]:
    audio = [files[n] for n in EVIDENCE_CASES]
    # the speech file goes with its TextGrid; the others get the same alignment
    grid = str(files["textgrid_valid:textgrid"])
    args = ["analyze"]
    for _ in audio:
        args += ["--textgrid", grid]
    return args + [str(p) for p in audio]


@needs_analyze
def test_analyze_never_writes_to_evidence_audit_hook(sealed, tmp_path):
    folder, files = sealed
    out = tmp_path / "out"
    out.mkdir()
    audit = run_audited([*_analyze_args(files), "--json", str(out / "r.jsonl")], tmp_path)
    assert "Traceback" not in audit.proc.stderr, audit.proc.stderr
    assert audit.touching(folder) == []
    # the hook saw the evidence being read (it is a working witness)
    assert any(
        os.path.realpath(p) == os.path.realpath(files["textgrid_valid"]) for p in audit.reads
    )
    assert (out / "r.jsonl").is_file()


@needs_batch
def test_batch_never_writes_to_evidence_audit_hook(sealed, tmp_path):
    folder, _ = sealed
    out = tmp_path / "out" / "results.csv"
    reports = tmp_path / "reports"
    audit = run_audited(
        ["batch", str(folder), "--out", str(out), "--reports", str(reports),
         "--backend", "serial", "--sidecars", "-q"],
        tmp_path,
    )  # fmt: skip
    assert "Traceback" not in audit.proc.stderr, audit.proc.stderr
    assert audit.touching(folder) == []
    assert out.is_file()


@pytest.mark.skipif(not HAS_STRACE, reason="strace not installed or not permitted (ptrace)")
@needs_analyze
def test_no_process_opens_evidence_for_writing_strace(sealed, tmp_path):
    folder, files = sealed
    audit = run_straced([*_analyze_args(files), "--json", str(tmp_path / "r.jsonl")], tmp_path)
    assert "Traceback" not in audit.proc.stderr, audit.proc.stderr
    assert audit.touching(folder) == []
    assert any(
        os.path.realpath(p) == os.path.realpath(files["textgrid_valid"]) for p in audit.reads
    )


@pytest.mark.skipif(not HAS_STRACE, reason="strace not installed or not permitted (ptrace)")
@needs_batch
def test_batch_workers_never_open_evidence_for_writing_strace(sealed, tmp_path):
    folder, _ = sealed
    audit = run_straced(
        ["batch", str(folder), "--out", str(tmp_path / "r.parquet"), "--jobs", "2",
         "--backend", "loky", "--sidecars", "-q"],
        tmp_path,
    )  # fmt: skip
    assert "Traceback" not in audit.proc.stderr, audit.proc.stderr
    assert audit.touching(folder) == []


# ------------------------------------------------------- outputs over inputs


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """``vtract ARGS`` in-process (fast); an escaped exception shows as a traceback."""
    from click.testing import CliRunner

    from vtract.cli import cli

    result = CliRunner().invoke(cli, list(args))
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (escaped exception)\n" + "".join(
            traceback.format_exception(*result.exc_info)  # type: ignore[misc]
        )
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, stderr)


def _writable_copy(corpus, tmp_path: Path, name: str = "textgrid_valid") -> tuple[Path, Path]:
    case = require(corpus, name)
    folder = tmp_path / "ev"
    folder.mkdir()
    audio = folder / case.audio.name
    audio.write_bytes(case.audio.read_bytes())
    grid = folder / case.textgrid.name
    grid.write_bytes(case.textgrid.read_bytes())
    return audio, grid


def _assert_refused_and_intact(proc, paths: dict[Path, bytes]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (1, 2), f"writing over an input was not refused: {proc.stderr}"
    assert proc.stderr.strip(), "a refusal needs a reason"
    for p, data in paths.items():
        assert p.read_bytes() == data, f"{p.name} was modified"


def _spelling_of(audio: Path, target: str, link: Path) -> Path:
    """``audio`` itself, another spelling of its path, or ``link`` made a symlink to it."""
    if target == "audio_symlink":
        link.symlink_to(audio)
        return link
    if target == "audio_other_spelling":
        return audio.parent / ".." / audio.parent.name / audio.name
    return audio


@needs_analyze
@pytest.mark.parametrize("target", ["audio", "textgrid", "audio_other_spelling", "audio_symlink"])
@pytest.mark.parametrize("option", ["--json", "--html"])
def test_output_over_an_input_is_refused(corpus, tmp_path, option, target):
    audio, grid = _writable_copy(corpus, tmp_path)
    before = {audio: audio.read_bytes(), grid: grid.read_bytes()}
    out = grid if target == "textgrid" else _spelling_of(audio, target, tmp_path / "link.json")
    proc = _run("analyze", str(audio), "--textgrid", str(grid), option, str(out))
    _assert_refused_and_intact(proc, before)


@needs_analyze
@pytest.mark.parametrize("target", ["audio", "audio_other_spelling", "audio_symlink"])
def test_align_out_over_the_evidence_is_refused(corpus, tmp_path, target):
    """vtract align --out wrote its TextGrid over the evidence (session 25 probe)."""
    audio, _grid = _writable_copy(corpus, tmp_path)
    before = {audio: audio.read_bytes()}
    out = _spelling_of(audio, target, tmp_path / "link.TextGrid")
    proc = _run("align", str(audio), "--recognize", "allphone", "--out", str(out))
    _assert_refused_and_intact(proc, before)
    assert "refusing to overwrite evidence" in proc.stderr


@needs_batch
@pytest.mark.parametrize("option", ["--out", "--per-bigram"])
def test_batch_table_over_an_input_is_refused(corpus, tmp_path, option):
    audio, grid = _writable_copy(corpus, tmp_path)
    manifest = tmp_path / "ev" / "manifest.csv"
    manifest.write_text(f"path,textgrid\n{audio.name},{grid.name}\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (audio, grid, manifest)}
    for victim in (manifest, audio):
        args = ["batch", str(manifest), "--backend", "serial", "-q"]
        if option == "--out":
            args += ["--out", str(victim)]
        else:
            args += ["--out", str(tmp_path / "r.csv"), "--per-bigram", str(victim)]
        _assert_refused_and_intact(_run(*args), before)


# ------------------------------------------------------- unwritable outputs


def _corpus_folder(corpus, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """An organic folder as ``reference build`` finds it: audio, its TextGrid and transcripts."""
    audio, grid = _writable_copy(corpus, tmp_path)
    folder = audio.parent
    grid = grid.rename(folder / f"{audio.stem}.TextGrid")
    txt = folder / f"{audio.stem}.txt"
    txt.write_text("author of the danger trail\n", encoding="utf-8")
    psv = folder / "transcripts.psv"
    psv.write_text(f"{audio.stem}|author of the danger trail\n", encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"path,alignment\n{audio},{grid}\n", encoding="utf-8")
    return folder, {"audio": audio, "textgrid": grid, "txt": txt, "psv": psv, "manifest": manifest}


@pytest.mark.parametrize(
    "target",
    ["audio", "textgrid", "txt", "psv", "manifest", "audio_other_spelling", "audio_symlink"],
)
@pytest.mark.parametrize("option", ["--out", "--features-out"])
def test_reference_build_output_over_an_input_is_refused(corpus, tmp_path, option, target):
    """reference build wrote its .vtref / Parquet over the evidence (session 25 probe)."""
    folder, files = _corpus_folder(corpus, tmp_path)
    before = {p: p.read_bytes() for p in files.values()}
    audio = files["audio"]
    victim = {
        **files,
        "audio_other_spelling": folder / ".." / folder.name / audio.name,
        "audio_symlink": tmp_path / "link.vtref",
    }[target]
    if target == "audio_symlink":
        victim.symlink_to(audio)
    source = str(files["manifest"] if target == "manifest" else folder)
    args = ["reference", "build", source, "--out", str(tmp_path / "r.vtref")]
    if option == "--out":
        args[-1] = str(victim)
    else:
        args += ["--features-out", str(victim)]
    proc = _run(*args)
    _assert_refused_and_intact(proc, before)
    assert "refusing to overwrite evidence" in proc.stderr
    assert not (tmp_path / "r.vtref").exists(), "refused before building"


def test_reference_build_refuses_one_file_for_both_outputs(corpus, tmp_path):
    folder, _ = _corpus_folder(corpus, tmp_path)
    out = tmp_path / "r.vtref"
    proc = _run("reference", "build", str(folder), "--out", str(out), "--features-out",
                str(tmp_path / "." / "r.vtref"))  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "same file" in proc.stderr and not out.exists()


@pytest.mark.parametrize(
    "target",
    ["audio", "textgrid", "manifest", "table", "audio_other_spelling", "audio_symlink", "shipped"],
)
def test_calibrate_out_over_an_input_is_refused(corpus, tmp_path, monkeypatch, target):
    """calibrate --out wrote the .vtref over a recording its manifest listed (session 25 probe);
    without --reference, the shipped reference is an input too."""
    import shutil

    import vtract.reference as reference

    shipped = tmp_path / "shipped.vtref"
    shutil.copyfile(reference.default_reference_path(), shipped)
    monkeypatch.setattr(reference, "default_reference_path", lambda: shipped)
    audio, grid = _writable_copy(corpus, tmp_path)
    manifest = tmp_path / "ev" / "labelled.csv"
    manifest.write_text(f"path,label,textgrid\n{audio.name},organic,{grid.name}\n", "utf-8")
    table = tmp_path / "ev" / "features.parquet"
    table.write_bytes(b"PAR1 not really")
    victim = {
        "audio": audio,
        "textgrid": grid,
        "manifest": manifest,
        "table": table,
        "audio_other_spelling": audio.parent / ".." / audio.parent.name / audio.name,
        "audio_symlink": tmp_path / "link.vtref",
        "shipped": shipped,
    }[target]
    if target == "audio_symlink":
        victim.symlink_to(audio)
    before = {p: p.read_bytes() for p in (audio, grid, manifest, table, shipped)}
    inputs = [str(table)] if target == "table" else [str(manifest)]
    proc = _run("calibrate", *inputs, "--out", str(victim), "--threshold-by", "recording")
    _assert_refused_and_intact(proc, before)
    assert "refusing to overwrite evidence" in proc.stderr


def test_calibrate_may_update_its_reference_in_place(corpus, tmp_path):
    """--out equal to --reference is the documented in-place update: not refused as an input."""
    import shutil

    from vtract.reference import default_reference_path

    ref = tmp_path / "mine.vtref"
    shutil.copyfile(default_reference_path(), ref)
    manifest = tmp_path / "labelled.csv"
    manifest.write_text("path,label\nmissing.wav,organic\n", "utf-8")
    proc = _run("calibrate", str(manifest), "--reference", str(ref), "--out", str(ref))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "refusing" not in proc.stderr and "nothing to calibrate" in proc.stderr


def test_demo_does_not_write_a_report_over_its_reference(tmp_path):
    import shutil

    from vtract.reference import default_reference_path

    out = tmp_path / "demo"
    out.mkdir()
    ref = out / "summary.json"  # a reference under the name of a demo output
    shutil.copyfile(default_reference_path(), ref)
    before = {ref: ref.read_bytes()}
    proc = _run("demo", "--out", str(out), "--reference", str(ref))
    _assert_refused_and_intact(proc, before)
    assert "refusing to overwrite evidence" in proc.stderr


@needs_analyze
@pytest.mark.parametrize(
    "command", ["analyze --json", "analyze --html", "batch --out", "demo --out"]
)
def test_an_output_under_a_file_is_a_one_line_error(corpus, tmp_path, command):
    """A file where the output's folder should be: exit 1, one line naming it, no traceback,
    and (analyze) refused before any analysis, so the JSON holds no half-done record."""
    audio, grid = _writable_copy(corpus, tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    name, option = command.split()
    target = str(blocker / ("out" if name == "demo" else "r.csv"))
    args = {
        "analyze": ["analyze", str(audio), "--textgrid", str(grid), option, target],
        "batch": ["batch", str(audio), "--backend", "serial", "-q", "--out", target],
        "demo": ["demo", "--out", target],
    }[name]
    proc = _run(*args)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vtract: error: ")
    assert "blocker" in lines[0] and "is a file where a folder is needed" in lines[0]
    assert proc.stdout == ""  # nothing was analysed or reported
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_os_error_reason_names_the_path_and_the_cause():
    import errno

    from vtract.output_files import OutputFileError, os_error_reason, prepare_output

    exists = FileExistsError(errno.EEXIST, "File exists", "/x/blocker")
    assert os_error_reason(exists) == "'/x/blocker' is a file where a folder is needed"
    denied = PermissionError(errno.EACCES, "Permission denied", "/x/r.json")
    assert os_error_reason(denied) == "/x/r.json: Permission denied"
    assert os_error_reason(OSError("disk on fire")) == "disk on fire"
    with pytest.raises(OutputFileError, match="it is a folder"):
        prepare_output(Path(__file__).parent)


# ------------------------------------------------------- atomic outputs

#: Child interpreter: analysis fails with an unexpected crash on the 2nd file.
_CRASH_ON_SECOND = r"""
import sys
import vtract.analysis as analysis
_real, _calls = analysis.analyze, []
def crashing(*a, **k):
    _calls.append(1)
    if len(_calls) == 2:
        raise KeyboardInterrupt("simulated interruption")
    return _real(*a, **k)
analysis.analyze = crashing
try:
    import vtract.batch.analyze_many as am
    am.analyze = crashing
except Exception:
    pass
from vtract.cli import main
main(sys.argv[1:])
"""


@needs_analyze
@pytest.mark.parametrize("option", ["--json", "--html"])
def test_interrupted_analyze_leaves_previous_output_intact(corpus, tmp_path, option):
    audio, grid = _writable_copy(corpus, tmp_path)
    second = audio.with_name("second.wav")
    second.write_bytes(audio.read_bytes())
    out = tmp_path / "out.txt"
    if option == "--html":
        out = tmp_path / "html"
        out.mkdir()
        old = out / f"{audio.stem}.html"
    else:
        old = out
    old.write_text("PREVIOUS RESULT\n")
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_ON_SECOND, "analyze", str(audio), str(second),
         "--textgrid", str(grid), "--textgrid", str(grid), option, str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    text = old.read_text()
    if text != "PREVIOUS RESULT\n":  # replaced: then it must be complete
        if option == "--json":
            records = [json.loads(line) for line in text.splitlines()]
            assert len(records) == 2, "a partial JSON output replaced the previous one"
        else:
            assert text.rstrip().endswith("</html>")
    leftovers = [p.name for p in old.parent.iterdir() if p.name.startswith(".") or "tmp" in p.name]
    assert leftovers == [], f"temporary files left behind: {leftovers}"


@needs_batch
def test_interrupted_batch_leaves_previous_table_intact(corpus, tmp_path):
    audio, grid = _writable_copy(corpus, tmp_path)
    second = audio.with_name("second.wav")
    second.write_bytes(audio.read_bytes() + b"\0\0")  # another hash
    manifest = tmp_path / "ev" / "manifest.csv"
    manifest.write_text(
        f"path,textgrid\n{audio.name},{grid.name}\n{second.name},{grid.name}\n", encoding="utf-8"
    )
    out = tmp_path / "results.csv"
    out.write_text("PREVIOUS TABLE\n")
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_ON_SECOND, "batch", str(manifest), "--out", str(out),
         "--backend", "serial", "--no-resume", "-q"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert out.read_text() == "PREVIOUS TABLE\n", "an interrupted run replaced the table"


# ------------------------------------------------------- output folder confinement

#: Evidence names an adversary may choose (each a valid file name on Linux).
HOSTILE_NAMES = [
    "...wav",
    "..wav",
    " .wav",
    "-rf --json x.wav",
    "..%2F..%2Fescape.wav",
    "a\\..\\..\\b.wav",
    "\u202etxt.wav",  # right-to-left override
    "line\nbreak.wav",
    "x" * 240 + ".wav",
]


@needs_batch
def test_batch_reports_stay_inside_the_reports_folder(corpus, tmp_path):
    src = require(corpus, "clipped_square").audio.read_bytes()
    inputs = tmp_path / "in"
    inputs.mkdir()
    for k, name in enumerate(HOSTILE_NAMES):
        (inputs / name).write_bytes(src + bytes([k]) * 2)
    # a manifest row reaching outside its folder (allowed for reading)
    outside = tmp_path / "outside.wav"
    outside.write_bytes(src)
    manifest = inputs / "m.csv"
    with open(manifest, "w", encoding="utf-8", newline="") as fh:
        import csv

        w = csv.writer(fh)
        w.writerow(["path"])
        for name in HOSTILE_NAMES:
            w.writerow([name])
        w.writerow(["../outside.wav"])
    reports = tmp_path / "reports"
    before_tree = {p for p in tmp_path.rglob("*")}
    proc = _run("batch", str(manifest), "--out", str(tmp_path / "r.csv"), "--reports",
                str(reports), "--backend", "serial", "-q")  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    created = {p for p in tmp_path.rglob("*")} - before_tree
    for p in created:
        assert p == tmp_path / "r.csv" or reports in p.parents or p == reports, (
            f"batch wrote outside the output folders: {p}"
        )


@needs_analyze
def test_html_folder_keeps_reports_of_files_with_the_same_name_apart(corpus, tmp_path):
    audio, grid = _writable_copy(corpus, tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    twin = other / audio.name
    twin.write_bytes(audio.read_bytes() + b"\0\0")
    out = tmp_path / "html"
    proc = _run("analyze", str(audio), str(twin), "--textgrid", str(grid), "--textgrid",
                str(grid), "--html", str(out))  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    pages = [r["html"] for r in records if "html" in r]
    # both records name their page (the test was vacuous while no record named one)
    assert len(pages) == 2 and len(set(pages)) == 2, f"two reports written to one file: {pages}"
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(p).name for p in pages)


@needs_batch
def test_batch_does_not_follow_a_planted_symlink_in_the_reports_folder(corpus, tmp_path):
    from vtract.batch.inputs import input_key
    from vtract.batch.reports import analysis_id, report_path

    audio = require(corpus, "clipped_square").audio
    reports = tmp_path / "reports"
    reports.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("DO NOT TOUCH\n")
    sha = hashlib.sha256(audio.read_bytes()).hexdigest()
    report_path(reports, audio, sha, analysis_id(input_key(sha, None, None), audio)).symlink_to(
        victim
    )
    proc = _run("batch", str(audio), "--out", str(tmp_path / "r.csv"), "--reports",
                str(reports), "--backend", "serial", "-q")  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    assert victim.read_text() == "DO NOT TOUCH\n"


# ------------------------------------------ links, FIFOs and devices as outputs


def test_an_output_through_a_symlink_updates_its_target_and_keeps_the_link(tmp_path):
    """The link was replaced by a regular file and its target kept the old text (probe 2)."""
    from vtract.output_files import atomic_text_file

    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "target.json"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(Path("real") / "target.json")
    with atomic_text_file(link) as fh:
        fh.write("new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "target.json")
    assert target.read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["link.json", "real", "target.json"]
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "made" / "later.json")
    with atomic_text_file(dangling) as fh:
        fh.write("created")
    assert dangling.is_symlink()
    assert (tmp_path / "made" / "later.json").read_text(encoding="utf-8") == "created"


def test_an_output_that_is_a_fifo_is_written_to_and_stays_a_fifo(tmp_path):
    """A FIFO output was replaced by a regular file; its reader got nothing (probe 2)."""
    import threading

    from vtract.output_files import atomic_text_file

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "to_fifo.json"  # as /dev/stdout -> /proc/self/fd/1 -> pipe
    link.symlink_to(fifo)
    for path in (fifo, link):
        got: list[str] = []
        reader = threading.Thread(target=lambda got=got: got.append(fifo.read_text("utf-8")))
        reader.start()
        try:
            with atomic_text_file(path) as fh:
                fh.write('{"verdict": "organic"}\n')
        finally:
            if reader.is_alive():  # unblock the reader if the writer never opened the FIFO
                with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "w"):
                    pass
            reader.join(10)
        assert got == ['{"verdict": "organic"}\n']
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fifo", "to_fifo.json"]


@pytest.mark.parametrize("kind", ["character", "block", "socket"])
def test_a_device_output_is_written_directly_never_replaced(tmp_path, monkeypatch, kind):
    """`--json /dev/full` replaced the device node with a regular file as root (probe 2).

    A regular file stands in for the device; ``os.stat`` says what it is. A
    character device is written in place (same inode, no temporary file); a
    block device or a socket is refused.
    """
    from vtract import output_files
    from vtract.output_files import OutputFileError, atomic_path

    stand_in = tmp_path / "device"
    stand_in.write_text("device", encoding="utf-8")
    inode = stand_in.stat().st_ino
    fmt = {"character": stat.S_IFCHR, "block": stat.S_IFBLK, "socket": stat.S_IFSOCK}[kind]
    real_stat = os.stat

    def fake_stat(path, *args, **kwargs):
        st = real_stat(path, *args, **kwargs)
        if os.fspath(path) == os.fspath(stand_in):
            return os.stat_result((fmt | 0o666, *tuple(st)[1:]))
        return st

    monkeypatch.setattr(output_files.os, "stat", fake_stat)
    if kind != "character":
        with pytest.raises(OutputFileError, match=f"it is a {kind}"), atomic_path(stand_in):
            pass
    else:
        with atomic_path(stand_in) as where:
            assert where == stand_in
            assert sorted(p.name for p in tmp_path.iterdir()) == ["device"]
            with open(where, "w", encoding="utf-8") as fh:
                fh.write("written")
        monkeypatch.undo()
        assert stand_in.read_text(encoding="utf-8") == "written"
        assert stand_in.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["device"]


def test_a_planted_link_under_a_made_up_name_is_replaced_not_followed(tmp_path):
    from vtract.output_files import atomic_path

    victim = tmp_path / "victim.json"
    victim.write_text("DO NOT TOUCH", encoding="utf-8")
    name = tmp_path / "report-0123.json"
    name.symlink_to(victim)
    with atomic_path(name, follow_symlinks=False) as tmp:
        tmp.write_text("report", encoding="utf-8")
    assert not name.is_symlink() and name.read_text(encoding="utf-8") == "report"
    assert victim.read_text(encoding="utf-8") == "DO NOT TOUCH"


def test_a_hard_link_to_an_input_is_refused_as_an_output(tmp_path):
    from vtract.output_files import OutputOverInputError, refuse_output_over_inputs

    evidence = tmp_path / "evidence.wav"
    evidence.write_bytes(b"RIFF")
    other = tmp_path / "other name.json"
    os.link(evidence, other)
    with pytest.raises(OutputOverInputError, match="refusing to overwrite evidence"):
        refuse_output_over_inputs([other], [evidence])
    refuse_output_over_inputs([tmp_path / "new.json"], [evidence])
