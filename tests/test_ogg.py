"""Ogg pages: the walk, the checksum, container findings and the repair of a cut stream."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

import vtract
from _encoded_audio import speechlike
from vtract.container import PREFIX, container_findings
from vtract.errors import EmptyAudioError
from vtract.ogg import page_checksum, repair_truncated, walk_pages

SR = 16000


def _encode(subtype: str, sr: int = SR, channels: int = 1, **options: float) -> bytes:
    x = speechlike(2.5, sr=sr)
    data = x if channels == 1 else np.c_[x, -0.5 * x]
    buf = io.BytesIO()
    sf.write(buf, data, sr, format="OGG", subtype=subtype, **options)
    return buf.getvalue()


def _decode(raw: bytes) -> np.ndarray:
    return sf.read(io.BytesIO(raw), dtype="float64", always_2d=True)[0]


def _reference_crc(page: bytes) -> int:
    """The Ogg CRC bit by bit, as RFC 3533 describes it (independent of zlib)."""
    data = page[:22] + b"\0\0\0\0" + page[26:]
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _findings(raw: bytes) -> list[str]:
    with sf.SoundFile(io.BytesIO(raw)) as snd:
        declared, decoded = snd.frames, snd.read().shape[0]
    return container_findings(raw, declared_frames=declared, decoded_frames=decoded, sample_rate=SR)


def _page_bytes(raw: bytes, k: int) -> tuple[int, int]:
    page = walk_pages(raw).pages[k]
    return page.offset, page.offset + page.size


def test_checksum_matches_the_bitwise_definition_and_every_written_page():
    rng = np.random.default_rng(0)
    for n in (27, 28, 300, 5000):
        page = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert page_checksum(page) == _reference_crc(page)
    for subtype in ("VORBIS", "OPUS"):
        walk = walk_pages(_encode(subtype))
        assert len(walk.pages) >= 4 and walk.junk == () and not walk.capped
        assert all(page.whole and page.checksum_ok for page in walk.pages)


def test_walk_reads_the_stream_structure():
    raw = _encode("VORBIS")
    walk = walk_pages(raw)
    pages = walk.pages
    assert [p.sequence for p in pages] == list(range(len(pages)))
    assert pages[0].flags & 0x02 and pages[-1].is_last and not pages[-2].is_last
    assert len(walk.serials) == 1 and pages[-1].offset + pages[-1].size == len(raw)
    assert pages[-1].granule == sf.info(io.BytesIO(raw)).frames  # Vorbis: frames at the end
    opus = walk_pages(_encode("OPUS", sr=48000)).pages
    pre_skip = struct.unpack_from("<H", _encode("OPUS", sr=48000), opus[0].header_size + 10)[0]
    assert opus[-1].granule - pre_skip == sf.info(io.BytesIO(_encode("OPUS", sr=48000))).frames


def test_intact_ogg_files_have_no_findings():
    for subtype in ("VORBIS", "OPUS"):
        assert _findings(_encode(subtype)) == []


@pytest.mark.parametrize(
    ("subtype", "sr", "channels"),
    [("VORBIS", SR, 1), ("VORBIS", 44100, 2), ("OPUS", SR, 1), ("OPUS", 48000, 2)],
)
def test_repair_recovers_the_whole_packets_of_the_cut_page_bit_for_bit(subtype, sr, channels):
    raw = _encode(subtype, sr, channels)
    whole = _decode(raw)
    gained = 0
    for fraction in np.linspace(0.25, 0.98, 12):
        cut = raw[: int(fraction * len(raw))]
        repaired = repair_truncated(cut)
        if repaired is None:  # cut inside a page header: nothing whole on that page
            continue
        recovered = _decode(repaired.data)
        # exactly the samples the whole file decodes to, no more (a first Vorbis audio
        # packet alone decodes to nothing: it only primes the overlap)
        assert recovered.shape[0] <= whole.shape[0]
        np.testing.assert_array_equal(recovered, whole[: recovered.shape[0]])
        try:
            plain = _decode(cut).shape[0]  # libsndfile alone drops the cut page
        except sf.LibsndfileError:
            plain = 0  # (an Opus file cut inside its first audio page does not open)
        assert recovered.shape[0] >= plain
        assert recovered.shape[0] / sr >= repaired.whole_pages_seconds - 1e-9
        gained += recovered.shape[0] > plain
        assert repaired.codec == subtype.lower() and repaired.packets > 0
    assert gained >= 8


def _opus_packets(raw: bytes) -> list[bytes]:
    packets, current = [], b""
    for page in walk_pages(raw).pages:
        start = page.offset + page.header_size
        for lace in page.lacing:
            current += raw[start : start + lace]
            start += lace
            if lace < 255:
                packets.append(current)
                current = b""
    return packets


def _repaginate(raw: bytes, body_bytes: int) -> tuple[bytes, int]:
    """The same Opus packets on pages of at most ``body_bytes``, continued across pages.

    libsndfile writes Opus packets of one duration; it is read from the
    original pages' granule positions (not from the packets), and each new
    page gets the granule position of the last packet that ends on it (-1 if
    none does). Returns the stream and the packet duration (48 kHz samples).
    """
    walk = walk_pages(raw)
    packets = _opus_packets(raw)
    audio_pages = [p for p in walk.pages[2:] if not p.is_last]
    n_audio = [sum(lace < 255 for lace in p.lacing) for p in audio_pages]
    durations = {
        (b.granule - a.granule) // n for a, b, n in zip(audio_pages, audio_pages[1:], n_audio[1:])
    }
    (duration,) = durations  # one duration for all packets
    final_granule = walk.pages[-1].granule
    serial, out = walk.pages[0].serial, []

    def emit(lacing: list[int], body: bytes, flags: int, granule: int) -> None:
        head = struct.pack(
            "<4sBBqIIIB", b"OggS", 0, flags, granule, serial, len(out), 0, len(lacing)
        )
        page = bytearray(head + bytes(lacing) + body)
        struct.pack_into("<I", page, 22, page_checksum(bytes(page)))
        out.append(bytes(page))

    def lacing_of(packet: bytes) -> list[int]:
        return [255] * (len(packet) // 255) + [len(packet) % 255]

    emit(lacing_of(packets[0]), packets[0], 0x02, 0)  # OpusHead alone on the first page
    emit(lacing_of(packets[1]), packets[1], 0, 0)  # OpusTags
    lacing, body, flags, granule = [], b"", 0, -1
    for k, packet in enumerate(packets[2:], start=1):
        segments = lacing_of(packet)
        while segments:
            lace = segments.pop(0)
            lacing.append(lace)
            body += packet[:lace]
            packet = packet[lace:]
            if not segments:
                granule = final_granule if k == len(packets) - 2 else k * duration
            if len(body) >= body_bytes or len(lacing) == 255:
                emit(lacing, body, flags, granule)
                flags = 0x01 if segments else 0
                lacing, body, granule = [], b"", -1
    emit(lacing, body, flags | 0x04, final_granule)
    return b"".join(out), duration


def test_repair_of_a_packet_continued_from_the_page_before():
    raw = _encode("OPUS", sr=48000, compression_level=0.5)  # packets of about 650 bytes
    paged, duration = _repaginate(raw, body_bytes=1000)  # pages end inside packets
    walk = walk_pages(paged)
    assert all(p.checksum_ok for p in walk.pages) and duration == 960
    assert sum(bool(p.flags & 0x01) for p in walk.pages) > 10
    whole = _decode(raw)
    np.testing.assert_array_equal(_decode(paged), whole)  # the helper keeps the stream intact
    tested = 0
    for page in walk.pages[3:-1]:
        if not page.flags & 0x01:
            continue
        # cut 10 bytes after the packet continued from the page before ends
        first_end = next(i for i, lace in enumerate(page.lacing) if lace < 255)
        cut_at = page.offset + page.header_size + sum(page.lacing[: first_end + 1]) + 10
        if cut_at >= page.offset + page.size:
            continue
        repaired = repair_truncated(paged[:cut_at])
        assert repaired is not None and repaired.packets >= 1
        # the granule position counts every whole packet, the continued one included
        whole_packets = len(_opus_packets(paged[: page.offset])) - 2 + 1  # headers excluded
        assert walk_pages(repaired.data).pages[-1].granule == whole_packets * duration
        recovered = _decode(repaired.data)
        np.testing.assert_array_equal(recovered, whole[: recovered.shape[0]])
        tested += 1
    assert tested >= 5


def test_nothing_to_repair():
    raw = _encode("VORBIS")
    assert repair_truncated(raw) is None  # whole
    header_end = walk_pages(raw).pages[2].offset + 10  # cut inside a page header
    assert repair_truncated(raw[:header_end]) is None
    chained = raw + _encode("OPUS")
    assert repair_truncated(chained[:-100]) is None  # two logical streams: not rebuilt
    other = bytearray(raw)
    start = walk_pages(raw).pages[0].header_size
    other[start : start + 7] = b"\x7fFLAC\x01\x00"  # an unknown codec
    assert repair_truncated(bytes(other)[:-100]) is None


def test_findings_for_damaged_missing_chained_and_foreign_pages():
    raw = _encode("VORBIS")
    start, end = _page_bytes(raw, 3)
    damaged = bytearray(raw)
    damaged[start + 200] ^= 0xFF
    found = _findings(bytes(damaged))
    assert found[0] == (
        f"{PREFIX}1 Ogg page fails its checksum (page 3 at byte {start}): damaged or altered "
        "after they were written; the decoder skips such pages, so their audio is missing "
        "from the analysis"
    )
    assert found[1].startswith(PREFIX + "the stream's last granule position declares 2.500 s")

    missing = raw[:start] + raw[end:]
    found = _findings(missing)
    assert found[0] == (
        f"{PREFIX}the Ogg page sequence jumps from 2 to 4 at byte {start}: pages are missing "
        "(removed or lost), or out of order"
    )

    chained = raw + _encode("VORBIS")
    (found,) = _findings(chained)
    assert found == (
        PREFIX + "the file holds 2 logical Ogg streams (chained recordings, or audio "
        "multiplexed with other data): only the first is decoded and analysed"
    )

    foreign = raw[:start] + b"x" * 100 + raw[start:] + b"y" * 7
    (found,) = _findings(foreign)
    assert found == (
        f"{PREFIX}107 bytes in 2 stretches, the first at byte {start} are not Ogg pages: data "
        "the container does not account for, or damage"
    )


def test_findings_for_a_cut_stream():
    raw = _encode("VORBIS")
    start, end = _page_bytes(raw, 3)
    (found,) = _findings(raw[:end])  # cut at a page boundary: no end-of-stream page
    assert found == (
        f"{PREFIX}the Ogg stream has no end-of-stream page (its last page, 3 at byte {start}, "
        "is whole): the file was cut short at a page boundary, or its writer never finished it"
    )
    (found,) = _findings(raw[: start + 1000])
    assert found == (
        f"{PREFIX}truncated: the file ends inside Ogg page 3 (at byte {start}, 1000 of its "
        f"{end - start} bytes are present): the file was cut short"
    )


def test_load_decodes_the_cut_page_and_says_how(tmp_path):
    raw = _encode("OPUS", sr=48000)
    first_audio = walk_pages(raw).pages[2]
    path = tmp_path / "cut.opus"
    path.write_bytes(raw[: first_audio.offset + first_audio.size // 2])
    with pytest.raises(sf.LibsndfileError):  # libsndfile alone refuses it
        sf.info(path)
    ev = vtract.load(path, sr=None)
    assert ev.sha256 == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    repaired = repair_truncated(path.read_bytes())
    assert repaired is not None
    np.testing.assert_array_equal(ev.samples, _decode(raw)[: ev.samples.size, 0].astype(np.float32))
    truncated, note = ev.warnings[:2]
    assert truncated.startswith(PREFIX + "truncated: the file ends inside Ogg page 2")
    assert note == (
        f"{PREFIX}the incomplete last Ogg page still holds {repaired.packets} whole audio "
        "packets; they are decoded from a repaired copy made in memory (the page cut to those "
        "packets and marked as the end of the stream, its granule position and checksum "
        f"recomputed): {ev.duration:.3f} s decode, where the whole pages end at 0.000 s; the "
        "evidence file is unchanged and its SHA-256 is of the file as read"
    )
    assert path.read_bytes() == raw[: first_audio.offset + first_audio.size // 2]


def test_a_cut_page_with_nothing_decodable_is_still_refused_with_the_findings(tmp_path):
    raw = _encode("VORBIS")
    headers = walk_pages(raw).pages[2]
    path = tmp_path / "cut.ogg"
    path.write_bytes(raw[: headers.offset + headers.header_size + headers.lacing[0] + 5])
    with pytest.raises(EmptyAudioError, match="ends inside Ogg page 2"):
        vtract.load(path)


def test_a_file_cut_inside_its_codec_headers_is_refused_with_the_page_finding(tmp_path):
    raw = _encode("VORBIS")
    setup = walk_pages(raw).pages[1]  # Vorbis comment and codebooks
    path = tmp_path / "cut.ogg"
    path.write_bytes(raw[: setup.offset + 1000])
    with pytest.raises(
        vtract.errors.UnsupportedFormatError,
        match=r"not decodable audio .*; container: truncated: the file ends inside Ogg page 1 "
        rf"\(at byte {setup.offset}, 1000 of its {setup.size} bytes are present\): the file "
        "was cut short$",
    ):
        vtract.load(path)


def test_many_streams_and_jumps_are_summed_up_not_listed():
    """One finding per kind however many streams or gaps (walked in one pass, not per stream)."""
    pages = []
    for i in range(20000):  # 20,000 one-page streams, none ended
        head = bytearray(struct.pack("<4sBBqIIIB", b"OggS", 0, 0x02, 0, i, 0, 0, 0))
        struct.pack_into("<I", head, 22, page_checksum(bytes(head)))
        pages.append(bytes(head))
    found = container_findings(b"".join(pages), declared_frames=None, decoded_frames=0,
                               sample_rate=SR)  # fmt: skip
    assert found == [
        PREFIX + "the file holds 20000 logical Ogg streams (chained recordings, or audio "
        "multiplexed with other data): only the first is decoded and analysed",
        PREFIX + "20000 Ogg streams have no end-of-stream page: the file was cut short at a "
        "page boundary, or its writers never finished them",
    ]
    raw, _ = _repaginate(_encode("OPUS", sr=48000, compression_level=0.5), body_bytes=1000)
    walk = walk_pages(raw).pages
    gappy = raw[: walk[2].offset] + raw[walk[3].offset : walk[4].offset] + raw[walk[5].offset :]
    jumps = _findings(gappy)[0]
    assert jumps == (
        f"{PREFIX}the Ogg page sequence jumps 2 times (from 1 to 3 at byte {walk[2].offset}, "
        f"from 3 to 5 at byte {walk[2].offset + walk[3].size}): pages are missing (removed or "
        "lost), or out of order"
    )


def test_an_opus_header_without_an_input_rate_is_decoded_at_opus_48_khz(tmp_path):
    """RFC 7845: the OpusHead input sample rate is informational and 0 means unspecified,
    yet libsndfile decodes at it: a 16 kHz stream whose field is 0 came out at 8 kHz
    (band-limited to 4 kHz, so inconclusive) and its original rate was recorded as 8 kHz."""
    pytest.importorskip("av")
    from vtract.ffmpeg_audio import opus_input_rate, sniff

    raw = bytearray(_encode("OPUS"))
    assert opus_input_rate(bytes(raw)) == SR and sniff(bytes(raw)) is None  # libsndfile, as before
    start = 27 + raw[26]
    struct.pack_into("<I", raw, start + 12, 0)
    first = 27 + raw[26] + sum(raw[27 : 27 + raw[26]])
    struct.pack_into("<I", raw, 22, 0)
    struct.pack_into("<I", raw, 22, page_checksum(bytes(raw[:first])))
    assert opus_input_rate(bytes(raw)) == 0 and sniff(bytes(raw)) == "OGG_OPUS"
    assert sf.info(io.BytesIO(bytes(raw))).samplerate == 8000  # what libsndfile would do
    path = tmp_path / "unspecified.opus"
    path.write_bytes(bytes(raw))
    ev = vtract.load(path, sr=None)
    assert ev.original_sr == 48000 and ev.duration == pytest.approx(2.5, abs=0.03)
    assert any("input sample rate of 0 Hz" in w for w in ev.warnings)
    # the 4-8 kHz band holds the stream's content, not the silence of an 8 kHz decode
    spectrum = np.abs(np.fft.rfft(ev.samples)) ** 2
    freqs = np.fft.rfftfreq(ev.samples.size, 1 / ev.sr)
    above = spectrum[(freqs > 4500) & (freqs < 7500)].sum() / spectrum.sum()
    assert above > 1e-4


def _with_serial(raw: bytes, serial: int) -> bytes:
    """``raw`` with every page's serial number set to ``serial`` (checksums recomputed)."""
    out = bytearray(raw)
    for page in walk_pages(raw).pages:
        struct.pack_into("<I", out, page.offset + 14, serial)
        struct.pack_into("<I", out, page.offset + 22, 0)
        crc = page_checksum(bytes(out[page.offset : page.offset + page.size]))
        struct.pack_into("<I", out, page.offset + 22, crc)
    return bytes(out)


