"""Run one function over many evidence files on a process pool or a Dask cluster.

:func:`map_files` is the engine under :func:`vtract.analyze_many`, and the
one to use for any other per-file job over a corpus (building a reference,
calibrating thresholds): give it a picklable function of one
:class:`~vtract.batch.inputs.BatchInput` and it yields one
:class:`FileOutcome` per input as they finish, with a failure captured as an
error instead of stopping the run. For example, extracting features for a
reference::

    from vtract.batch import discover_inputs, map_files

    def features_of(item):                       # module-level: picklable
        ev = vtract.load(item.path)
        al = vtract.read_alignment(item.textgrid, for_audio=item.path) if item.textgrid else vtract.align(ev, item.transcript)
        return extract_features(ev, al, speaker=item.speaker, label=item.label)

    for outcome in map_files(features_of, discover_inputs("corpus.csv"), n_jobs=2):
        if outcome.ok:
            write(outcome.value)                 # stream to disk; do not accumulate
        else:
            log(outcome.item.path, outcome.error_type, outcome.error_message)

Backends
--------
``"loky"`` (default)
    joblib's loky process pool on this machine. Each worker is a separate
    process (so each keeps its own pocketsphinx decoder) and its Numba /
    OpenMP / BLAS threads are limited to ``threads_per_worker`` (default:
    cores // workers) so the workers do not oversubscribe the cores. A worker
    that dies (segfault, out of memory) is replaced; the inputs it may have
    been running are retried one at a time and the one that kills a worker
    again becomes an error.
``"dask"``
    ``dask.distributed``: a cluster at ``scheduler`` (``"tcp://host:8786"``
    or a :class:`distributed.Client`), or a ``LocalCluster`` of ``n_jobs``
    single-threaded worker processes when no scheduler is given. Workers
    must run one task at a time (``dask worker --nthreads 1``) because the
    aligner is per process and not thread-safe. Needs ``vtract[dask]``.
``"serial"``
    In this process, one file after the other (debugging, tiny inputs);
    each outcome reaches ``on_outcome`` as soon as its file is done.

Order
-----
With ``ordered=True`` outcomes come in input order whatever the backend, so
two backends give identical tables. The pool still runs ahead by a bounded
window (``max_pending``), so memory stays constant with the number of files.
``on_outcome`` sees every outcome the moment it is known (completion order),
so a caller can make it durable (:func:`vtract.analyze_many` journals it)
even while it waits in the window for an earlier, slower file.

Interruption
------------
When the consumer stops early (an exception such as ``KeyboardInterrupt``
in this process, or closing the generator), pending work is cancelled and
the workers are stopped at once: the loky executor is shut down with
``kill_workers=True``, Dask futures are cancelled and a local cluster is
closed, and Dask's shutdown log lines are silenced. The worker processes of
a local cluster ignore SIGINT (:mod:`vtract.batch.dask_worker`), so a
terminal's Ctrl-C, which reaches them too, no longer makes each print its
own traceback: this process stops them.
"""

from __future__ import annotations

import collections
import concurrent.futures
import math
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputFileError, VtractError
from .errors import BackendError
from .inputs import BatchInput, discover_inputs
from .progress import progress_bar

__all__ = ["BACKENDS", "FileOutcome", "available_cores", "map_files", "thread_limit_env"]

#: Backends understood by :func:`map_files`.
BACKENDS = ("loky", "dask", "serial")

