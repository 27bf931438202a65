"""Every notebook in notebooks/ runs from top to bottom on the recorded data."""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
# Notebooks that read a backtest's output folder from BACKTEST_DIR.
READ_BACKTEST = {"forecast_skill"}


@pytest.fixture(scope="session")
def small_backtest(shared_data, tmp_path_factory) -> Path:
    """Output folder of a backtest over the first four recorded polls."""
    from argus.backtest.run import BacktestRequest, run_backtest
    from argus.settings import Settings
    from models.baseline import PersistenceTrendForecaster

    cut = tmp_path_factory.mktemp("polls")
    snapshots = sorted((shared_data / "cwc_ffs" / "snapshots").glob("ffs_*.json.gz"))
    for path in snapshots[:4]:
        shutil.copyfile(path, cut / path.name)
    out = tmp_path_factory.mktemp("backtest")
    request = BacktestRequest(
        replay_dir=cut,
        out_dir=out,
        stations_file=shared_data / "cwc_ffs" / "stations_assam.json",
    )
    run_backtest(
        request,
        forecaster=PersistenceTrendForecaster(),
        settings=Settings(home=out / "home"),
    )
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, shared_data, monkeypatch, request):
    monkeypatch.setenv("DATA_DIR", str(shared_data))
    if path.stem in READ_BACKTEST:
        monkeypatch.setenv(
            "BACKTEST_DIR", str(request.getfixturevalue("small_backtest"))
        )
    notebook = nbformat.read(path, as_version=4)

    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()

    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    assert outputs


def test_forecast_skill_default_is_readme_out():
    """Without BACKTEST_DIR the notebook reads the README's `--out backtest-out`."""
    notebook_path = NOTEBOOKS[0].parent / "forecast_skill.ipynb"
    repo_root = notebook_path.parents[1]
    setup = nbformat.read(notebook_path, as_version=4).cells[1].source
    match = re.search(r'os\.environ\.get\("BACKTEST_DIR", "([^"]+)"\)', setup)
    readme = (repo_root / "README.md").read_text()

    assert match is not None
    assert "--out backtest-out" in readme
    # A notebook's kernel starts in the notebook's folder.
    default = (notebook_path.parent / match.group(1)).resolve()
    assert default == repo_root / "backtest-out"
