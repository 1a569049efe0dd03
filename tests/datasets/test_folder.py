"""``from_directory``: flat and class folders, conversion, resizing, bad files by name."""

import numpy as np
import pytest
from PIL import Image

import keras_latent as kl


def save(path, array, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)


def rgb(seed, size=(8, 8)):
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def scaled(raw):
    return raw.astype(np.float32) / np.float32(127.5) - 1


def test_flat_folder_of_pngs_keeps_exact_pixels(tmp_path):
    images = [rgb(i) for i in range(3)]
    for i, image in enumerate(images):
        save(tmp_path / f"img{i}.png", image)
    (tmp_path / "notes.txt").write_text("not an image")
    save(tmp_path / ".hidden.png", rgb(9))
    x, y, class_names = kl.datasets.from_directory(tmp_path, image_size=8)
    assert x.shape == (3, 8, 8, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x, scaled(np.stack(images)))
    assert y is None and class_names is None


def test_class_subfolders_give_sorted_labels(tmp_path):
    save(tmp_path / "dog" / "a.png", rgb(0))
    save(tmp_path / "cat" / "b.PNG", rgb(1))
    save(tmp_path / "cat" / "deeper" / "c.jpeg", rgb(2), quality=95)
    save(tmp_path / "emu" / "d.JPG", rgb(3), quality=95)
    x, y, class_names = kl.datasets.from_directory(tmp_path, image_size=8)
    assert class_names == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(y, [0, 0, 1, 2])  # cat/b, cat/deeper/c, dog/a, emu/d
    assert y.dtype == np.int64
    np.testing.assert_array_equal(x[2], scaled(rgb(0)))


def test_channels_are_inferred_and_converted(tmp_path):
    grey = np.random.default_rng(0).integers(0, 256, (8, 8), dtype=np.uint8)
    save(tmp_path / "g.png", grey)
    x, _, _ = kl.datasets.from_directory(tmp_path, image_size=8)
    assert x.shape == (1, 8, 8, 1)
    np.testing.assert_array_equal(x[..., 0], scaled(grey[None]))
    x3, _, _ = kl.datasets.from_directory(tmp_path, image_size=8, channels=3)
    np.testing.assert_array_equal(x3, np.repeat(x, 3, axis=-1))
    save(tmp_path / "c.png", rgb(1))
    x, _, _ = kl.datasets.from_directory(tmp_path, image_size=8)
    assert x.shape == (2, 8, 8, 3)  # one colour image: RGB for all
    x1, _, _ = kl.datasets.from_directory(tmp_path, image_size=8, channels=1)
    expected = np.asarray(Image.fromarray(rgb(1)).convert("L"))
    np.testing.assert_array_equal(x1[0, ..., 0], scaled(expected))


def test_rgba_and_16_bit_images(tmp_path):
    rgba = np.concatenate([rgb(0), np.full((8, 8, 1), 7, np.uint8)], axis=-1)
    save(tmp_path / "a.png", rgba)
    deep = np.full((8, 8), 65535, np.uint16)
    deep[0, 0] = 0
    Image.fromarray(deep).save(tmp_path / "b.png")
    x, _, _ = kl.datasets.from_directory(tmp_path, image_size=8)
    np.testing.assert_array_equal(x[0], scaled(rgb(0)))  # alpha dropped
    assert x[1].max() == 1 and x[1, 0, 0].tolist() == [-1, -1, -1]


def test_resize_with_centre_crop_or_stretch(tmp_path):
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, 10:20] = 255  # the centre square is white, the sides black
    save(tmp_path / "wide.png", wide)
    cropped, _, _ = kl.datasets.from_directory(tmp_path, image_size=5)
    assert cropped.shape == (1, 5, 5, 3) and np.all(cropped == 1)
    stretched, _, _ = kl.datasets.from_directory(tmp_path, image_size=5, crop=False)
    assert stretched[0, :, 0].max() < 0 and stretched[0, :, 2].min() > 0.9


def test_mixed_sizes(tmp_path):
    save(tmp_path / "a.png", rgb(0, (8, 8)))
    save(tmp_path / "b.png", rgb(1, (6, 9)))
    x, _, _ = kl.datasets.from_directory(tmp_path, image_size=4)
    assert x.shape == (2, 4, 4, 3)
    with pytest.raises(ValueError, match=r"different sizes.*1 of 8x8 \(e.g. .*a.png\); 1 of 9x6"):
        kl.datasets.from_directory(tmp_path, image_size=None)
    (tmp_path / "b.png").unlink()
    assert kl.datasets.from_directory(tmp_path, image_size=None)[0].shape == (1, 8, 8, 3)


def test_corrupt_and_unreadable_files_are_all_listed(tmp_path):
    save(tmp_path / "good.jpg", rgb(0, (16, 16)), quality=90)
    data = (tmp_path / "good.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.png").write_text("this is not a PNG")
    with pytest.raises(ValueError) as error:
        kl.datasets.from_directory(tmp_path, image_size=8, channels=3)
    message = str(error.value)
    assert "2 of 3 images could not be used" in message
    assert "cut.jpg: cannot be decoded" in message and "text.png: cannot be decoded" in message
    assert "good.jpg" not in message
    with pytest.raises(ValueError, match="text.png: cannot be read"):
        kl.datasets.from_directory(tmp_path)  # channels inferred: headers read first


def test_bad_arguments_and_layouts(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        kl.datasets.from_directory(tmp_path / "missing")
    with pytest.raises(ValueError, match="holds no images"):
        kl.datasets.from_directory(tmp_path)
    save(tmp_path / "top.png", rgb(0))
    save(tmp_path / "cls" / "a.png", rgb(1))
    with pytest.raises(ValueError, match=r"both directly \(top.png\) and in class sub-folders"):
        kl.datasets.from_directory(tmp_path)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="image_size must be a positive integer"):
            kl.datasets.from_directory(tmp_path, image_size=bad)
    with pytest.raises(ValueError, match="channels must be 1, 3 or None"):
        kl.datasets.from_directory(tmp_path, channels=2)
