"""Phonetic alignment: read every common format, align offline, recognise.

Public names: :class:`Alignment`, :func:`read_alignment`, :func:`align`,
:func:`aligner_model_info`, and the label helpers in
:mod:`vtract.alignment.labels` (:func:`~vtract.alignment.labels.phone_class`,
:func:`~vtract.alignment.labels.to_ipa`).
"""

from __future__ import annotations

from .align import align
from .labels import normalize_label, normalize_labels, phone_class, to_ipa
from .model import Alignment
from .read import read_alignment
from .sphinx import aligner_model_info

__all__ = [
    "Alignment",
    "align",
    "aligner_model_info",
    "normalize_label",
    "normalize_labels",
    "phone_class",
    "read_alignment",
    "to_ipa",
]
