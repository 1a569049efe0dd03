"""The lines data set: drawing geometry, test set, training stream."""

import importlib.util
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_latent.datasets.lines import (
    DRAWINGS,
    TEST_SEED,
    LinesStream,
    angle_labels,
    draw,
)
from keras_latent.datasets.lines import (
    test_set as lines_test_set,  # renamed: pytest would collect test_set
)

REPO = Path(__file__).resolve().parents[2]
RADIUS = 15  # size / 2 - 1 for 32x32


def _band(rows, cols):
    """A 32x32 image at -1 with +1 on rows x cols."""
    image = -np.ones((32, 32), dtype=np.float32)
    image[rows, cols] = 1
    return image


def _ink(images):
    """Summed coverage of each image: sum of (pixel + 1) / 2."""
    return ((images.astype(np.float64) + 1) / 2).sum(axis=(1, 2, 3))


def test_draw_shape_dtype_and_range():
    angles = np.random.default_rng(0).uniform(0, 2 * math.pi, 7)
    images = draw(angles)
    assert images.shape == (7, 32, 32, 1)
    assert images.dtype == np.float32
    assert images.min() == -1 and images.max() == 1
    assert np.any((images > -1) & (images < 1)), "diagonal lines are anti-aliased"
    assert draw(0.5).shape == (1, 32, 32, 1)
    assert draw([0.5, 1.0], size=8).shape == (2, 8, 8, 1)
    assert draw(np.empty(0)).shape == (0, 32, 32, 1)


@pytest.mark.parametrize(
    ("angle", "rows", "cols"),
    [
        (0.0, slice(15, 17), slice(16, 31)),  # right of the centre
        (math.pi / 2, slice(1, 16), slice(15, 17)),  # above
        (math.pi, slice(15, 17), slice(1, 16)),  # left
        (3 * math.pi / 2, slice(16, 31), slice(15, 17)),  # below
    ],
)
def test_draw_axis_aligned_lines_pixelwise(angle, rows, cols):
    np.testing.assert_allclose(draw(angle)[0, :, :, 0], _band(rows, cols), rtol=0, atol=1e-6)


def test_draw_small_image():
    expected = -np.ones((4, 4), dtype=np.float32)
    expected[1:3, 2] = 1  # radius 1 to the right of the centre (2, 2)
    np.testing.assert_array_equal(draw(0.0, size=4)[0, :, :, 0], expected)


def _official_draw_line(angle, size=32):
    """The official ACAI ``draw_line`` algorithm, one pixel row at a time, for reference.

    Major axis = the larger extent (rows on ties); endpoints ordered so the major coordinate
    grows from y0 to y1; rows int(y0) .. ceil(y1) - 1; the first row weighs ceil(y0) - y0 when
    y0 is fractional, every other row 1; the 2-wide span starts at minor(y - 1/2) - 1.
    """
    image = np.zeros((size, size))
    centre, radius = size / 2, size / 2 - 1
    ends = [
        (centre, centre),
        (centre - radius * math.sin(angle), centre + radius * math.cos(angle)),
    ]
    flip = abs(ends[1][0] - centre) < abs(ends[1][1] - centre)  # columns are the major axis
    if flip:
        ends = [(col, row) for row, col in ends]
    (y0, x0), (y1, x1) = sorted(ends)
    for y in range(int(y0), math.ceil(y1)):
        weight = math.ceil(y0) - y0 if y < math.ceil(y0) else 1.0
        start = x0 + (y - 0.5 - y0) * (x1 - x0) / (y1 - y0) - 1
        for x in range(size):
            covered = max(min(x + 1, start + 2) - max(x, start), 0.0)
            image[(x, y) if flip else (y, x)] += weight * covered
    return np.clip(2 * image - 1, -1, 1)