@pytest.mark.parametrize(("subtype", "granule"), [("VORBIS", 40000), ("OPUS", 120312)])
def test_files_joined_under_one_serial_number_are_a_join_not_missing_pages(
    tmp_path, subtype, granule
):
    first = _encode(subtype)
    second = _with_serial(_encode(subtype, sr=SR), walk_pages(first).serials[0])
    end = walk_pages(first).pages[-1]
    path = tmp_path / "joined.ogg"
    path.write_bytes(first + second)
    ev = vtract.load(path, sr=None)
    assert ev.duration == pytest.approx(2.5, abs=0.01)  # libsndfile decodes the first only
    (found,) = [w for w in ev.warnings if w.startswith(PREFIX)]
    assert found == (
        f"{PREFIX}the Ogg stream begins again at byte {len(first)}, after its end-of-stream "
        f"page (the page sequence starting again at 0, its granule position going back from "
        f"{granule} to 0): a new beginning-of-stream page with the same serial number "
        f"({end.serial:#010x}), so Ogg files were joined end to end, not pages lost; only the "
        "first (2.500 s) is decoded and analysed"
    )
    assert "missing" not in found


def test_pages_out_of_order_go_back():
    raw = _encode("VORBIS")
    pages = walk_pages(raw).pages
    a, b = (raw[p.offset : p.offset + p.size] for p in pages[3:5])
    swapped = raw[: pages[3].offset] + b + a + raw[pages[4].offset + pages[4].size :]
    found = [f for f in _findings(swapped) if "sequence" in f]
    assert found == [
        f"{PREFIX}the Ogg page sequence goes back from 4 to 3 at byte {pages[3].offset + len(b)}"
        ": pages out of order, or spliced in from another recording of the same stream",
        f"{PREFIX}the Ogg page sequence jumps from 2 to 4 at byte {pages[3].offset}: pages "
        "are missing (removed or lost), or out of order",
    ]


def test_a_join_that_ffmpeg_decodes_on_through_says_so(tmp_path):
    """An Opus file without an input rate goes to FFmpeg, which decodes the joined file on."""
    pytest.importorskip("av")
    first = bytearray(_encode("OPUS"))
    page = walk_pages(bytes(first)).pages[0]
    start = page.offset + page.header_size
    first[start + 12 : start + 16] = bytes(4)  # OpusHead input sample rate 0: unspecified
    struct.pack_into("<I", first, 22, 0)
    struct.pack_into("<I", first, 22, page_checksum(bytes(first[: page.size])))
    second = _with_serial(_encode("OPUS"), page.serial)
    path = tmp_path / "joined.opus"
    path.write_bytes(bytes(first) + second)
    ev = vtract.load(path, sr=None)
    assert ev.duration == pytest.approx(5.0, abs=0.01)
    (found,) = [w for w in ev.warnings if w.startswith(PREFIX)]
    assert found.endswith(
        "so Ogg files were joined end to end, not pages lost; the decoder runs on into the "
        f"next recording: {ev.duration:.3f} s decode (the first ends at 2.500 s) and are "
        "analysed as one recording"
    )
