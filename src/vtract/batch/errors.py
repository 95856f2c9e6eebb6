"""Errors raised by the batch machinery (all are :class:`~vtract.errors.VtractError`)."""

from __future__ import annotations

from ..errors import VtractError

__all__ = ["BackendError", "BatchError", "OutputError"]


class BatchError(VtractError):
    """A batch run could not be set up or completed."""


class BackendError(BatchError):
    """A parallel backend is unknown, not installed or misconfigured."""


class OutputError(BatchError):
    """A results file cannot be written, resumed or placed where asked."""
