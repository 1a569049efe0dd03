"""Finding and reading the standard distribution files of each dataset in a folder.

:func:`locate` returns a reader (a zero-argument callable returning ``(x, y)``, preprocessed by
:mod:`.preprocess`) for the first format of the dataset present in the folder, or None when
the folder holds none. Formats, in the order they are tried:

- mnist, fashion_mnist: IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``
  (``t10k-...`` for the test split), gzip-compressed (``.gz``) or not.
- svhn: ``train_32x32.mat`` + ``extra_32x32.mat`` (train), ``test_32x32.mat`` (test).
- cifar10: the python batches ``data_batch_1`` .. ``data_batch_5`` (train), ``test_batch``
  (test), in ``cifar-10-batches-py/`` or directly in the folder; or the archive
  ``cifar-10-python.tar.gz`` itself (read in place).
- celeba32: ``img_align_celeba/`` or ``img_align_celeba.zip``, see :mod:`.celeba`.
- any dataset: an ``.npz``, see :func:`read_npz`.

A folder holding part of a format (images without labels) is an error naming the missing file,
not a reason to look elsewhere. Bad files raise ``ValueError`` naming the file.
"""

import io
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np

from keras_latent.datasets import celeba, idx
from keras_latent.datasets.preprocess import RAW_SHAPES, channels, preprocess, preprocess_into

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


# ----------------------------------------------------------------------------------- SVHN
def _svhn_files(split):
    return ("train_32x32.mat", "extra_32x32.mat") if split == "train" else ("test_32x32.mat",)


def _describe_svhn(name, split):
    return " + ".join(_svhn_files(split))


def _find_svhn(name, split, folder):
    paths = {file: folder / file for file in _svhn_files(split)}
    found = {file: (path if path.is_file() else None) for file, path in paths.items()}
    if not any(found.values()):
        return None
    _require_all(folder, found)
    return lambda: read_svhn(list(paths.values()))


def read_svhn(paths):
    """``(x, y)`` from SVHN's ``*_32x32.mat`` files, concatenated in order (train + extra).

    Each file holds ``X`` uint8 ``(32, 32, 3, n)`` and ``y`` ``(n, 1)`` with labels 1..10,
    where 10 is the digit 0; labels become the digit shown, 0..9 (as TFDS; the official ACAI
    code used ``y - 1``, a relabelling that changes no accuracy). The output is allocated
    once from the files' headers and filled file by file.
    """
    from scipy import io as sio

    counts = [_svhn_count(path, sio) for path in paths]
    x = np.empty((sum(counts), 32, 32, 3), dtype=np.float32)
    y = np.empty(sum(counts), dtype=np.int64)
    start = 0
    for path, count in zip(paths, counts):
        try:
            data = sio.loadmat(path, variable_names=["X", "y"])
        except Exception as error:  # noqa: BLE001 - scipy raises many types for bad files
            raise ValueError(f"{path} is not a readable MATLAB file: {error}") from None
        images, labels = data.get("X"), data.get("y")
        if images is None or labels is None:
            raise ValueError(f"{path} lacks the variable X or y of SVHN's .mat files")
        if images.dtype != np.uint8 or images.shape != (32, 32, 3, count):
            raise ValueError(
                f"{path}: X must be uint8 of shape (32, 32, 3, {count}), got {images.dtype} "
                f"{images.shape}"
            )
        if labels.size and (labels.min() < 1 or labels.max() > 10):
            raise ValueError(
                f"{path}: SVHN labels must lie in 1..10, got [{labels.min()}, {labels.max()}]"
            )
        labels = check_labels("svhn", np.asarray(labels, np.int64) % 10, count, path, path)
        preprocess_into("svhn", images.transpose(3, 0, 1, 2), x[start : start + count])
        y[start : start + count] = labels
        start += count
        del data, images
    return x, y


