"""Brief crash-freedom fuzzing of the audio loader and the alignment readers.

Mutated valid seeds (bit flips, deletions, duplications, spliced tokens such
as ``nan``/``-1e308``, header integers, truncation) go through
:func:`vtract.load` and :func:`vtract.read_alignment`; only a
:class:`~vtract.errors.VtractError` may come out. About 200 examples here;
``benchmarks/fuzz_readers.py --seconds N`` runs the same targets for longer.
"""

from __future__ import annotations

import base64
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vtract
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
    # session 25: str.isdigit accepts superscripts, which int() refuses (the new
    # short-format count check; atheris, tier and interval counts)
    "short_format_superscript_tier_count": (
        "textgrid",
        b'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1.2\n<exists>\n\xc2\xb2\n'
        b'"IntervalTier"\n"phones"\n0\n1.2\n1\n0\n0.4\n"s"\n',
    ),
    "short_format_superscript_interval_count": (
        "textgrid",
        b'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1.2\n<exists>\n1\n'
        b'"IntervalTier"\n"phones"\n0\n1.2\n\xc2\xb3\n0\n0.4\n"s"\n',
    ),
    "hts_utf16_bom_odd_length": ("hts", b"\xff\xfe0 1"),
    "timit_utf16_bom_odd_length": ("timit", b"\xff\xfe0 3R50(050 4559 sh\n"),
    "festival_utf16_bom_odd_length": ("festival", b"\xff\xfe#"),
    "csv_non_numeric_rate": ("csv", b"start,end,label,fs\n0.0,0.1,s,x\n"),
    # session 24: an MP4 audio stream FFmpeg has no decoder for (codec_context None)
    "mp4_audio_stream_without_decoder": (
        "ffmpeg",
        b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00M4A isomiso2\x00\x00\x03\x13moov\x00\x00\x00l"
        b"mvhd\x01\x00\x00\x00\x00\x00\x1c\x00\x00\x00\x00\x00\x00\x00\x03\xe8\x00\x00\x01,\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        b"\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x02=trak\x00\x00\x00\\tkhd"
        b"\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01,\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x00"
        b"\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x00\x00\x00$edts\x00\x00\x00\x1celst\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01,\x00\x00\x04\x00\x00\x01\x00\x00"
        b"\x00\x00\x01\xb5mdia\x00\x00\x00 mdhd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00>\x80\x00\x00\x16\xc0U\xc4\x00\x00"
        b"\x00\x00\x00-hdlr\x00\x00\x00\x00\x00\x00\x00\x00soun\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00SoundHan"
        b"dler\x00\x00\x00\x01`minf\x00\x00\x00\x10smhd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00$di\x00\x00\x03\x80\x80"
        b"\x80%!\x00\x01\x00\x04\x80\x80\x80\x17@\x15\x00\x00\x00\x00\x01\r\x1c\xd9\xf2\xb7\xa3&\xe8sg\xca\xde\x8c\x9b\xa1\xcd\x9f+z2n\x87"
        b"6|\xbc",
    ),
}