@pytest.mark.parametrize(
    ("angle", "pixels"),
    [
        # 30 degrees, columns major, lo = 16, hi = 16 + 15 cos 30 = 28.99: the last column (28)
        # counts whole; spans read at column - 1/2: minor(15.5) = 16 + 0.5 tan 30 = 16.289.
        (
            math.pi / 6,
            {
                (15, 16): 2 * (17 - 16.288675) - 1,
                (16, 16): 1.0,
                (17, 16): 2 * (17.288675 - 17) - 1,
                (8, 28): 2 * (9 - 8.360472) - 1,
                (10, 28): 2 * (10.360472 - 10) - 1,
                (9, 29): -1.0,
            },
        ),
        # 60 degrees, rows major, lo = 16 - 15 sin 60 = 3.0096: row 3 weighs 4 - lo = 0.9904,
        # row 16 (from hi = 16, the centre) is empty.
        (
            math.pi / 3,
            {
                (3, 22): 2 * 0.990381 * (23 - 22.794229) - 1,
                (3, 23): 2 * 0.990381 - 1,
                (3, 24): 2 * 0.990381 * 0.794229 - 1,
                (15, 15): 2 * (16 - 15.866025) - 1,
                (15, 16): 1.0,
                (15, 17): 2 * 0.866025 - 1,
                (16, 16): -1.0,
                (2, 23): -1.0,
            },
        ),
        # 210 degrees, columns major, lo = 3.0096: the 60-degree drawing transposed
        (
            7 * math.pi / 6,
            {
                (22, 3): 2 * 0.990381 * 0.205771 - 1,
                (23, 3): 2 * 0.990381 - 1,
                (15, 15): 2 * 0.133975 - 1,
                (17, 15): 2 * 0.866025 - 1,
            },
        ),
    ],
)
def test_official_drawing_pixels_by_hand(angle, pixels):
    image = draw(angle)[0, :, :, 0]
    for (row, col), value in pixels.items():
        assert image[row, col] == pytest.approx(value, abs=1e-5), (row, col)


