"""Fixtures of the hardening tests: the generated bad-input corpus."""

from __future__ import annotations

import pytest

from _shared import SHARED_DATA
from hardening.corpus import Case, build_corpus

#: Real speech the corpus derives its speech, TextGrid and transcript cases from.
SPEECH = SHARED_DATA / "organic" / "arctic" / "arctic_a0009.wav"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Every corpus case, written once per test session into a temporary folder."""
    speech = SPEECH if SPEECH.is_file() else None
    return build_corpus(tmp_path_factory.mktemp("corpus"), speech)