#: Session 24, the mutation engine on the ffmpeg target: an M4A whose AAC stream switches
#: from 1 to 41 channels after 0.192 s; PyAV's AudioFrame.to_ndarray crashed the process
#: (segmentation fault) on the frame whose planes disagree with its layout. vtract now reads
#: the planes itself, with their sizes checked, and stops at the change (zlib + base64).
AAC_CHANNEL_SWITCH = (
    "eNrlVndUk9kS/0I1+/BRhBWUFYRAaCrSFoGoiCKiiFJCFQ0kESShJAEEaYtIEaSXlarok5WqtEVkadKrgKCIgjQb"
    "CAGRDnn3C7BGPeed896/b3JvZr7fzPxm7twv5wSCIFEizdPFQEVbHILYIFg7UJ3JYCtBEPs2srOzOwRBJLK7PR76"
    "RtjfQxBCAUJA8PoqiG+jvn8+DP1HYQMLQ6PgHIFtTXNk1mT/kQ3UZcEQ/31dFAFPowItSiBRaV8zYF6OjVxEMRnv"
    "gAOGOBn//dkP+kPQz1WmtcyHPfZ4EmXTQ3V2c2KNNAbPeD2cE55EgGMQF8gOTkRg8FHJ35Ci8Ou4KJ5CILIcgceN"
    "QhLfaA5FpdmSgH2JSqPiWWIsyS4quB+OjYD4NlsFokag4qnMa/P395cCTg6gtx8WYkZuDYGg5gJOgHAKbsGOQVzA"
    "QrDBR6fSmGPauBqIkzkeZhW2Krhb0IkdS2V4c21oBeDzYjkhwBFzYCeArQ32r2D7gV0CfIJUmp3zVx72Q0DvoF50"
    "wcNEFGcSaaM+gsFgVrW96AJ99bBWtXXD03DMmRBomzPZzXpB4FIpOBcXEusl7XFYfwuk7tOc4TZ+weOYycxhnsK5"
    "E9WU9u4HSxH8JKAtRAqBAEFIbTKIGmCD/XbAr6TO9LOpZFs71GIkuY/jsJfnoj0pRgaNN7MmXdoxnQsH+Rlr1XKF"
    "W1qz9Iu6lMcF7iiGL47+YSbpZSHzq95QhN6SvLKjvb2eK48FJlgKna+tviKa9qq4Ym9BTbSUhPHTY7moev6gI7ru"
    "GH+9ExK3BIQbo9T5GqNeCOgFJrpWWs3nF63p1/HOZp3x9arj/lTpuJDfvuIx6Ld1UazYy7DNzZBAMdxOdWrvK+vX"
    "/ZjzJKvEqaT3UbbJcD/6uKN1T5KbadAYLhfraLZTqL7ONdfOCbszHiCPsI6mST17Lo1Y5vRmq2a1KY9/Hv/8MbPH"
    "pDirTZWYVHhqaWXzc+JoHOsqpvS0mO2x/la9yeQUGE1EPZJqCZY302eihNyEEuuzxwR/WAozHT+sdp2Wtb3ot4Y7"
    "omamwpGLwfW1Wo9GlHxtpu/z7l14lZ5QfkmnpUIDPRYJAt5FNC1a1Y9qFY7U+GKnO3nlL0+kx5d76TT7aqLHnMX5"
    "ZiIjkYvGjSit2yPDvkYz/LzoRY702JVAnaa1o+jRjt18M37RoYvyjXit5NEA3xMzsrxSi+LpMVrRVQi9tJfdHnnN"
    "SZ+u86tll8jkNAQW/VXxyToxu/u8zSDDuXJ1qaLUwLyS0TG4tkYsdcTuYyyaLft4Dnmdy78VliBR86W3/VsxLQru"
    "aeio2Pv8qt7jdnzBgoHQ6wT9fDkhWpgDJetBX1vS5M/dBg3UrCL58TnpNp7iL0bx5skqEzFj2aE+vkbZ24ipaWCY"
    "z3v0TWVNQwtPd5xukrMsjQlVOislYIxts1LFA+Os0qmJiU9B6nZB6rZwTR4eJws3RSAq3QYqL4sPr/l1vCK94HcT"
    "T17kFUvjPKwh8uxGta8xJtXCYffczQ9vs/+RSsZIPGydmJPfJmeDFsJoDAFbrgWjKWcVrJ5iAuPEVFD2oXrOKaad"
    "lmoJ6mLRQqFpqWkxl/qyiXfjkO/ENICRW0Zv4HFpQGhraxtKwy3ZreJRKJS0BcGYUc8FBIlEehg/LlVUVC5dG3+X"
    "9OqGT6azQ//4nrdWtX/mRAoc4Iyy6ihfhlfSdZkMsCIQwl9yBYkiBDbIMe9ZcmDMCYGurpOJ+bhf3Oc/hEKoQAkd"
    "fvGr01gRPlS4BoeLiNGBSffjmUt6iSOxJifrykUT+fpjut+G2tFr83qkNA7IyKPOUExiWw+lrkyNemYKuZQVXrTC"
    "9lyPkLEQPd29ev7ldOKzvmdxs7OUjGilnmxTJWR3hPpwo2GQ8IVhRsMTp+XlGr/Iq+jBgW0r3iIH1+jpI0NFTCzo"
    "9fz8NQZTBTLEuDyYEWpTleX71hV6YYE86HfZcDqsv2KNXjlNh1X6yJsm1ngRZgQdv1nlVeTfce3rmObUFHLtIA9m"
    "tRp8r9Mqzj/lnaYTlpf/ADwisz+dt+w0yd6qahkvZxKJzbXyh96r5nyayV/yKWPkPR6pEw8JOSrB5//PfBMzF7Ue"
    "u0Cy8E1+0RQnAd19T5XOX63cevLckYCI3gfeAewXg7sOVGapnovmjedobsm59n8lbxDCqrkq2BpByAbhIKAXLSFd"
    "9T+m8VmgnsZaXaKO1kX5twhy9Amm6PRHhZy9q7stdOQKUt3PL9TbcrYPc9Tospw7pVFDhCvgjohyYmwBRKoaquwe"
    "vnLnuaSNci89N9QEt9A/5xpe+XKQnoI77RFZkWI+v8skIJjccqFzeSl/OmvyXrsVJaN1ULZjf5l7u1GTQttMyued"
    "maQxhZimk7LP95dR282bFOIKrrU6pXxmWmmt9R86Djitm3DeY+kCOG8S5BXAeRsgTBbPJNP6nixMGQYfowqMmq/A"
    "Zu8E8MtYA979MLhJ5igF8mw+wJ3BYPzk352dh9ulggoQd5fiLolQOmI2nDskwxvykUQMy5RAB2NZFQaA/LDirpUk"
    "Vc2Gi/HdKGTvUvQ+otbKq1e9Bo8/ruQ3+D8SGD5anP9cjLrVPD7AhD76UIgiOqyec1tUS+nsDL5Yg3LZlL+XEoAx"
    "+yuazohoXJiq4fDsFUyQJJ0kJ6O1RslDIQPRMkekjlx7zRe6m/8G210kqjyWu+HoMdlbx6NC9J70Lz5zty/fEoVo"
    "H+hfTbL7OFD3Lz/NFI95T3MGuuLjoE+i60Gv7ofknl3Zpi9Ku301b9wnn+kTvVvvZvlb7WuzHN2J/AdYWcr+DMND"
    "UqnxUqJa1+M6282L+QtGc62VTDSNdElj12PHkyo6GwRq9F1PKWoR8xH1tsDUH9WyLOcWCfvpfr1i1HRG+XaRMESm"
    "cI1OnXy16+8PdriGo7SMNkEQTbcmenPdDEPuFMzTqUtH3NugAGz3bKs/1MlHTSeVw35Z2NSnWxIVuFJsH/EK5h2r"
    "t61ygEvAFApcN+8gN8HfHwBwg4KFDZiG3lH2Cx1qzt5ROtNpxNUZbd56z+T5pjKx8EUroET7Zv68I/2eerF5IDz5"
    "dlu6vJeSU7Cad/m/AXj1QmE="
)


def test_aac_channel_switch_keeps_what_decoded_before_it(tmp_path):
    pytest.importorskip("av")
    path = tmp_path / "switch.m4a"
    path.write_bytes(zlib.decompress(base64.b64decode("".join(AAC_CHANNEL_SWITCH))))
    ev = vtract.load(path)  # in this process: a crash here fails the whole run
    assert ev.duration == pytest.approx(0.192)
    assert any("channel count changes from 1 to 41 while it decodes" in w for w in ev.warnings)


@pytest.mark.parametrize("finding", sorted(KNOWN_FINDINGS))
def test_known_fuzz_findings_raise_vtract_errors(finding, tmp_path):
    target, data = KNOWN_FINDINGS[finding]
    _check(target, data, tmp_path)
