"""Batch input discovery, CSV manifests and safe report paths."""

from __future__ import annotations

import csv
import hashlib
import os
import re

import pytest

from _batch_fakes import write_tone
from vtract.batch import BatchInput, discover_inputs, hash_inputs, read_manifest
from vtract.batch.errors import OutputError
from vtract.batch.reports import report_path
from vtract.errors import InputFileError, VtractError


@pytest.fixture
def tree(tmp_path):
    """a/x.wav, a/sub dir/ü y.flac, a/notes.txt, b/z.WAV."""
    (tmp_path / "a" / "sub dir").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    write_tone(tmp_path / "a" / "x.wav", 0.1)
    write_tone(tmp_path / "a" / "sub dir" / "ü y.flac", 0.1)
    (tmp_path / "a" / "notes.txt").write_text("not audio")
    write_tone(tmp_path / "b" / "z.WAV", 0.1)
    return tmp_path


def test_folder_is_searched_recursively_for_audio_only(tree):
    items = discover_inputs(tree / "a")
    assert [i.path for i in items] == [tree / "a" / "sub dir" / "ü y.flac", tree / "a" / "x.wav"]
    assert all(i.path.is_absolute() for i in items)


def test_phone_and_video_recordings_are_picked_up(tmp_path):
    for name in ("memo.M4A", "call.webm", "clip.mp4", "voicemail.amr", "x.opus", "notes.md"):
        (tmp_path / name).write_bytes(b"")  # discovery goes by name; loading checks content
    found = [i.path.name for i in discover_inputs(tmp_path)]
    assert found == ["call.webm", "clip.mp4", "memo.M4A", "voicemail.amr", "x.opus"]


def test_arguments_keep_their_order_and_duplicates_are_dropped(tree):
    items = discover_inputs([tree / "b", str(tree / "a" / "x.wav"), tree / "a"])
    assert [i.path.name for i in items] == ["z.WAV", "x.wav", "ü y.flac"]


def test_glob_is_recursive_and_filtered(tree):
    items = discover_inputs(str(tree / "**" / "*"))
    assert sorted(i.path.name for i in items) == ["x.wav", "z.WAV", "ü y.flac"]
    with pytest.raises(InputFileError, match="matches no audio"):
        discover_inputs(str(tree / "*.mp3"))


def test_missing_path_and_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        discover_inputs(tmp_path / "nope.wav")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="holds no audio"):
        discover_inputs(tmp_path / "empty")
    with pytest.raises(InputFileError, match="expected a path"):
        discover_inputs([3.5])


def test_sidecars_prefer_textgrid_and_read_lab(tree):
    (tree / "a" / "x.lab").write_text("\ufeffhello   world\n", encoding="utf-8")
    (tree / "a" / "x.TextGrid").write_text("stub")
    items = {i.path.name: i for i in discover_inputs(tree / "a", sidecars=True)}
    assert items["x.wav"].transcript == "hello world"
    assert items["x.wav"].textgrid == tree / "a" / "x.TextGrid"
    assert items["ü y.flac"].transcript is None and items["ü y.flac"].textgrid is None
    plain = discover_inputs(tree / "a")
    assert all(i.transcript is None for i in plain)


def test_hash_inputs_matches_hashlib(tree):
    items = hash_inputs(discover_inputs(tree))
    for item in items:
        assert item.sha256 == hashlib.sha256(item.path.read_bytes()).hexdigest()


