"""The tutorials run top to bottom in quick mode and draw their figures; notebooks are in sync.

Each tutorial runs as a script in a fresh process (``KERAS_LATENT_TUTORIAL_QUICK=1``, figures
into a temporary folder, the default backend); the test checks its exit status and that every
figure it promises exists and is not blank. Tutorials that read MNIST skip where the IDX files
are absent (see the ``mnist_dir`` fixture).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import REPO

TUTORIALS = REPO / "tutorials"

# tutorial -> (needs MNIST, the figures it writes)
EXPECTED = {
    "01_quickstart": (
        True,
        ["01_reconstructions", "01_one_pair", "01_interpolation_acai", "01_interpolation_ae"],
    ),
    "02_lines_benchmark": (
        False,
        [
            "02_lines",
            "02_metric_examples",
            "02_fresh_interpolations",
            "02_shipped_interpolations",
            "02_scores",
        ],
    ),
    "03_eccentric_regularization": (
        True,
        ["03_hypersphere", "03_spectrum", "03_traversals", "03_samples"],
    ),
    "04_your_own_data": (False, ["04_shapes", "04_interpolations"]),
    "05_representation_learning": (True, ["05_accuracies", "05_latent_pca"]),
    "06_backends_and_devices": (False, ["06_backends", "06_mixed_precision"]),
}
TIMEOUT_S = 900  # a hung tutorial fails instead of blocking CI


def test_every_tutorial_is_tested():
    scripts = sorted(path.stem for path in TUTORIALS.glob("[0-9][0-9]_*.py"))
    assert scripts == sorted(EXPECTED)


def run_tutorial(name, tmp_path, data_dir=None):
    output = tmp_path / "figures"
    env = dict(
        os.environ,
        KERAS_LATENT_TUTORIAL_QUICK="1",
        KERAS_LATENT_TUTORIAL_OUTPUT=str(output),
        KERAS_LATENT_HOME=str(tmp_path / "home"),
        TF_CPP_MIN_LOG_LEVEL="3",
        MPLBACKEND="Agg",
    )
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    if data_dir is not None:
        env["KERAS_LATENT_DATA"] = str(data_dir)
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / f"{name}.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"{name}.py failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-5000:]}"
    )
    return output


def assert_figure(path):
    """``path`` is a PNG with visible content: its pixels are not all one colour."""
    import matplotlib.image

    assert path.is_file(), f"figure {path.name} was not written"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) >= 50, f"{path.name}: {pixels.shape}"
    assert float(np.std(pixels[..., :3])) > 0.02, f"{path.name} is blank"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tutorial_runs_and_draws_its_figures(name, tmp_path, request):
    needs_mnist, figures = EXPECTED[name]
    data_dir = request.getfixturevalue("mnist_dir") if needs_mnist else None  # may skip
    output = run_tutorial(name, tmp_path, data_dir)
    for figure in figures:
        assert_figure(output / f"{figure}.png")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_matches_its_script(name):
    """The ``.ipynb`` beside each script holds the same cells (render it with
    ``jupytext --to ipynb tutorials/NN_name.py`` after editing the script)."""
    jupytext = pytest.importorskip("jupytext", reason="jupytext is in the test extra")
    script = jupytext.read(TUTORIALS / f"{name}.py")
    notebook_path = TUTORIALS / f"{name}.ipynb"
    assert notebook_path.is_file(), f"{notebook_path.name} is missing: run jupytext --to ipynb"
    notebook = jupytext.read(notebook_path)
    expected = [(cell.cell_type, cell.source) for cell in script.cells]
    actual = [(cell.cell_type, cell.source) for cell in notebook.cells]
    assert actual == expected, (
        f"{notebook_path.name} is out of date with {name}.py: "
        f"run `jupytext --to ipynb tutorials/{name}.py`"
    )