#: Environment variables that cap the thread pools of native libraries.
THREAD_VARS = (
    "NUMBA_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input.

    Attributes
    ----------
    item : BatchInput
        The input.
    index : int
        Its position in the input list.
    value : object
        What the function returned (``None`` on failure).
    error_type, error_message : str or None
        Exception class name and message when the function failed (or the
        worker running it died).
    elapsed_s : float
        Wall time of the call in the worker (s).
    cpu_s : float
        CPU time of the worker process during the call (s, all its threads).
    worker : str
        ``host:pid`` of the process that ran it.
    worker_maxrss_mb : float
        Peak resident memory of that worker process so far (MiB; NaN where
        the platform does not say).
    """

    item: BatchInput
    index: int
    value: Any = None
    error_type: str | None = None
    error_message: str | None = None
    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    worker: str = ""
    worker_maxrss_mb: float = math.nan

    @property
    def ok(self) -> bool:
        """True when the function returned normally."""
        return self.error_type is None


def available_cores() -> int:
    """Cores this process may run on (CPU affinity aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def thread_limit_env(threads: int) -> dict[str, str]:
    """Environment capping native thread pools (Numba, OpenMP, BLAS) at ``threads``."""
    return {var: str(int(threads)) for var in THREAD_VARS}


def map_files(
    func: Callable[[BatchInput], Any],
    inputs: Sequence[BatchInput] | Iterable[Any],
    *,
    n_jobs: int | None = None,
    backend: str = "loky",
    scheduler: Any = None,
    ordered: bool = True,
    threads_per_worker: int | None = None,
    progress: bool | None = None,
    desc: str = "files",
    max_pending: int | None = None,
    allow_threaded_workers: bool = False,
    on_outcome: Callable[[FileOutcome], None] | None = None,
) -> Iterator[FileOutcome]:
    """Apply ``func`` to every input in parallel, yielding outcomes as they finish.

    Parameters
    ----------
    func : callable
        Picklable function (defined at module level) taking one
        :class:`BatchInput` and returning anything picklable. Exceptions it
        raises become failed outcomes; the run goes on. Inputs with a
        ``problem`` (e.g. a manifest row naming a missing file) fail with
        :class:`~vtract.errors.InputFileError` without calling it.
    inputs : sequence of BatchInput, or anything :func:`discover_inputs` takes
        What to process.
    n_jobs : int, optional
        Worker processes (default: the cores available; ``-1`` also means
        all cores; never more than there are inputs). Ignored with a
        ``scheduler`` (the cluster decides).
    backend : {"loky", "dask", "serial"}, default "loky"
        See the module documentation.
    scheduler : str or distributed.Client, optional
        Dask scheduler address or client; implies ``backend="dask"``.
    ordered : bool, default True
        Yield in input order (deterministic) rather than completion order.
    threads_per_worker : int, optional
        Numba/OpenMP/BLAS threads per worker (default cores // n_jobs, at
        least 1; 1 on a remote Dask cluster). Not applied by the serial
        backend.
    progress : bool, optional
        Progress bar on stderr (files/s and ETA). Default: only when stderr
        is a terminal.
    desc : str, default "files"
        Progress bar label.
    max_pending : int, optional
        Inputs submitted but not yet yielded (default 4 per worker, at
        least 8). Bounds memory.
    allow_threaded_workers : bool, default False
        Accept Dask workers running several tasks at once (only for
        thread-safe ``func``; vtract's aligner is not).
    on_outcome : callable, optional
        Called in this process with each outcome as soon as it is known (in
        completion order, before it is yielded), e.g. to journal it so that
        an interrupted ordered run loses nothing that finished.

    Yields
    ------
    FileOutcome
        One per input.

    Raises
    ------
    BackendError
        Unknown backend, bad ``n_jobs``, Dask not installed or its workers
        multi-threaded.
    """
    if not callable(func):
        raise BackendError(f"func must be callable, got {type(func).__name__}")
    if scheduler is not None:
        backend = "dask"
    if backend not in BACKENDS:
        raise BackendError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    items = _as_items(inputs)
    n = min(_n_jobs(n_jobs), max(1, len(items)))  # no idle workers to start
    if threads_per_worker is not None:
        threads = threads_per_worker
    elif scheduler is not None:  # remote workers: one task per worker process, one thread each
        threads = 1
    else:
        threads = max(1, available_cores() // n)
    if not isinstance(threads, int) or threads < 1:
        raise BackendError(f"threads_per_worker must be a positive integer, got {threads!r}")
    window = max_pending if max_pending is not None else max(8, 4 * n)
    if not isinstance(window, int) or window < 1:
        raise BackendError(f"max_pending must be a positive integer, got {window!r}")
    return _drive(
        func,
        items,
        backend,
        n,
        threads,
        scheduler,
        ordered,
        progress,
        desc,
        window,
        allow_threaded_workers,
        on_outcome,
    )


def _as_items(inputs: Any) -> list[BatchInput]:
    if (
        isinstance(inputs, Sequence)
        and not isinstance(inputs, str)
        and all(isinstance(i, BatchInput) for i in inputs)
    ):
        return list(inputs)
    return discover_inputs(inputs)


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None or n_jobs == -1:
        return available_cores()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise BackendError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    return n_jobs


# --------------------------------------------------------------------------- worker side


def _limit_threads(threads: int | None) -> None:
    """Cap Numba threads in this worker (env before import, API after)."""
    if threads is None:
        return
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(threads, int(numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    else:
        os.environ.update(thread_limit_env(threads))


def _maxrss_mb() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return math.nan
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def one_line(message: str) -> str:
    """A message on one line (newlines and their indentation become one space)."""
    return re.sub(r"\s*\n\s*", " ", message).strip()


def run_one(
    func: Callable[[BatchInput], Any], item: BatchInput, index: int, threads: int | None
) -> FileOutcome:
    """Call ``func(item)`` in a worker and capture the result or the failure."""
    _limit_threads(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    value = None
    error_type = error_message = None
    try:
        if item.problem is not None:
            raise InputFileError(item.problem)
        value = func(item)
    except VtractError as exc:
        error_type, error_message = type(exc).__name__, one_line(str(exc) or type(exc).__name__)
    except Exception as exc:  # a bug on one file must not stop the batch; it is reported
        error_type = type(exc).__name__
        error_message = one_line(f"unexpected {type(exc).__name__}: {exc}")
    return FileOutcome(
        item=item,
        index=index,
        value=value,
        error_type=error_type,
        error_message=error_message,
        elapsed_s=time.perf_counter() - t0,
        cpu_s=time.process_time() - c0,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        worker_maxrss_mb=_maxrss_mb(),
    )


# --------------------------------------------------------------------------- pools


class _SerialPool:
    """Runs the tasks in this process, one at a time, when the driver waits for them.

    A submitted task only runs in :meth:`wait_first`, which runs the earliest one
    and returns it alone, so the driver hands each outcome to ``on_outcome`` (the
    journal) the moment it is known. Until session 30 every task ran when it was
    submitted, so a whole submission window was analysed before the first of it
    was journaled, and an interrupt lost the finished files of that window.
    """

    def __init__(self, func: Callable[[BatchInput], Any]) -> None:
        self.func = func
        self._queued: dict[concurrent.futures.Future[FileOutcome], tuple[BatchInput, int]] = {}

    def submit(self, item: BatchInput, index: int) -> concurrent.futures.Future[FileOutcome]:
        fut: concurrent.futures.Future[FileOutcome] = concurrent.futures.Future()
        self._queued[fut] = (item, index)
        return fut

    def wait_first(self, futures: list[Any]) -> set[Any]:
        fut = futures[0]  # the earliest submitted: the driver keeps submission order
        item, index = self._queued.pop(fut)
        fut.set_result(run_one(self.func, item, index, None))
        return {fut}

    def is_crash(self, exc: BaseException) -> bool:
        return False

    def close(self, abort: bool = False) -> None:
        for fut in self._queued:
            fut.cancel()
        self._queued.clear()


class _LokyPool:
    def __init__(self, func: Callable[[BatchInput], Any], n: int, threads: int) -> None:
        from joblib.externals.loky import get_reusable_executor

        self._get = get_reusable_executor
        self.func, self.n, self.threads = func, n, threads
        self.executor = self._executor()

    def _executor(self) -> Any:
        return self._get(max_workers=self.n, env=thread_limit_env(self.threads), timeout=30)

    def submit(self, item: BatchInput, index: int) -> Any:
        try:
            return self.executor.submit(run_one, self.func, item, index, self.threads)
        except concurrent.futures.BrokenExecutor:
            self.executor = self._executor()
            return self.executor.submit(run_one, self.func, item, index, self.threads)

    def wait_first(self, futures: list[Any]) -> set[Any]:
        done, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
        return set(done)

    def is_crash(self, exc: BaseException) -> bool:
        if isinstance(exc, concurrent.futures.BrokenExecutor):
            self.executor = self._executor()
            return True
        return False

    def close(self, abort: bool = False) -> None:
        """Keep the reusable executor (idle workers exit after ``timeout`` s) unless aborting.

        On abort (Ctrl-C, SIGTERM, an error in the consumer) the workers are
        killed at once: a running analysis would otherwise go on for its full
        duration (tens of seconds) and its result be thrown away.
        """
        if abort:
            self.executor.shutdown(wait=False, kill_workers=True)


#: Seconds ``distributed.Client`` gets to connect to a scheduler (its own timeout, which
#: covers the TCP connection), and the deadline vtract sets on the whole start, handshake
#: included (a peer that accepts the connection and never answers, e.g. the dashboard
#: port 8787 given for the scheduler's 8786, kept the client waiting for ever).
SCHEDULER_CONNECT_TIMEOUT_S = 20.0
SCHEDULER_START_DEADLINE_S = 30.0


def _connect_scheduler(distributed: Any, scheduler: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``scheduler``, or a one-line BackendError.

    The address is checked first ("tcp://host:8786": a URL copied from the dashboard,
    ``http://...``, or a missing port raised a bare ``ValueError``), and any failure of
    the start (a non-Dask peer's banner read as a frame length raised ``MemoryError``) is
    reported as not reaching the scheduler, as is a start that outlasts
    :data:`SCHEDULER_START_DEADLINE_S` (session 31 probe F3, F4).
    """
    import threading

    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    hint = "expected an address like 'tcp://host:8786' (the scheduler's port, not the dashboard's)"
    try:
        scheme, location = parse_address(scheduler)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise BackendError(
            f"Dask scheduler address {scheduler!r} is not usable ({exc}); {hint}"
        ) from None
    outcome: dict[str, Any] = {}

    def start() -> None:
        try:
            outcome["client"] = distributed.Client(
                scheduler, timeout=f"{SCHEDULER_CONNECT_TIMEOUT_S:g}s"
            )
        except BaseException as exc:  # reported below, in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=start, name="vtract-dask-connect", daemon=True)
    thread.start()
    thread.join(SCHEDULER_START_DEADLINE_S)
    if thread.is_alive():
        raise BackendError(
            f"Dask scheduler {scheduler!r} did not answer within "
            f"{SCHEDULER_START_DEADLINE_S:g} s (the connection was accepted, but no Dask "
            f"handshake came back): is it a Dask scheduler? {hint}"
        )
    error = outcome.get("error")
    if error is not None:
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise error
        raise BackendError(
            f"cannot reach Dask scheduler {scheduler!r}: {type(error).__name__}: {error}"
        ) from None
    return outcome["client"]


class _DaskPool:
    def __init__(
        self,
        func: Callable[[BatchInput], Any],
        n: int,
        threads: int,
        scheduler: Any,
        allow_threaded: bool,
    ) -> None:
        try:
            import distributed
        except ImportError:
            raise BackendError(
                "the dask backend needs dask.distributed: pip install 'vtract[dask]'"
            ) from None
        self._distributed = distributed
        self.func, self.threads = func, threads
        self._func_future: Any = None
        self.cluster = None
        self._own_client = True
        if scheduler is None:
            self.cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # random port: never clashes with another cluster
                env=thread_limit_env(threads),
                silence_logs=40,
                # its workers ignore the terminal's Ctrl-C: this process stops them
                preload=["vtract.batch.dask_worker"],
            )
            self.client = distributed.Client(self.cluster)
        elif isinstance(scheduler, distributed.Client):
            self.client, self._own_client = scheduler, False
        elif isinstance(scheduler, str):
            self.client = _connect_scheduler(distributed, scheduler)
        else:
            raise BackendError(
                f"scheduler must be an address like 'tcp://host:8786' or a distributed.Client, "
                f"got {type(scheduler).__name__}"
            )
        if not allow_threaded:
            workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
            threaded = {
                w: d.get("nthreads") for w, d in workers.items() if d.get("nthreads", 1) > 1
            }
            if threaded:
                self.close()
                raise BackendError(
                    "Dask workers must run one task at a time (the aligner is one per process "
                    f"and not thread-safe); these have more threads: {threaded}. Start them "
                    "with 'dask worker --nthreads 1'."
                )

    def submit(self, item: BatchInput, index: int) -> Any:
        if self._func_future is None:  # ship the function (and what it holds) once per worker
            try:
                self._func_future = self.client.scatter(self.func, broadcast=True, hash=False)
            except Exception as exc:
                raise BackendError(
                    "cannot send the per-file function to the Dask workers "
                    f"({one_line(str(exc)) or type(exc).__name__}); the workers need the same "
                    "vtract version and any module the function comes from"
                ) from None
        return self.client.submit(run_one, self._func_future, item, index, self.threads, pure=False)

    def wait_first(self, futures: list[Any]) -> set[Any]:
        done, _ = self._distributed.wait(futures, return_when="FIRST_COMPLETED")
        return set(done)

    def is_crash(self, exc: BaseException) -> bool:
        return False  # the scheduler already retries tasks on lost workers (KilledWorker)

    def close(self, abort: bool = False) -> None:
        if abort:
            import logging

            # the scheduler and nannies log each worker they lose while shutting down
            for name in ("distributed", "distributed.scheduler", "distributed.nanny"):
                logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        if self._own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# --------------------------------------------------------------------------- driver


def _drive(
    func: Callable[[BatchInput], Any],
    items: list[BatchInput],
    backend: str,
    n: int,
    threads: int,
    scheduler: Any,
    ordered: bool,
    progress: bool | None,
    desc: str,
    window: int,
    allow_threaded: bool,
    on_outcome: Callable[[FileOutcome], None] | None,
) -> Iterator[FileOutcome]:
    if not items:
        return  # start no pool for nothing
    pool: Any
    if backend == "serial":
        pool = _SerialPool(func)
    elif backend == "loky":
        pool = _LokyPool(func, n, threads)
    else:
        pool = _DaskPool(func, n, threads, scheduler, allow_threaded)
    bar = progress_bar(total=len(items), desc=desc, enabled=progress)
    pending: dict[Any, tuple[int, bool]] = {}  # future -> (index, run in isolation)
    buffered: dict[int, FileOutcome] = {}
    suspects: collections.deque[int] = collections.deque()
    next_new = 0
    next_out = 0
    failed = 0
    finished = False
    try:
        while True:
            # Fill: suspects of a worker crash run alone so the culprit is known.
            if suspects:
                if not pending:
                    i = suspects.popleft()
                    pending[pool.submit(items[i], i)] = (i, True)
            else:
                while next_new < len(items) and len(pending) + len(buffered) < window:
                    pending[pool.submit(items[next_new], next_new)] = (next_new, False)
                    next_new += 1
            if not pending:
                break
            for fut in pool.wait_first(list(pending)):
                index, isolated = pending.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:
                    if pool.is_crash(exc) and not isolated:
                        suspects.append(index)
                        continue
                    outcome = FileOutcome(
                        item=items[index],
                        index=index,
                        error_type=type(exc).__name__,
                        error_message=one_line(
                            f"the worker process died or failed while processing this file: {exc}"
                        ),
                    )
                if on_outcome is not None:
                    on_outcome(outcome)
                if not outcome.ok:
                    failed += 1
                bar.update(1)
                bar.set_postfix(failed=failed, refresh=False)
                if ordered:
                    buffered[index] = outcome
                else:
                    yield outcome
            while next_out in buffered:
                yield buffered.pop(next_out)
                next_out += 1
        finished = True
    finally:
        bar.close()
        for fut in pending:
            fut.cancel()
        pool.close(abort=not finished)
