"""Calibration records stored in a reference: checked before a detector uses them.

A reference's ``meta.json`` (``Reference.calibration``) is not covered by the
statistics hash, so an edited or damaged file can carry records of the wrong
shape. :func:`check_calibrations` reads every record the detectors use the
way they will use it and refuses one they could not, naming the record and
its field, when the reference is read (:meth:`vtract.Reference.from_bytes`)
or given new thresholds (:meth:`vtract.Reference.with_calibration`) --
not halfway through an analysis with a Python error.

Records
-------
``"default"`` and ``"dry_voice"``
    :meth:`~vtract.detect.calibration.Calibration.from_dict`; a
    ``"dynamics"`` one also its descriptor model
    (:meth:`~vtract.detect.dynamics.DescriptorModel.from_dict`), and the
    ``"dry_voice"`` one must be a dynamics model with ``log_shimmer``.
``"paper"``
    :func:`~vtract.detect.paper.stored_paper_calibration`.

Other keys are not used by vtract's detectors and are left as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import VtractError
from ..json_values import is_finite_number
from .calibration import Calibration, CalibrationError

__all__ = ["check_calibrations"]


def check_calibrations(calibration: Mapping[str, Any]) -> None:
    """Refuse calibration records the detectors could not use.

    Parameters
    ----------
    calibration : mapping
        ``Reference.calibration``: detector name -> record.

    Raises
    ------
    CalibrationError
        Naming the record (``calibration.default`` ...) and what is wrong.
    """
    from .default import DRY_VOICE
    from .paper import stored_paper_calibration

    if not isinstance(calibration, Mapping):
        raise CalibrationError(f"calibration is {type(calibration).__name__}, not an object")
    for key in ("default", DRY_VOICE):
        if key not in calibration:
            continue
        record = calibration[key]
        if not isinstance(record, Mapping):
            raise CalibrationError(
                f"calibration.{key} is a JSON {_json_kind(record)}, expected an object"
            )
        try:
            _check_record(key, record)
        except VtractError as exc:  # CalibrationError, or the descriptor model's refusal
            raise CalibrationError(f"calibration.{key}: {exc}") from None
    if "paper" in calibration:
        stored_paper_calibration(calibration["paper"])


def calibration_warnings(calibration: Mapping[str, Any]) -> dict[str, list[str]]:
    """The warnings each stored default-detector record puts on every report.

    Parameters
    ----------
    calibration : mapping
        ``Reference.calibration`` (checked by :func:`check_calibrations`).

    Returns
    -------
    dict
        Record name (``"default"``, the dry-voice record) -> its warnings
        (:attr:`Calibration.warnings`); records without any are left out.
    """
    from .default import DRY_VOICE

    out = {}
    for key in ("default", DRY_VOICE):
        record = calibration.get(key)
        if isinstance(record, Mapping):
            found = Calibration.from_dict(dict(record)).warnings
            if found:
                out[key] = found
    return out


def _check_record(key: str, record: Mapping[str, Any]) -> None:
    """One default-detector record, read as :class:`~vtract.detect.default.DefaultDetector` reads it."""
    from .default import DRY_VOICE
    from .dynamics import WITH_SHIMMER, DescriptorModel

    cal = Calibration.from_dict(dict(record))
    for name in ("fpr_bound", "n_speakers", "n_organic"):
        value = cal.metrics.get(name)
        if value is not None and not is_finite_number(value):
            raise CalibrationError(f"metrics.{name} is {value!r}, expected a number or null")
    if cal.statistic != "dynamics":
        if key == DRY_VOICE:
            raise CalibrationError("a dry-voice calibration must be a tract-dynamics model")
        return
    model = DescriptorModel.from_dict(cal.model)
    unknown = [n for n in model.names if n not in WITH_SHIMMER]
    if unknown:
        raise CalibrationError(
            f"the descriptor model uses unknown descriptor(s) {unknown}; vtract measures "
            f"{list(WITH_SHIMMER)}"
        )
    if key == DRY_VOICE and "log_shimmer" not in model.names:
        raise CalibrationError("a dry-voice model must use log_shimmer")
    ranges = model.info.get("organic_quantiles", {})
    if not isinstance(ranges, Mapping) or not all(
        isinstance(v, list) and len(v) == 3 and all(is_finite_number(x) for x in v)
        for v in ranges.values()
    ):
        raise CalibrationError(
            "model.info.organic_quantiles must map each descriptor to its three organic "
            "quantiles (5 %, 50 %, 95 %)"
        )


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "number" if isinstance(value, (int, float)) else type(value).__name__
