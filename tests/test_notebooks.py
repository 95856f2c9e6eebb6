"""Execute the notebooks top to bottom (nbclient, the venv's ``python3`` kernel)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _shared import needs_shared

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: Largest size of a notebook with its outputs (bytes): plots are drawn at 72 dpi.
MAX_EXECUTED_BYTES = 3_000_000


def _default_reference_available() -> bool:
    from vtract.errors import ReferenceError_

    try:
        import vtract

        vtract.default_reference()
    except ReferenceError_:
        return False
    return True


def execute(name: str, *, parameters: dict[str, str] | None = None) -> tuple[object, str]:
    """Run a notebook in its folder; optionally replace lines ``NAME = ...`` (parameters)."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and parameters:
            lines = cell.source.split("\n")
            for key, value in parameters.items():
                lines = [f"{key} = {value}" if ln.startswith(f"{key} = ") else ln for ln in lines]
            cell.source = "\n".join(lines)
    client = nbclient.NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    text = "\n".join(
        out.get("text", "") + json.dumps(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    size = len(nbformat.writes(nb).encode())
    assert size < MAX_EXECUTED_BYTES, f"{name}: executed notebook is {size} bytes"
    return nb, text


def test_notebooks_are_stored_without_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.slow
@pytest.mark.skipif(
    not _default_reference_available(),
    reason="the default reference is not installed (scripts/build_default_reference.py)",
)
def test_01_investigate_a_recording():
    _, text = execute("01_investigate_a_recording")
    assert "verdict: " in text and "report.html" in text


@pytest.mark.slow
@needs_shared
def test_02_build_a_reference():
    _, text = execute("02_build_a_reference")
    assert "threshold " in text and "calibrated: True" in text


@pytest.mark.slow
@needs_shared
def test_03_compare_organic_and_synthetic():
    _, text = execute("03_compare_organic_and_synthetic")
    assert "bigram occurrences in both recordings" in text
