"""One exception hierarchy for everything vtract refuses to do.

Every error raised on bad input is a :class:`VtractError`. The command line
turns these into a one-line reason on stderr and exit code 1; anything else
escaping is a bug in vtract.
"""

from __future__ import annotations

__all__ = [
    "AlignmentError",
    "AudioError",
    "EmptyAudioError",
    "EstimationError",
    "InputFileError",
    "InvalidAudioError",
    "LabelError",
    "ReferenceError_",
    "SampleRateError",
    "SilentAudioError",
    "TooShortError",
    "UnsupportedFormatError",
    "VtractError",
]


class VtractError(Exception):
    """Base class of every error vtract raises on purpose."""


class InputFileError(VtractError, OSError):
    """The input path is missing, unreadable or not a regular file."""


class AudioError(VtractError):
    """The audio could not be used for analysis."""


class UnsupportedFormatError(AudioError):
    """The file is not audio in a format vtract can decode."""


class EmptyAudioError(AudioError):
    """The file decodes to zero samples."""


class TooShortError(AudioError):
    """The audio is shorter than one analysis window."""


class SilentAudioError(AudioError):
    """The audio carries no signal (digital silence or a constant)."""


class InvalidAudioError(AudioError):
    """The samples are not finite (NaN or infinity)."""


class SampleRateError(AudioError):
    """A sample rate outside what vtract accepts."""


class AlignmentError(VtractError):
    """A phonetic alignment could not be read, written or computed."""


class LabelError(AlignmentError):
    """A phone label is malformed."""


class EstimationError(VtractError):
    """A vocal-tract estimate could not be computed."""


class ReferenceError_(VtractError):
    """An organic reference is missing, corrupt or incompatible."""
