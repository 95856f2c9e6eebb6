"""The pocketsphinx decoders of ``vtract.alignment.sphinx`` and the recognised-word filter
(no speech corpus needed)."""

from types import SimpleNamespace

import pytest

from vtract.alignment import sphinx
from vtract.alignment.align import _recognized_words
from vtract.errors import AlignmentError


def test_word_decoder_search_options():
    shipped = sphinx.decoder("words")
    assert shipped.config["maxhmmpf"] == sphinx.WORD_RECOGNITION_OPTIONS["maxhmmpf"] == 10000
    assert shipped.config["fwdflat"] is sphinx.WORD_RECOGNITION_OPTIONS["fwdflat"] is False
    # the same options spelled out reuse the cached decoder; {} is pocketsphinx's defaults
    assert sphinx.decoder("words", options=dict(sphinx.WORD_RECOGNITION_OPTIONS)) is shipped
    defaults = sphinx.decoder("words", options={})
    assert defaults is not shipped
    assert defaults.config["maxhmmpf"] == 30000 and defaults.config["fwdflat"] is True
    with pytest.raises(AlignmentError, match="'words' decoder"):
        sphinx.decoder("align", options={})


def test_recognized_words_drop_fillers_and_clip_posteriors():
    segs = [
        SimpleNamespace(word="<s>", prob=1.0),
        SimpleNamespace(word="hello", prob=1.3),
        SimpleNamespace(word="[NOISE]", prob=0.5),
        SimpleNamespace(word="+breath+", prob=0.5),
        SimpleNamespace(word="world(2)", prob=-0.2),
        SimpleNamespace(word="</s>", prob=1.0),
    ]
    dec = SimpleNamespace(hyp=lambda: "hello world", seg=lambda: segs)
    assert _recognized_words(dec) == (["hello", "world"], [1.0, 0.0])
    assert _recognized_words(SimpleNamespace(hyp=lambda: None)) == ([], [])
