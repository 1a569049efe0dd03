"""The papers' image datasets, preprocessed as the papers do: ``load(name, split, data_dir)``.

Every dataset comes back as ``(x, y)``: ``x`` NHWC float32 images of 32x32 pixels in [-1, 1]
(``pixel / 127.5 - 1``), ``y`` int64 class labels of shape ``(n,)``, or None where the
dataset has no class (CelebA). Per dataset:

============== ===================== =====================================================
name           splits                preprocessing (official ACAI code)
============== ===================== =====================================================
mnist          train, test           28x28 padded to 32x32 with -1 (2 pixels each side)
fashion_mnist  train, test           as MNIST
svhn           train, test           train = train + extra (604,388 images); labels are the
                                     digit shown (the files' 10 becomes 0)
cifar10        train, test           none
celeba32       train, validation,    crop [36:-36, 16:-16] (218x178 -> 146x146), then the
               test, all             legacy TF bicubic resize to 32x32; y is None
lines          train, test           generated (:mod:`keras_latent.datasets.lines`);
                                     y = the 10 angle classes
============== ===================== =====================================================

Where the files are looked for, in order (the first source that holds the split wins):

1. ``data_dir`` if given, else every folder of the environment variable ``KERAS_LATENT_DATA``
   (``os.pathsep``-separated); in each, first its ``<name>/`` sub-folder, then the folder
   itself. In a folder, the standard distribution files (see :mod:`.formats`), then an ``.npz``
   (see :func:`keras_latent.datasets.formats.read_npz` for its schema).
2. TensorFlow Datasets, already prepared in its data folder (``TFDS_DATA_DIR`` or
   ``~/tensorflow_datasets``); with ``download=True`` it may download and prepare it.

Nothing found: one ``FileNotFoundError`` that lists every file and folder it looked for and how
to get them. Bad files raise ``ValueError`` naming the file; nothing is returned half-loaded
and nothing is written.
"""

import os
from pathlib import Path

import numpy as np

from keras_latent.datasets import formats, lines
from keras_latent.datasets import tfds_source as _tfds

SPLITS = {
    "mnist": ("train", "test"),
    "fashion_mnist": ("train", "test"),
    "svhn": ("train", "test"),
    "cifar10": ("train", "test"),
    "celeba32": ("train", "validation", "test", "all"),
    "lines": ("train", "test"),
}
"""Every dataset and its splits."""

NAMES = tuple(SPLITS)

ENV_VAR = "KERAS_LATENT_DATA"

LINES_TRAIN_SIZE = 65536
"""Lines in ``load("lines", "train")``: a fixed draw; ``LinesStream`` gives endless fresh ones."""

LINES_TRAIN_SEED = 20190507
"""Seed of the fixed lines training set (distinct from the test set's)."""

_HOW_TO_GET = {
    "mnist": "the four IDX files from https://yann.lecun.com/exdb/mnist/ (or a mirror such as "
    "https://storage.googleapis.com/cvdf-datasets/mnist/)",
    "fashion_mnist": "the four IDX files from https://github.com/zalandoresearch/fashion-mnist",
    "svhn": "train_32x32.mat, extra_32x32.mat and test_32x32.mat from "
    "http://ufldl.stanford.edu/housenumbers/",
    "cifar10": "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, "
    "extracted (it holds cifar-10-batches-py/)",
    "celeba32": "img_align_celeba.zip (or the extracted img_align_celeba/ folder) from "
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
}


def load(name, split="train", data_dir=None, download=False):
    """A dataset split as ``(x, y)``, preprocessed as the papers do (see the module doc).

    Args:
        name: one of :data:`NAMES`.
        split: one of ``SPLITS[name]``.
        data_dir: folder holding the files (or a ``<name>/`` sub-folder of it); default: the
            folders of ``$KERAS_LATENT_DATA``.
        download: if nothing is found locally, let TensorFlow Datasets download and prepare
            the dataset (network; never used by the tests).

    Returns:
        ``x``: float32 ``(n, 32, 32, channels)`` in [-1, 1]; ``y``: int64 ``(n,)`` or None.
    """
    name, split = check_name_split(name, split)
    if name == "lines":
        return _load_lines(split)
    folders, notes = search_folders(name, data_dir)
    looked = []
    for folder in folders:
        found = formats.locate(name, split, folder)
        if found is not None:
            return found()
        looked.append(folder)
    found, tfds_note = _tfds.locate(name, split, download=download)
    if found is not None:
        return found()
    raise FileNotFoundError(_not_found_message(name, split, looked, notes, tfds_note))


def check_name_split(name, split):
    """``(name, split)`` if valid, else ValueError listing the valid ones."""
    if not isinstance(name, str) or name.lower() not in SPLITS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(NAMES)}")
    name = name.lower()
    if split not in SPLITS[name]:
        raise ValueError(
            f"unknown split {split!r} for dataset {name!r}; valid splits: {', '.join(SPLITS[name])}"
        )
    return name, split


def search_folders(name, data_dir=None):
    """``(folders, notes)``: the existing folders to search in order, and notes on the rest.

    ``data_dir`` (which must exist) or the folders of ``$KERAS_LATENT_DATA``; each one's
    ``<name>/`` sub-folder before the folder itself.
    """
    if data_dir is not None:
        root = Path(data_dir)
        if not root.is_dir():
            raise FileNotFoundError(f"data_dir {root} is not a folder")
        roots, notes = [root], []
    else:
        value = os.environ.get(ENV_VAR, "")
        roots = [Path(part) for part in value.split(os.pathsep) if part]
        notes = [f"${ENV_VAR} is not set"] if not roots else []
        notes += [f"{root} (from ${ENV_VAR}) does not exist" for root in roots if not root.is_dir()]
        roots = [root for root in roots if root.is_dir()]
    folders = []
    for root in roots:
        folders += [folder for folder in (root / name, root) if folder.is_dir()]
    return folders, notes


def _not_found_message(name, split, looked, notes, tfds_note):
    lines_ = [f"dataset {name!r} split {split!r} not found. Looked for:"]
    lines_.append(f"  - {formats.describe(name, split)}")
    if looked:
        lines_.append("    in: " + ", ".join(str(folder) for folder in looked))
    lines_ += [f"    ({note})" for note in notes]
    lines_.append(f"  - TensorFlow Datasets: {tfds_note}")
    lines_.append(
        f"To get it: put {_HOW_TO_GET[name]} in a folder and pass it as data_dir (or set "
        f"${ENV_VAR} to it, or to its parent with the files in a '{name}/' sub-folder); or "
        f"call load({name!r}, {split!r}, download=True) to let TensorFlow Datasets download it."
    )
    return "\n".join(lines_)


def _load_lines(split):
    if split == "test":
        images, angles = lines.test_set()
        return images, lines.angle_labels(angles)
    angles = np.random.default_rng(LINES_TRAIN_SEED).uniform(0, 2 * np.pi, LINES_TRAIN_SIZE)
    images = np.empty((LINES_TRAIN_SIZE, 32, 32, 1), dtype=np.float32)
    for start in range(0, LINES_TRAIN_SIZE, 4096):
        images[start : start + 4096] = lines.draw(angles[start : start + 4096])
    return images, lines.angle_labels(angles)
