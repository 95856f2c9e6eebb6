"""The Dask backend on a real LocalCluster gives the loky table."""

from __future__ import annotations

import numpy as np
import pytest

from _batch_fakes import fake_analyze, make_corpus
from vtract.batch import BackendError, analyze_many

distributed = pytest.importorskip("distributed", reason="dask[distributed] not installed")


@pytest.mark.slow
def test_dask_local_cluster_matches_loky(tmp_path):
    folder = tmp_path / "évidence dir"
    make_corpus(folder, n=4)
    kw = {"per_file": fake_analyze, "quiet": True, "n_jobs": 2, "threads_per_worker": 1}
    loky = analyze_many(folder, out=tmp_path / "loky.parquet", **kw).table()
    # backend="dask" without a scheduler starts (and closes) a LocalCluster of
    # 2 single-threaded worker processes
    res = analyze_many(folder, out=tmp_path / "dask.parquet", backend="dask", **kw)
    dask = res.table()
    assert (res.done, res.failed) == (4, 1)
    assert dask["path"].tolist() == loky["path"].tolist()
    assert dask["verdict"].fillna("").tolist() == loky["verdict"].fillna("").tolist()
    np.testing.assert_array_equal(dask["score"].to_numpy(), loky["score"].to_numpy())
    assert dask["error_type"].fillna("").tolist() == loky["error_type"].fillna("").tolist()
    ok = dask.dropna(subset=["verdict"])
    assert all("NUMBA_NUM_THREADS=1" in w for w in ok["warnings"])


def test_multithreaded_dask_workers_are_refused(tmp_path):
    folder = tmp_path / "in"
    make_corpus(folder, n=1, bad=False)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with pytest.raises(BackendError, match="one task at a time"):
            analyze_many(folder, out=tmp_path / "r.csv", scheduler=client, per_file=fake_analyze)
        assert not client.status == "closed"  # a client we were given is left open
    assert not (tmp_path / "r.csv").exists()


def test_bad_scheduler_is_a_clear_error(tmp_path):
    folder = tmp_path / "in"
    make_corpus(folder, n=1, bad=False)
    with pytest.raises(BackendError):
        analyze_many(folder, scheduler=42, per_file=fake_analyze, quiet=True)
