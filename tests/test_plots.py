import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from keras_latent import plots


@pytest.fixture
def figures():
    """Figures a test builds with ``plots.grid_figure``, closed after it."""
    made = []

    def build(*args, **kwargs):
        made.append(plots.grid_figure(*args, **kwargs))
        return made[-1]

    yield build
    for figure in made:
        plt.close(figure)


def texts(figure):
    """``{string: Text}`` of every text drawn in ``figure`` (figure and axes texts)."""
    found = list(figure.texts) + [t for axes in figure.axes for t in axes.texts]
    return {t.get_text(): t for t in found}


def assert_inside(figure):
    """Every text of ``figure`` lies within it: nothing is cut off at an edge."""
    figure.canvas.draw()
    box = figure.bbox
    for string, text in texts(figure).items():
        extent = text.get_window_extent()
        assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, f"{string!r} leaves the sides"
        assert extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1, f"{string!r} leaves the top"


def test_tile_places_rows_and_columns():
    images = np.full((2, 3, 4, 5, 1), -1.0)
    images[1, 2] = 1.0  # last column of the second row is white
    grid = plots.tile(images)
    assert grid.shape == (8, 15, 1)
    assert grid[4:, 10:].min() == 1.0 and grid[:4].max() == 0.0
    with pytest.raises(ValueError, match="rows, cols"):
        plots.tile(np.zeros((2, 8, 8, 1)))


def test_tile_separates_cells_by_gaps_of_the_fill():
    grid = plots.tile(np.full((2, 3, 4, 5, 1), -1.0), gap=(3, 2), fill=1.0)
    assert grid.shape == (2 * 4 + 3, 3 * 5 + 2 * 2, 1)
    assert grid[4:7].min() == 1.0  # the gap between the rows
    assert grid[:, 5:7].min() == 1.0 and grid[:, 12:14].min() == 1.0  # between the columns
    assert grid[:4, :5].max() == 0.0  # a cell


def test_grid_layout_is_readable(figures):
    """Cells scaled to about CELL_PIXELS with white gaps; title, labels at readable sizes."""
    images = np.full((2, 3, 32, 32, 1), -1.0)
    title = "a title long enough to need wrapping onto more than one line of this narrow figure"
    figure = figures(
        [{"images": images, "row_labels": ["first", "second"], "col_labels": ["a", "b", "c"]}],
        title=title,
    )
    assert len(figure.axes) == 1  # one axes holds the grid
    width, height = figure.get_size_inches()
    cell = 32 * round(plots.CELL_PIXELS / 32) / plots.DPI  # inches a cell takes
    assert cell >= 0.6 and width > 3 * cell and height > 2 * cell
    grid = figure.axes[0].images[0].get_array()
    gap = (grid.shape[1] - 3 * 32) // 2  # image pixels between two columns
    assert gap >= 2 and grid.shape[0] == 2 * 32 + gap
    assert np.all(grid[:, 32 : 32 + gap] == 1.0), "no white gap between the cells"
    assert np.all(grid[32 : 32 + gap] == 1.0), "no white gap between the rows"
    written = texts(figure)
    assert {"first", "second", "a", "b", "c"} <= set(written)
    (heading,) = [t for s, t in written.items() if s.startswith("a title")]
    assert heading.get_fontsize() >= 12 and "\n" in heading.get_text()  # wrapped to the width
    for label in ("first", "a"):
        assert written[label].get_fontsize() >= 10
    assert_inside(figure)


def test_labels_must_match_the_grid(tmp_path):
    images = np.zeros((2, 3, 8, 8, 1))
    with pytest.raises(ValueError, match="row_labels must have 2 entries, got 1"):
        plots.save_grid(images, tmp_path / "a.png", row_labels=["one"])
    with pytest.raises(ValueError, match="col_labels must have 3 entries"):
        plots.save_grid(images, tmp_path / "b.png", col_labels=["a", "b"])
    with pytest.raises(ValueError, match="each row of captions must have 3 entries"):
        plots.save_grid(images, tmp_path / "c.png", captions=[["x"], ["y"]])
    with pytest.raises(ValueError, match="every block must have the same"):
        plots.save_panels(
            [{"images": images}, {"images": np.zeros((2, 4, 8, 8, 1))}], tmp_path / "d.png"
        )
    with pytest.raises(ValueError, match="at least one block"):
        plots.save_panels([], tmp_path / "e.png")
    assert not list(tmp_path.iterdir())


