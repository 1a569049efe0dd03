"""Finding and reading the standard distribution files of each dataset in a folder.

:func:`locate` returns a reader (a zero-argument callable returning ``(x, y)``, preprocessed by
:mod:`.preprocess`) for the first format of the dataset present in the folder, or None when
the folder holds none. Formats, in the order they are tried:

- mnist, fashion_mnist: IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``
  (``t10k-...`` for the test split), gzip-compressed (``.gz``) or not.
- any dataset: an ``.npz``, see :func:`read_npz`.

A folder holding part of a format (images without labels) is an error naming the missing file,
not a reason to look elsewhere. Bad files raise ``ValueError`` naming the file.
"""

import warnings
import zipfile
from pathlib import Path

import numpy as np

from keras_latent.datasets import idx
from keras_latent.datasets.preprocess import RAW_SHAPES, channels, preprocess

NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "svhn": 10, "cifar10": 10, "celeba32": None}

MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
"""md5 of the uncompressed standard MNIST files (http://yann.lecun.com/exdb/mnist/)."""


class ChecksumWarning(UserWarning):
    """A file named like a standard distribution file differs from it."""


def locate(name, split, folder):
    """A reader for ``split`` of dataset ``name`` from the files in ``folder``, or None."""
    folder = Path(folder)
    for find in _FINDERS.get(name, ()) + (_find_npz,):
        reader = find(name, split, folder)
        if reader is not None:
            return reader
    return None


def describe(name, split):
    """The files :func:`locate` looks for, in words (for the not-found message)."""
    described = [describe_one(name, split) for describe_one in _DESCRIBERS.get(name, ())]
    described.append(f"{name}_{split}.npz (arrays x, y) or {name}.npz (x_{split}, y_{split})")
    return "; or ".join(described)


# ------------------------------------------------------------------------------------ IDX
def _idx_stems(split):
    prefix = "train" if split == "train" else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _describe_idx(name, split):
    images, labels = _idx_stems(split)
    return f"{images}[.gz] + {labels}[.gz]"


def _find_idx(name, split, folder):
    paths = [_first_existing(folder, stem, (".gz", "")) for stem in _idx_stems(split)]
    if not any(paths):
        return None
    _require_all(folder, dict(zip(_idx_stems(split), paths)), suffix="[.gz]")
    return lambda: read_idx_pair(name, *paths)


def read_idx_pair(name, images_path, labels_path):
    """``(x, y)`` from an MNIST-format pair of IDX files, preprocessed for ``name``."""
    raw, images_md5 = idx.read_idx(images_path, expect=(idx.UBYTE, 3))
    labels, labels_md5 = idx.read_idx(labels_path, expect=(idx.UBYTE, 1))
    _check_md5(name, images_path, images_md5)
    _check_md5(name, labels_path, labels_md5)
    expected = RAW_SHAPES[name][:2]
    if raw.shape[1:] != expected:
        raise ValueError(
            f"{images_path} holds images of {raw.shape[1]}x{raw.shape[2]} pixels; {name} "
            f"images are {expected[0]}x{expected[1]}"
        )
    labels = check_labels(name, labels, len(raw), labels_path, images_path)
    return preprocess(name, raw[..., None]), labels


def _check_md5(name, path, md5):
    """Warn where a file named as a standard MNIST file differs from it; refuse MNIST files
    offered as Fashion-MNIST (they share file names).
    """
    stem = path.name.removesuffix(".gz")
    if name == "fashion_mnist" and md5 in MNIST_MD5.values():
        raise ValueError(
            f"{path} is the MNIST digits file, not Fashion-MNIST (same file names): put the "
            f"Fashion-MNIST files in a 'fashion_mnist/' folder"
        )
    if name == "mnist" and stem in MNIST_MD5 and md5 != MNIST_MD5[stem]:
        warnings.warn(
            f"{path} is not the standard MNIST file (md5 of its uncompressed content {md5}, "
            f"expected {MNIST_MD5[stem]}); loading it anyway",
            ChecksumWarning,
            stacklevel=2,
        )


# ------------------------------------------------------------------------------------ npz
def _find_npz(name, split, folder):
    for path, keys in (
        (folder / f"{name}_{split}.npz", ("x", "y")),
        (folder / f"{name}.npz", (f"x_{split}", f"y_{split}")),
    ):
        if path.is_file():
            return lambda path=path, keys=keys: read_npz(name, path, *keys)
    return None