def _svhn_count(path, sio):
    try:
        variables = {name: shape for name, shape, _ in sio.whosmat(path)}
    except Exception as error:  # noqa: BLE001 - scipy raises many types for bad files
        raise ValueError(f"{path} is not a readable MATLAB file: {error}") from None
    shape = variables.get("X")
    if shape is None or len(shape) != 4 or tuple(shape[:3]) != (32, 32, 3):
        raise ValueError(f"{path}: expected a variable X of shape (32, 32, 3, n), got {shape}")
    return shape[3]


# ------------------------------------------------------------------------------- CIFAR-10
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"


def _cifar_files(split):
    return [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]


def _describe_cifar(name, split):
    files = _cifar_files(split)
    listed = files[0] if len(files) == 1 else f"{files[0]}..{files[-1][-1]}"
    return f"{CIFAR_FOLDER}/{listed} (or the same files directly), or {CIFAR_ARCHIVE}"


def _find_cifar(name, split, folder):
    for where in (folder / CIFAR_FOLDER, folder):
        found = {file: where / file for file in _cifar_files(split)}
        found = {file: (path if path.is_file() else None) for file, path in found.items()}
        if any(found.values()):
            _require_all(where, found)
            return lambda found=found: read_cifar(
                [(path, path.read_bytes) for path in found.values()]
            )
    archive = folder / CIFAR_ARCHIVE
    if archive.is_file():
        return lambda: _read_cifar_archive(archive, split)
    return None


def _read_cifar_archive(archive, split):
    import tarfile

    try:
        with tarfile.open(archive, "r:*") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            missing = [f for f in _cifar_files(split) if f not in members]
            if missing:
                raise ValueError(f"{archive} lacks {', '.join(missing)}")
            sources = [
                (f"{archive}:{members[f].name}", tar.extractfile(members[f]).read)
                for f in _cifar_files(split)
            ]
            return read_cifar(sources)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"{archive} is not a readable tar archive: {error}") from None


def read_cifar(sources):
    """``(x, y)`` from CIFAR-10 python batches: ``[(name, read_bytes)]`` in order.

    Each batch is a pickle of ``{b"data": uint8 (n, 3072) rows of R, G, B planes of 32x32,
    b"labels": [n ints in 0..9]}``. It is unpickled with a restricted unpickler that builds
    only numpy arrays and builtin containers, so a tampered file cannot run code.
    """
    batches = [_cifar_batch(name, read()) for name, read in sources]
    n = sum(len(labels) for _, labels in batches)
    x = np.empty((n, 32, 32, 3), dtype=np.float32)
    y = np.empty(n, dtype=np.int64)
    start = 0
    for data, labels in batches:
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        preprocess_into("cifar10", images, x[start : start + len(data)])
        y[start : start + len(data)] = labels
        start += len(data)
    return x, y


def _cifar_batch(name, payload):
    try:
        batch = _SafeUnpickler(io.BytesIO(payload), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise ValueError(f"{name} is not a CIFAR-10 python batch: {error}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"{name} is not a CIFAR-10 python batch (no b'data' and b'labels')")
    data = np.asarray(batch[b"data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(
            f"{name}: data must be uint8 of shape (n, 3072), got {data.dtype} {data.shape}"
        )
    labels = check_labels("cifar10", np.asarray(batch[b"labels"]), len(data), name, name)
    return data, labels


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and builtin containers only."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "_reconstructor"),
        ("__builtin__", "object"),
        ("builtins", "object"),
        ("_codecs", "encode"),  # how Python 3 writes bytes in protocol 2
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


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


_FINDERS = {
    "mnist": (_find_idx,),
    "fashion_mnist": (_find_idx,),
    "svhn": (_find_svhn,),
    "cifar10": (_find_cifar,),
    "celeba32": (celeba.find,),
}
_DESCRIBERS = {
    "mnist": (_describe_idx,),
    "fashion_mnist": (_describe_idx,),
    "svhn": (_describe_svhn,),
    "cifar10": (_describe_cifar,),
    "celeba32": (celeba.describe,),
}