def test_save_interpolations_writes_a_png(tmp_path):
    frames = np.linspace(-1, 1, 2 * 4 * 8 * 8).reshape(2, 4, 8, 8, 1)
    path = plots.save_interpolations(frames, tmp_path / "grid.png", title="t")
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image[..., :3].std() > 0.1
    assert image.shape[1] >= 4 * plots.CELL_PIXELS  # 4 cells, each scaled up to 64 pixels
    colour = plots.save_grid(np.zeros((1, 2, 8, 8, 3)), tmp_path / "rgb.png")
    assert matplotlib.image.imread(colour).shape[-1] >= 3


def test_interpolations_framed_by_their_inputs(tmp_path, figures):
    """Several pairs: one per row, the inputs first and last, the columns labelled."""
    frames = np.zeros((2, 4, 8, 8, 1))
    x_a, x_b = np.full((2, 8, 8, 1), -1.0), np.ones((2, 8, 8, 1))
    (block,) = plots.interpolation_blocks(frames, endpoints=(x_a, x_b))
    assert block["images"].shape == (2, 6, 8, 8, 1)
    assert block["col_labels"] == ["A", "t=0", "0.33", "0.67", "1", "B"]
    np.testing.assert_array_equal(block["images"][:, 0], x_a)
    np.testing.assert_array_equal(block["images"][:, -1], x_b)
    figure = figures([block])
    grid = figure.axes[0].images[0].get_array()
    assert grid[:8, :8].max() == 0.0 and grid[:8, -8:].min() == 1.0  # black A, white B
    assert_inside(figure)
    with pytest.raises(ValueError, match="endpoints must each have shape"):
        plots.save_interpolations(frames, tmp_path / "h.png", endpoints=(x_a[:1], x_b))


def test_one_pair_is_wrapped_into_a_captioned_grid(tmp_path, figures):
    """A one-pair interpolation of 18 cells is a 3 x 6 grid, not a strip of 18."""
    frames = np.zeros((1, 16, 32, 32, 1))
    ends = (np.full((1, 32, 32, 1), -1.0), np.ones((1, 32, 32, 1)))
    (block,) = plots.interpolation_blocks(frames, endpoints=ends)
    assert block["images"].shape[:2] == (3, 6)
    assert block["captions"][0][:2] == ["input A", "t=0"]
    assert block["captions"][2][4:] == ["t=1", "input B"]
    figure = figures([block], title="one pair")
    width, height = figure.get_size_inches()
    assert 1 < width / height < 2.5  # a block, not a strip
    written = texts(figure)
    assert written["t=0.53"].get_fontsize() >= plots.CAPTION_POINTS >= 10
    assert written["one pair"].get_fontsize() >= 12
    assert_inside(figure)
    # Cells that do not fill the last row are white and uncaptioned.
    (short,) = plots.interpolation_blocks(np.zeros((1, 10, 8, 8, 1)), endpoints=None)
    assert short["images"].shape[:2] == (2, 5) and "" not in short["captions"][1]
    (odd,) = plots.interpolation_blocks(np.zeros((1, 12, 8, 8, 1)))
    assert odd["images"].shape[:2] == (3, 5) and odd["captions"][2][-3:] == ["", "", ""]
    assert np.all(odd["images"][2, -3:] == 1.0)
    # Few cells stay one row.
    (row,) = plots.interpolation_blocks(np.zeros((1, 6, 8, 8, 1)))
    assert row["images"].shape[:2] == (1, 6) and "captions" not in row


def test_panels_stack_under_their_headings(tmp_path, figures):
    frames = np.zeros((2, 4, 8, 8, 1))
    panels = [
        *plots.interpolation_blocks(frames, heading="this run: 200 steps"),
        *plots.interpolation_blocks(frames, heading="shipped: 8,000 steps"),
    ]
    figure = figures(panels, title="two panels")
    assert len(figure.axes) == 2
    top, bottom = (axes.get_position() for axes in figure.axes)
    assert top.y0 > bottom.y1  # the first panel above the second, apart
    written = texts(figure)
    assert written["this run: 200 steps"].get_fontweight() == "bold"
    assert written["shipped: 8,000 steps"].get_fontsize() >= 10
    assert_inside(figure)
    assert plots.save_panels(panels, tmp_path / "panels.png").stat().st_size > 1000


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


def test_training_curves_draw_each_run_that_has_evaluations(tmp_path):
    evaluations = {
        "images_seen": [65536, 131072, 196608],
        "probe_accuracy": [0.8, 0.9, 0.95],
        "reconstruction_mse": [0.05, 0.03, 0.02],
    }
    runs = {"acai_mnist (ACAI)": evaluations, "ae_mnist (AE)": {}}  # the second not started
    path = plots.save_training_curves(
        runs, tmp_path / "curves.png", references={"paper": 0.99}, total_images=2**24
    )
    image = plt.imread(path)
    assert path == tmp_path / "curves.png" and image.shape[:2] == (420, 1100)
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # written atomically