def _write_manifest(path, rows, header=("path", "transcript", "textgrid", "speaker", "label")):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_manifest_paths_resolve_against_its_folder_not_cwd(tree, tmp_path, monkeypatch):
    (tree / "a" / "words é.txt").write_text("the quick fox\n", encoding="utf-8")
    (tree / "a" / "x.TextGrid").write_text("stub")
    manifest = tree / "a" / "my list.csv"
    _write_manifest(
        manifest,
        [
            ["x.wav", "", "x.TextGrid", "spk1", "Organic"],
            ["sub dir/ü y.flac", "words é.txt", "", "", ""],
            ["../b/z.WAV", "she had your dark suit", "", "spk 2", "synthetic"],
        ],
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    items = discover_inputs(os.path.relpath(manifest, elsewhere))
    assert [i.path for i in items] == [
        tree / "a" / "x.wav",
        tree / "a" / "sub dir" / "ü y.flac",
        tree / "b" / "z.WAV",
    ]
    assert items[0].textgrid == tree / "a" / "x.TextGrid"
    assert items[0].speaker == "spk1" and items[0].label == "organic"
    assert items[1].transcript == "the quick fox"
    assert items[1].transcript_path == tree / "a" / "words é.txt"
    assert items[2].transcript == "she had your dark suit" and items[2].transcript_path is None
    assert items[2].label == "synthetic" and items[2].speaker == "spk 2"


def test_manifest_accepts_file_synonym_and_extra_columns(tree):
    manifest = tree / "m.csv"
    _write_manifest(manifest, [["a/x.wav", "note"]], header=("File", "comment"))
    (item,) = read_manifest(manifest)
    assert item == BatchInput(path=tree / "a" / "x.wav", source=str(manifest))


@pytest.mark.parametrize(
    ("rows", "header", "match"),
    [
        ([["a/x.wav"]], ("audio_path",), "no 'path' column"),
        ([], ("path",), "lists no files"),
    ],
)
def test_a_file_that_is_not_a_manifest_is_refused(tree, rows, header, match):
    manifest = tree / "m.csv"
    _write_manifest(manifest, rows, header=header)
    with pytest.raises(InputFileError, match=match):
        read_manifest(manifest)


@pytest.mark.parametrize(
    ("row", "header", "match"),
    [
        (["a/missing.wav"], ("path",), "no such audio file"),
        (["a/x.wav", "fake"], ("path", "label"), "label 'fake'"),
        (["a/x.wav", "nope.txt"], ("path", "transcript"), "no such transcript"),
        (["a/x.wav", "x.TextGrid"], ("path", "textgrid"), "no such alignment"),
        (["  "], ("path",), "empty path"),
    ],
)
def test_a_bad_manifest_row_becomes_a_problem_item(tree, row, header, match):
    manifest = tree / "m.csv"
    _write_manifest(manifest, [["a/x.wav"], row], header=header)
    good, bad = read_manifest(manifest)
    assert good.problem is None and good.path == tree / "a" / "x.wav"
    assert bad.problem is not None and "line 3" in bad.problem
    assert re.search(match, bad.problem)


def test_manifest_paths_may_start_or_end_with_spaces(tree):
    write_tone(tree / "a" / " padded .wav", 0.1)
    manifest = tree / "m.csv"
    _write_manifest(manifest, [["a/ padded .wav"], [" a/x.wav "]], header=("path",))
    items = read_manifest(manifest)
    assert [i.path.name for i in items] == [" padded .wav", "x.wav"]
    assert all(i.problem is None for i in items)


def test_same_audio_with_two_alignments_is_two_inputs(tree):
    (tree / "a" / "one.TextGrid").write_text("one")
    (tree / "a" / "two.TextGrid").write_text("two")
    manifest = tree / "m.csv"
    _write_manifest(
        manifest,
        [
            ["a/x.wav", "a/one.TextGrid"],
            ["a/x.wav", "a/two.TextGrid"],
            ["a/x.wav", "a/one.TextGrid"],
        ],
        header=("path", "textgrid"),
    )
    items = hash_inputs(discover_inputs(manifest))
    assert [i.textgrid.name for i in items] == ["one.TextGrid", "two.TextGrid"]
    assert items[0].sha256 == items[1].sha256
    assert items[0].alignment_sha256 == hashlib.sha256(b"one").hexdigest()
    assert items[0].key != items[1].key and len(items[0].key) == 32


def test_manifest_not_utf8_is_an_input_error(tree):
    manifest = tree / "m.csv"
    manifest.write_bytes(b"path\n\xff\xfe.wav\n")
    with pytest.raises(VtractError, match="not UTF-8"):
        read_manifest(manifest)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.wav",
        "/abs/../../x.wav",
        "..",
        "a/../../b.wav",
        "con\x00trol.wav",
        "dir\\..\\..\\x.wav",
        "ü name with spaces.flac",
        "." * 300,
    ],
)
def test_report_path_never_leaves_its_folder(tmp_path, name):
    folder = tmp_path / "reports"
    sha = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    target = report_path(folder, name, sha)
    assert target.parent == folder
    assert target.name.endswith(f"-{sha[:16]}.json")
    assert ".." not in target.name
    assert not set("/\\\x00 ") & set(target.name)


