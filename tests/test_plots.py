import matplotlib.image
import numpy as np
import pytest

from keras_latent import plots


def test_tile_places_rows_and_columns():
    images = np.full((2, 3, 4, 5, 1), -1.0)
    images[1, 2] = 1.0  # last column of the second row is white
    grid = plots.tile(images)
    assert grid.shape == (8, 15, 1)
    assert grid[4:, 10:].min() == 1.0 and grid[:4].max() == 0.0


def test_save_interpolations_writes_a_png(tmp_path):
    frames = np.linspace(-1, 1, 2 * 4 * 8 * 8).reshape(2, 4, 8, 8, 1)
    path = plots.save_interpolations(frames, tmp_path / "grid.png", title="t")
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image[..., :3].std() > 0.1
    colour = plots.save_grid(np.zeros((1, 2, 8, 8, 3)), tmp_path / "rgb.png")
    assert colour.exists()
    with pytest.raises(ValueError, match="rows, cols"):
        plots.tile(np.zeros((2, 8, 8, 1)))


def test_interpolations_framed_by_their_inputs(tmp_path):
    frames = np.zeros((2, 4, 8, 8, 1))
    x_a, x_b = np.full((2, 8, 8, 1), -1.0), np.ones((2, 8, 8, 1))
    path = plots.save_interpolations(frames, tmp_path / "g.png", endpoints=(x_a, x_b))
    image = matplotlib.image.imread(path)[..., 0]
    band = image[-image.shape[0] // 4 :]  # bottom rows: the grid (the title band is above it)
    assert band[:, : band.shape[1] // 12].mean() < 0.1  # first column: input A (black)
    assert band[:, -band.shape[1] // 12 :].mean() > 0.9  # last column: input B (white)
    with pytest.raises(ValueError, match="endpoints must each have shape"):
        plots.save_interpolations(frames, tmp_path / "h.png", endpoints=(x_a[:1], x_b))


def test_save_component_traversals_writes_one_row_per_component(tmp_path, random_images):
    from keras_latent.models import Autoencoder
    from tests.helpers import TINY

    model = Autoencoder(**TINY, seed=0)
    path = plots.save_component_traversals(
        model, random_images(40), tmp_path / "pcs.png", components=3, steps=5
    )
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[1] > image.shape[0]  # 5 columns, 3 rows
    with pytest.raises(ValueError, match="components must lie in"):
        plots.save_component_traversals(model, random_images(40), tmp_path / "x.png", 257)


def test_show_prints_the_path_outside_ipython(tmp_path, capsys):
    path = tmp_path / "figure.png"
    plots.show(path)
    assert capsys.readouterr().out.strip() == f"figure: {path}"
