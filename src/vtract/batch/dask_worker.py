"""Set-up of the worker processes of the local Dask cluster :func:`~vtract.batch.map_files` starts.

Loaded in each worker process as a Dask *preload* (``dask_setup`` runs
when the worker starts, and again in a worker the nanny restarts). The
worker processes of a ``LocalCluster`` are in the terminal's process group,
so a Ctrl-C reaches them as well as ``vtract batch``; each then printed its
own ``KeyboardInterrupt`` traceback over the one-line message of the main
process. They now ignore SIGINT: the main process stops them (it cancels
the futures and closes the cluster, which terminates its workers), so
nothing is lost by ignoring it. A Ctrl-C in the second or so before a
worker has loaded this module may still print one traceback.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["dask_setup"]


def dask_setup(worker: Any = None) -> None:
    """Make this worker process ignore SIGINT (its cluster's owner stops it).

    Parameters
    ----------
    worker : distributed.Worker, optional
        The worker being set up (unused).
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
