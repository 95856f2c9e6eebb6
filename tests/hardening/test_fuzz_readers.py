"""Brief crash-freedom fuzzing of the audio loader and the alignment readers.

Mutated valid seeds (bit flips, deletions, duplications, spliced tokens such
as ``nan``/``-1e308``, header integers, truncation) go through
:func:`vtract.load` and :func:`vtract.read_alignment`; only a
:class:`~vtract.errors.VtractError` may come out. About 200 examples here;
``benchmarks/fuzz_readers.py --seconds N`` runs the same targets for longer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardening.fuzz_targets import TARGETS, mutate, reproducer, run_target, seeds

EXAMPLES = {
    "wav": 40,
    "flac": 30,
    "mp3": 25,
    "ogg": 30,
    "ffmpeg": 30,
    "textgrid": 50,
    "timit": 30,
    "hts": 30,
    "festival": 20,
    "csv": 25,
}

ops_st = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 2**16), st.integers(0, 2**32)),
    min_size=1,
    max_size=6,
)


def _check(target: str, data: bytes, folder) -> None:
    try:
        run_target(target, data, folder)
    except Exception as exc:  # anything but a VtractError is a bug
        pytest.fail(
            f"{target} reader raised {type(exc).__name__}: {exc}\nreproducer:\n"
            + reproducer(target, data)
        )


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_mutated_inputs_only_raise_vtract_errors(target, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"fuzz_{target}")
    pool = seeds(target)

    @settings(
        max_examples=EXAMPLES[target],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(index=st.integers(0, len(pool) - 1), ops=ops_st)
    def fuzz(index, ops):
        _check(target, mutate(pool[index], ops), folder)

    fuzz()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_seeds_are_valid_inputs(target, tmp_path):
    """The fuzzing starts from inputs the readers accept (or it explores nothing)."""
    for data in seeds(target):
        assert run_target(target, data, tmp_path) == "ok"


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(target=st.sampled_from(sorted(TARGETS)), data=st.binary(max_size=2048))
def test_random_bytes_only_raise_vtract_errors(tmp_path_factory, target, data):
    _check(target, data, tmp_path_factory.getbasetemp())


#: Minimal inputs the fuzzing found (kept as regression cases once fixed).
KNOWN_FINDINGS = {
    "utf16_bom_odd_length": ("textgrid", b"\xff\xfeF"),
    "utf8_bom_then_invalid_utf8": ("textgrid", b"\xef\xbb\xbf\xbf"),
    "short_format_bad_number": (
        "textgrid",
        b'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1.2\n<exists>\n1\n'
        b'"IntervalTier"\n"phones"\n0\n1.2\n1\n0\n0\xae4\n"s"\n',
    ),
    "hts_utf16_bom_odd_length": ("hts", b"\xff\xfe0 1"),
    "timit_utf16_bom_odd_length": ("timit", b"\xff\xfe0 3R50(050 4559 sh\n"),
    "festival_utf16_bom_odd_length": ("festival", b"\xff\xfe#"),
    "csv_non_numeric_rate": ("csv", b"start,end,label,fs\n0.0,0.1,s,x\n"),
}


@pytest.mark.parametrize("finding", sorted(KNOWN_FINDINGS))
def test_known_fuzz_findings_raise_vtract_errors(finding, tmp_path):
    target, data = KNOWN_FINDINGS[finding]
    _check(target, data, tmp_path)