def test_official_drawing_matches_the_official_algorithm_in_every_octant():
    octants = np.arange(8) * math.pi / 4
    theta = np.concatenate(
        [
            octants,  # the axes and diagonals
            octants + 0.3,  # one angle inside each octant
            np.random.default_rng(6).uniform(0, 2 * math.pi, 300),
        ]
    )
    expected = np.stack([_official_draw_line(angle) for angle in theta])
    np.testing.assert_allclose(draw(theta)[..., 0], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(draw(theta), draw(theta, drawing="official"))


def test_the_two_drawings_differ_off_the_axes():
    theta = np.random.default_rng(7).uniform(0, 2 * math.pi, 200)
    differ = np.abs(draw(theta) - draw(theta, drawing="centred")).max(axis=(1, 2, 3)) > 1e-3
    assert differ.mean() > 0.9
    axes = np.arange(4) * math.pi / 2
    np.testing.assert_allclose(draw(axes), draw(axes, drawing="centred"), atol=1e-6)


@pytest.mark.parametrize("drawing", ["Official", "centered", None, ""])
def test_draw_rejects_unknown_drawings(drawing):
    with pytest.raises(ValueError, match="drawing must be one of"):
        draw(0.0, drawing=drawing)
    with pytest.raises(ValueError, match="drawing must be one of"):
        LinesStream(drawing=drawing)
    with pytest.raises(ValueError, match="drawing must be one of"):
        lines_test_set(drawing=drawing)


def test_centred_drawing_mirror_symmetries():
    """Reflections of the plane map lines onto lines: exact because spans are row-centred."""
    theta = np.random.default_rng(1).uniform(0, 2 * math.pi, 50)
    images = draw(theta, drawing="centred")[..., 0]

    def centred(angles):
        return draw(angles, drawing="centred")[..., 0]

    np.testing.assert_allclose(centred(-theta), images[:, ::-1, :], atol=1e-5)
    np.testing.assert_allclose(centred(math.pi - theta), images[:, :, ::-1], atol=1e-5)
    anti_transpose = images[:, ::-1, ::-1].transpose(0, 2, 1)
    np.testing.assert_allclose(centred(math.pi / 2 - theta), anti_transpose, atol=1e-5)


def test_centred_drawing_ink_is_twice_the_major_extent():
    """The band is 2 pixels wide along the minor axis: ink = 2 R max(|cos|, |sin|)."""
    axes = [0, math.pi / 2, math.pi, 3 * math.pi / 2]
    np.testing.assert_allclose(_ink(draw(axes, drawing="centred")), 30)
    theta = np.random.default_rng(2).uniform(0, 2 * math.pi, 20)
    expected = 2 * RADIUS * np.maximum(np.abs(np.cos(theta)), np.abs(np.sin(theta)))
    np.testing.assert_allclose(_ink(draw(theta, drawing="centred")), expected, rtol=1e-5)
    diagonal = _ink(draw(math.pi / 4, drawing="centred"))[0]
    assert diagonal == pytest.approx(30 / math.sqrt(2), rel=1e-5)


@pytest.mark.parametrize("drawing", DRAWINGS)
def test_draw_background_is_exactly_minus_one_away_from_the_segment(drawing):
    theta = np.random.default_rng(3).uniform(0, 2 * math.pi, 20)
    images = draw(theta, drawing=drawing)[..., 0]
    centre = np.array([16.0, 16.0])
    pixel = np.stack(np.meshgrid(np.arange(32), np.arange(32), indexing="ij"), -1) + 0.5
    for image, angle in zip(images, theta, strict=True):
        end = centre + RADIUS * np.array([-math.sin(angle), math.cos(angle)])
        along = np.clip((pixel - centre) @ (end - centre) / RADIUS**2, 0, 1)
        distance = np.linalg.norm(pixel - centre - along[..., None] * (end - centre), axis=-1)
        assert np.all(image[distance > 2.5] == -1)
        if drawing == "centred":  # the official spans sit up to half a pixel off the segment
            assert np.all(image[(distance < 0.3) & (along > 0.1) & (along < 0.9)] > 0)


def test_draw_is_deterministic_and_batch_independent():
    theta = np.random.default_rng(4).uniform(0, 2 * math.pi, 9)
    np.testing.assert_array_equal(draw(theta), draw(theta))
    np.testing.assert_array_equal(draw(theta)[4], draw(theta[4])[0])


@pytest.mark.parametrize("angles", [np.nan, [0.0, np.inf], [[0.0]]])
def test_draw_rejects_bad_angles(angles):
    with pytest.raises(ValueError, match="angles"):
        draw(angles)


@pytest.mark.parametrize("size", [31, 2, 0, -4, 32.0, True, "32"])
def test_draw_rejects_bad_size(size):
    with pytest.raises(ValueError, match="even integer >= 4"):
        draw(0.0, size=size)


def test_angle_labels_match_the_official_formula():
    theta = np.random.default_rng(5).uniform(0, 2 * math.pi, 1000)
    official = [int(10 * t / (2 * math.pi - 1e-6)) for t in theta]
    np.testing.assert_array_equal(angle_labels(theta), official)
    assert angle_labels(theta).dtype == np.int64
    np.testing.assert_array_equal(angle_labels([2 * math.pi - 1e-9, -0.1, 0.0]), [9, 9, 0])
    np.testing.assert_array_equal(angle_labels([math.pi], num_classes=4), [2])


def test_test_set_is_fixed():
    images, angles = lines_test_set()
    assert images.shape == (5000, 32, 32, 1) and images.dtype == np.float32
    assert angles.shape == (5000,)
    assert 0 <= angles.min() and angles.max() < 2 * math.pi
    assert angles[0] == np.random.default_rng(TEST_SEED).uniform(0, 2 * math.pi)
    assert angles[0] == pytest.approx(0.5004902812553181, abs=1e-15)  # same on every machine
    np.testing.assert_array_equal(images[:10], draw(angles[:10]))


def test_test_set_returns_copies():
    images, angles = lines_test_set()
    images[:] = 0
    angles[:] = 0
    again_images, again_angles = lines_test_set()
    np.testing.assert_array_equal(again_images[:3], draw(again_angles[:3]))
    assert again_angles[0] == pytest.approx(0.5004902812553181, abs=1e-15)


def test_stream_batches_are_seeded_by_seed_epoch_index():
    stream = LinesStream(batch_size=5, steps_per_epoch=3, seed=7)
    assert len(stream) == 3
    batch = stream[2]
    assert batch.shape == (5, 32, 32, 1) and batch.dtype == np.float32
    angles = np.random.default_rng([7, 0, 2]).uniform(0, 2 * math.pi, 5)
    np.testing.assert_array_equal(batch, draw(angles))
    np.testing.assert_array_equal(stream[2], batch)
    assert not np.array_equal(stream[1], batch)
    assert not np.array_equal(LinesStream(batch_size=5, seed=8)[2], batch)

    stream.on_epoch_end()
    assert not np.array_equal(stream[2], batch)
    other = LinesStream(batch_size=5, steps_per_epoch=3, seed=7)
    other.on_epoch_end()
    np.testing.assert_array_equal(other[2], stream[2])


def test_stream_labels():
    images, labels = LinesStream(batch_size=6, seed=1, labels=True)[0]
    angles = np.random.default_rng([1, 0, 0]).uniform(0, 2 * math.pi, 6)
    np.testing.assert_array_equal(images, draw(angles))
    np.testing.assert_array_equal(labels, angle_labels(angles))


@pytest.mark.parametrize("drawing", DRAWINGS)
def test_stream_and_test_set_use_the_drawing_asked_for(drawing):
    angles = np.random.default_rng([1, 0, 0]).uniform(0, 2 * math.pi, 6)
    images = LinesStream(batch_size=6, seed=1, drawing=drawing)[0]
    np.testing.assert_array_equal(images, draw(angles, drawing=drawing))
    test_images, test_angles = lines_test_set(drawing=drawing)
    np.testing.assert_array_equal(test_images[:5], draw(test_angles[:5], drawing=drawing))


@pytest.mark.parametrize(
    "kwargs",
    [{"batch_size": 0}, {"steps_per_epoch": 0}, {"seed": -1}, {"batch_size": 2.5}, {"size": 5}],
)
def test_stream_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        LinesStream(**kwargs)


_FIT_SCRIPT = textwrap.dedent(
    """
    import keras
    import numpy as np
    from keras_latent.datasets.lines import LinesStream

    stream = LinesStream(batch_size=8, steps_per_epoch=2, seed=0, labels=True)
    model = keras.Sequential(
        [keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = model.fit(stream, epochs=2, verbose=0).history["loss"]
    assert len(losses) == 2 and np.all(np.isfinite(losses)), losses
    assert stream.epoch >= 2, stream.epoch  # on_epoch_end ran: each epoch drew new lines
    print("fitted on", keras.backend.backend())
    """
)


BACKENDS = ("tensorflow", "jax", "torch")


@pytest.fixture(scope="module")
def fit_runs():
    """``fit`` subprocesses for the installed backends other than this process's one.

    All start at once: importing Keras and a backend takes most of their time.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    runs = {
        backend: subprocess.Popen(
            [sys.executable, "-c", _FIT_SCRIPT],
            env=dict(env, KERAS_BACKEND=backend),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for backend in BACKENDS
        if backend != keras.backend.backend() and importlib.util.find_spec(backend) is not None
    }
    yield runs
    for run in runs.values():
        run.kill()
        run.communicate()


@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_fits_on_every_backend(fit_runs, backend, capsys):
    if backend == keras.backend.backend():
        exec(_FIT_SCRIPT, {})
        stdout = capsys.readouterr().out
    elif backend in fit_runs:
        stdout, stderr = fit_runs[backend].communicate(timeout=300)
        assert fit_runs[backend].returncode == 0, stderr[-3000:]
    else:
        pytest.skip(f"{backend} is not installed")
    assert f"fitted on {backend}" in stdout
