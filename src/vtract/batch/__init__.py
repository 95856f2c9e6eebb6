"""Batch analysis at scale: many evidence files on all cores or a Dask cluster.

- :func:`analyze_many` (also ``vtract.analyze_many`` and ``vtract batch``):
  analyse files, folders, globs or a CSV manifest into a Parquet/CSV table,
  streamed, atomic and resumable.
- :func:`map_files`: the generic engine (any picklable per-file function),
  for building references and calibrations over a corpus.
- :func:`discover_inputs`, :func:`read_manifest`, :class:`BatchInput`:
  input discovery.

Modules: :mod:`~vtract.batch.inputs`, :mod:`~vtract.batch.manifest`,
:mod:`~vtract.batch.runners`, :mod:`~vtract.batch.sinks`,
:mod:`~vtract.batch.output`, :mod:`~vtract.batch.rows`,
:mod:`~vtract.batch.reports`, :mod:`~vtract.batch.analyze_many`,
:mod:`~vtract.batch.dask_worker`.
Heavy libraries (joblib, dask, pyarrow, tqdm) are imported when used.
"""

from __future__ import annotations

from .analyze_many import AnalyzeTask, BatchResult, analyze_many
from .errors import BackendError, BatchError, OutputError
from .inputs import AUDIO_EXTENSIONS, BatchInput, LeftOut, discover_inputs, hash_inputs
from .manifest import read_manifest
from .output import BatchOutput
from .rows import BIGRAM_COLUMNS, RESULT_COLUMNS
from .runners import BACKENDS, FileOutcome, map_files

__all__ = [
    "AUDIO_EXTENSIONS",
    "BACKENDS",
    "BIGRAM_COLUMNS",
    "RESULT_COLUMNS",
    "AnalyzeTask",
    "BackendError",
    "BatchError",
    "BatchInput",
    "BatchOutput",
    "BatchResult",
    "FileOutcome",
    "LeftOut",
    "OutputError",
    "analyze_many",
    "discover_inputs",
    "hash_inputs",
    "map_files",
    "read_manifest",
]
