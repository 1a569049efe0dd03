"""TensorFlow Datasets, the second source of ``load``: datasets already prepared in its data
folder (``TFDS_DATA_DIR``, default ``~/tensorflow_datasets``), or downloaded and prepared by it
when the caller passes ``download=True``.

TFDS names: mnist -> ``mnist``, fashion_mnist -> ``fashion_mnist``, svhn -> ``svhn_cropped``
(train = ``train+extra``), cifar10 -> ``cifar10``, celeba32 -> ``celeb_a`` (all =
``train+validation+test``). TFDS serves the same images as the standard files (SVHN labels
already 0-9), which get the same preprocessing.
"""

import numpy as np

from keras_latent.datasets.formats import NUM_CLASSES, check_labels
from keras_latent.datasets.preprocess import IMAGE_SIZE, RAW_SHAPES, channels, preprocess_into

TFDS_NAMES = {
    "mnist": "mnist",
    "fashion_mnist": "fashion_mnist",
    "svhn": "svhn_cropped",
    "cifar10": "cifar10",
    "celeba32": "celeb_a",
}
TFDS_SPLITS = {("svhn", "train"): "train+extra", ("celeba32", "all"): "train+validation+test"}

_BATCH = 1024


def locate(name, split, download=False):
    """``(reader, note)``: a reader of the prepared TFDS dataset (or one that downloads it
    first, with ``download=True``), or ``(None, why not)``.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        return None, "not installed (pip install tensorflow-datasets)"
    builder = tfds.builder(TFDS_NAMES[name])
    if builder.is_prepared():
        return (lambda: read(builder, name, split)), f"prepared in {builder.data_dir}"
    if download:

        def download_and_read():
            builder.download_and_prepare()
            return read(builder, name, split)

        return download_and_read, f"downloading into {builder.data_dir}"
    return None, f"{TFDS_NAMES[name]!r} is not prepared in {builder.data_dir}"


def read(builder, name, split):
    """``(x, y)`` of ``split`` from a prepared TFDS ``builder``, preprocessed for ``name``.

    Streams batches of ``_BATCH`` raw images into one preallocated float32 array, so memory
    holds the result plus one raw batch.
    """
    import tensorflow_datasets as tfds

    tfds_split = TFDS_SPLITS.get((name, split), split)
    dataset = builder.as_dataset(split=tfds_split)
    n = int(dataset.cardinality())
    if n < 0:
        n = builder.info.splits[tfds_split].num_examples
    where = f"TensorFlow Datasets {builder.name!r} split {tfds_split!r} ({builder.data_dir})"
    x = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, channels(name)), dtype=np.float32)
    y = np.empty(n, dtype=np.int64) if NUM_CLASSES[name] is not None else None
    filled = 0
    for batch in tfds.as_numpy(dataset.batch(_BATCH)):
        images = batch["image"]
        if images.shape[1:] != RAW_SHAPES[name] or filled + len(images) > n:
            raise ValueError(
                f"{where} holds images of shape {images.shape[1:]} or more "
                f"than its {n} examples; expected {RAW_SHAPES[name]}"
            )
        preprocess_into(name, images, x[filled : filled + len(images)])
        if y is not None:
            y[filled : filled + len(images)] = check_labels(
                name, batch["label"], len(images), where, where
            )
        filled += len(images)
    if filled != n:
        raise ValueError(f"{where} yielded {filled} examples, its metadata promises {n}")
    return x, y
