"""CelebA from a folder of aligned JPEGs or their zip: splits, preprocessing, bad files."""

import zipfile

import numpy as np
import pytest
from PIL import Image

import keras_latent as kl
from keras_latent.datasets.preprocess import preprocess

NUMBERS = [1, 2, 162770, 162771, 182637, 182638, 202599]  # partition boundaries
SPLIT_OF = {1: "train", 2: "train", 162770: "train", 162771: "validation",
            182637: "validation", 182638: "test", 202599: "test"}  # fmt: skip


def write_faces(folder, numbers=NUMBERS, size=(178, 218)):
    """JPEGs named like CelebA's; returns {file name: decoded uint8 pixels}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pixels = {}
    for number in numbers:
        name = f"{number:06d}.jpg"
        smooth = rng.integers(0, 256, (size[1] // 8 + 1, size[0] // 8 + 1, 3), dtype=np.uint8)
        image = Image.fromarray(smooth).resize(size, Image.Resampling.BILINEAR)
        image.save(folder / name, quality=95)
        pixels[name] = np.asarray(Image.open(folder / name).convert("RGB"))
    return pixels


@pytest.mark.parametrize("split", ["train", "validation", "test", "all"])
def test_celeba_folder_splits_by_the_standard_partition(tmp_path, split):
    pixels = write_faces(tmp_path / "celeba32" / "img_align_celeba")
    x, y = kl.datasets.load("celeba32", split, data_dir=tmp_path)
    names = [f"{n:06d}.jpg" for n in NUMBERS if split in ("all", SPLIT_OF[n])]
    assert y is None
    assert x.shape == (len(names), 32, 32, 3) and x.dtype == np.float32
    expected = preprocess("celeba32", np.stack([pixels[name] for name in names]))
    np.testing.assert_allclose(x, expected, atol=1e-6)
    assert x.min() >= -1 and x.max() <= 1


def test_celeba_partition_file_wins_over_file_numbers(tmp_path):
    write_faces(tmp_path / "img_align_celeba", numbers=[1, 2, 3])
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 2\n000002.jpg 0\n000003.jpg 2\n")
    assert len(kl.datasets.load("celeba32", "test", data_dir=tmp_path)[0]) == 2
    assert len(kl.datasets.load("celeba32", "train", data_dir=tmp_path)[0]) == 1
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 7\n")
    with pytest.raises(ValueError, match="list_eval_partition.txt line 1"):
        kl.datasets.load("celeba32", "train", data_dir=tmp_path)


def test_celeba_zip_is_read_in_place(tmp_path):
    pixels = write_faces(tmp_path / "src" / "img_align_celeba", numbers=[5, 200000])
    (tmp_path / "data").mkdir()
    with zipfile.ZipFile(tmp_path / "data" / "img_align_celeba.zip", "w") as archive:
        for name in pixels:
            archive.write(tmp_path / "src" / "img_align_celeba" / name, f"img_align_celeba/{name}")
    x, _ = kl.datasets.load("celeba32", "test", data_dir=tmp_path / "data")
    np.testing.assert_allclose(x, preprocess("celeba32", pixels["200000.jpg"][None]), atol=1e-6)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["img_align_celeba.zip"]


def test_celeba_mixed_sizes_and_corrupt_files_are_listed_by_name(tmp_path):
    folder = tmp_path / "img_align_celeba"
    write_faces(folder, numbers=[1, 2, 3])
    write_faces(folder, numbers=[4], size=(100, 120))
    (folder / "000005.jpg").write_bytes((folder / "000001.jpg").read_bytes()[:300])
    with pytest.raises(ValueError) as error:
        kl.datasets.load("celeba32", "all", data_dir=tmp_path)
    message = str(error.value)
    assert "2 of 5 CelebA images could not be used" in message
    assert "000004.jpg: is 100x120; CelebA's aligned images are 178x218" in message
    assert "000005.jpg: cannot be decoded" in message
    assert "000001.jpg" not in message


def test_celeba_unnumbered_files_need_the_partition_file(tmp_path):
    write_faces(tmp_path / "img_align_celeba", numbers=[1])
    (tmp_path / "img_align_celeba" / "000001.jpg").rename(
        tmp_path / "img_align_celeba" / "face.jpg"
    )
    with pytest.raises(ValueError, match="face.jpg is not named like CelebA's images"):
        kl.datasets.load("celeba32", "train", data_dir=tmp_path)
    assert len(kl.datasets.load("celeba32", "all", data_dir=tmp_path)[0]) == 1


def test_celeba_bad_zip(tmp_path):
    (tmp_path / "img_align_celeba.zip").write_bytes(b"PK not really")
    with pytest.raises(ValueError, match="img_align_celeba.zip is not a readable zip file"):
        kl.datasets.load("celeba32", "all", data_dir=tmp_path)