def test_report_path_rejects_a_symlink_escape_and_bad_hash(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    sha = "a" * 64
    outside = tmp_path / "outside.json"
    (folder / f"x-{sha[:16]}.json").symlink_to(outside)
    with pytest.raises(OutputError, match="outside"):
        report_path(folder, "x.wav", sha)
    with pytest.raises(OutputError, match="hex digest"):
        report_path(folder, "x.wav", "../../x")


def test_entries_named_like_audio_that_are_not_files_are_left_out_with_a_reason(tree):
    """Session 27: a broken link, a folder called ``*.wav``, a FIFO, a link to a folder
    and an unlistable folder inside a searched folder were skipped without a word. A folder
    called ``*.wav`` inside a searched folder is searched, so it is not left out (session-27
    review B6: it was listed as left out although its files were analysed)."""
    a = tree / "a"
    (a / "gone.wav").symlink_to(tree / "nowhere.wav")
    (a / "folder.wav").mkdir()
    write_tone(a / "folder.wav" / "inside.wav", 0.1)
    os.mkfifo(a / "pipe.wav")
    (a / "linked").symlink_to(tree / "b", target_is_directory=True)
    left: list = []
    items = discover_inputs(a, left_out=left)
    assert [i.path.name for i in items] == ["inside.wav", "ü y.flac", "x.wav"]
    assert [(e.path, e.reason) for e in left] == [
        (a / "gone.wav", "a broken symbolic link"),
        (a / "linked", "a link to a folder (not followed)"),
        (a / "pipe.wav", "not a regular file (a FIFO, socket or device)"),
    ]
    assert {e.source for e in left} == {str(a)}
    # a glob says the same of what it matches
    left = []
    items = discover_inputs(str(a / "*.wav"), left_out=left)
    assert [i.path.name for i in items] == ["x.wav"]
    assert [e.path.name for e in left] == ["folder.wav", "gone.wav", "pipe.wav"]
    assert left[0].reason == "a folder named like audio"
    # a folder holding nothing else names what it left out in its refusal
    (tree / "only").mkdir()
    (tree / "only" / "gone.wav").symlink_to(tree / "nowhere.wav")
    with pytest.raises(InputFileError, match=r"holds no audio.*left out: .*gone\.wav.*broken"):
        discover_inputs(tree / "only")


def test_a_folder_that_cannot_be_listed_is_left_out_with_a_reason(tree, monkeypatch):
    locked = tree / "a" / "locked"
    locked.mkdir()
    write_tone(locked / "hidden.wav", 0.1)
    real_scandir = os.scandir

    def scandir(path="."):  # what a folder without read permission does (even for root)
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    left: list = []
    items = discover_inputs(tree / "a", left_out=left)
    assert "hidden.wav" not in [i.path.name for i in items]
    assert [(e.path, e.reason) for e in left] == [
        (locked, "a folder that cannot be listed (Permission denied)")
    ]


def test_a_glob_does_not_follow_links_to_folders_and_names_what_it_left_out(tree):
    """Session-27 review B6: ``ev/**`` went through ``glob.glob(recursive=True)``, which
    follows links to folders, so it analysed a linked folder outside the tree while the
    help and LIMITS said links to folders are not followed; a folder named like audio that
    ``**`` searched was also listed as left out. Now a glob enters no link to a folder below
    its fixed part and names each one; a folder it searches is not left out."""
    ev, other = tree / "ev", tree / "other"
    (ev / "x.wav").mkdir(parents=True)
    (ev / "sub").mkdir()
    other.mkdir()
    write_tone(ev / "real.flac", 0.1)
    write_tone(ev / "x.wav" / "in.flac", 0.1)
    write_tone(ev / "sub" / "s.wav", 0.1)
    write_tone(other / "o.flac", 0.1)
    (ev / "linkdir").symlink_to(other, target_is_directory=True)
    (ev / "gone.wav").symlink_to(tree / "nowhere.wav")
    link = ("a link to a folder (not followed)",)

    def found(pattern):
        left: list = []
        items = discover_inputs(pattern, left_out=left)
        return [i.path.relative_to(tree).as_posix() for i in items], [
            (e.path.relative_to(tree).as_posix(), e.reason) for e in left
        ]

    assert found(str(ev / "**")) == (
        ["ev/real.flac", "ev/sub/s.wav", "ev/x.wav/in.flac"],
        [("ev/gone.wav", "a broken symbolic link"), ("ev/linkdir", *link)],
    )
    assert found(str(ev / "**" / "*.flac")) == (
        ["ev/real.flac", "ev/x.wav/in.flac"],
        [("ev/linkdir", *link)],
    )
    assert found(str(ev / "*" / "*.flac")) == (["ev/x.wav/in.flac"], [("ev/linkdir", *link)])
    # a folder named like audio that the glob matches but does not search is left out
    assert found(str(ev / "*.*")) == (
        ["ev/real.flac"],
        [("ev/gone.wav", "a broken symbolic link"), ("ev/x.wav", "a folder named like audio")],
    )
    # the fixed part of the pattern is taken as given, links included (as a folder argument)
    assert found(str(ev / "linkdir" / "*.flac")) == (["ev/linkdir/o.flac"], [])
    # the same files as Python's glob where no link to a folder is in the way
    os.remove(ev / "linkdir")
    import glob

    for pattern in ("**", "**/*.wav", "*/*", "ev/**/*.flac"):
        expected = sorted(
            str(tree / m)
            for m in glob.glob(pattern, root_dir=tree, recursive=True)
            if os.path.isfile(tree / m) and os.path.splitext(m)[1].lower() in (".wav", ".flac")
        )
        assert [str(i.path) for i in discover_inputs(str(tree / pattern))] == expected