def read_npz(name, path, x_key="x", y_key="y"):
    """``(x, y)`` from an ``.npz`` file (``np.savez``; no pickled objects).

    Schema: ``{name}_{split}.npz`` with arrays ``x`` and ``y``, or ``{name}.npz`` with
    ``x_{split}`` and ``y_{split}`` (the layout of Keras' ``mnist.npz``). ``x`` is either

    - uint8 pixels as the standard files hold them, ``(n, H, W)`` or ``(n, H, W, C)`` with the
      dataset's raw shape (MNIST 28x28x1, SVHN and CIFAR-10 32x32x3, CelebA 218x178x3), and
      the dataset's preprocessing is applied; or
    - float32/float64 already preprocessed, ``(n, 32, 32, C)`` in [-1, 1], taken as is.

    ``y``: integer labels ``(n,)`` in [0, 10); optional for celeba32 (y is None), where it is
    ignored. For SVHN's train split the file holds what ``load`` returns: train + extra.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            x = data[x_key] if x_key in keys else None
            y = data[y_key] if y_key in keys and NUM_CLASSES[name] is not None else None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a valid .npz file: {error}") from None
    if x is None or (y is None and NUM_CLASSES[name] is not None):
        missing = [key for key in (x_key, y_key) if key not in keys]
        raise ValueError(
            f"{path} lacks the array(s) {', '.join(missing)} (it holds "
            f"{', '.join(sorted(keys)) or 'nothing'})"
        )
    x = _npz_images(name, x, path, x_key)
    if y is not None:
        y = check_labels(name, y, len(x), path, path)
    return x, y


def _npz_images(name, x, path, key):
    raw_shape = RAW_SHAPES[name]
    final_shape = (32, 32, channels(name))
    if x.dtype == np.uint8:
        if x.ndim == 3 and raw_shape[2] == 1:
            x = x[..., None]
        if x.shape[1:] != raw_shape:
            raise ValueError(
                f"{path}: {key} holds uint8 images of shape {x.shape[1:]}; {name} images as "
                f"distributed are {raw_shape} (or give float images {final_shape} in [-1, 1])"
            )
        return preprocess(name, x)
    if x.dtype in (np.float32, np.float64):
        if x.shape[1:] != final_shape:
            raise ValueError(
                f"{path}: {key} holds float images of shape {x.shape[1:]}; preprocessed "
                f"{name} images are {final_shape} (or give the uint8 originals {raw_shape})"
            )
        if x.size and (not np.all(np.isfinite(x)) or x.min() < -1 or x.max() > 1):
            raise ValueError(f"{path}: {key} holds float values outside [-1, 1]")
        return x.astype(np.float32, copy=False)
    raise ValueError(f"{path}: {key} has dtype {x.dtype}; expected uint8 or float32 images")


# ---------------------------------------------------------------------------- helpers
def check_labels(name, labels, n, labels_path, images_path):
    """Labels as int64 ``(n,)`` in [0, num_classes), or ValueError naming the files."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{labels_path}: labels must be integers of shape (n,), got {labels.dtype} "
            f"{labels.shape}"
        )
    if len(labels) != n:
        images = "" if labels_path == images_path else f" but {images_path} holds"
        raise ValueError(
            f"{labels_path} holds {len(labels)} labels{images or ' for'} {n} images: the "
            f"counts must match"
        )
    classes = NUM_CLASSES[name]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"{labels_path}: labels must lie in [0, {classes}), got [{labels.min()}, "
            f"{labels.max()}]"
        )
    return labels.astype(np.int64)


def _first_existing(folder, stem, suffixes):
    for suffix in suffixes:
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return path
    return None


def _require_all(folder, found, suffix=""):
    """FileNotFoundError naming the missing files of a format of which some are present."""
    missing = [stem + suffix for stem, path in found.items() if path is None]
    if missing:
        present = ", ".join(path.name for path in found.values() if path is not None)
        raise FileNotFoundError(
            f"{folder} holds {present} but not {', '.join(missing)}, which must come with it"
        )


_FINDERS = {"mnist": (_find_idx,), "fashion_mnist": (_find_idx,)}
_DESCRIBERS = {"mnist": (_describe_idx,), "fashion_mnist": (_describe_idx,)}
