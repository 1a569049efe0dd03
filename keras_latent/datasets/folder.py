"""Your own images: ``from_directory(path)`` reads a folder of PNG/JPEG files into the format
of ``load``: NHWC float32 in [-1, 1] (``pixel / 127.5 - 1``).
"""

import operator
from pathlib import Path

import numpy as np
from PIL import Image

from keras_latent.datasets.decode import EXTENSIONS, BadImage, decode_all, open_image, to_array
from keras_latent.datasets.preprocess import scale_into

_GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def from_directory(path, image_size=32, channels=None, crop=True):
    """Read every ``.png``/``.jpg``/``.jpeg`` file under ``path`` (case-insensitive; hidden
    files and other extensions ignored), in sorted order of their relative paths.

    Layout: either all images directly in ``path`` (no labels), or one sub-folder per class
    (images anywhere below it): label ``i`` is the ``i``-th class folder in sorted order.
    Images in both places at once are an error.

    Per image, with Pillow: decode (stored orientation; EXIF rotation is not applied);
    convert to greyscale (ITU-R 601-2 luma; 16-bit greyscale scaled to 8 bits) or RGB (alpha
    dropped); if ``crop``, cut the largest centred square; resize to ``image_size`` squared
    with Pillow's antialiased bicubic filter; scale to [-1, 1].

    Args:
        path: the folder.
        image_size: output side in pixels, or None to keep the images' own size (then every
            image must have the same size).
        channels: 1 (greyscale) or 3 (RGB); None: 1 if every image is greyscale, else 3.
        crop: centre-crop non-square images to a square before resizing (else stretch).

    Returns:
        ``(x, y, class_names)``: ``x`` float32 ``(n, size, size, channels)`` in [-1, 1];
        with class sub-folders ``y`` int64 ``(n,)`` and ``class_names`` the sorted folder
        names (``class_names[y[i]]`` is image ``i``'s folder), else ``y`` and ``class_names``
        are None.

    Raises:
        FileNotFoundError: ``path`` is not a folder.
        ValueError: no images; images both in ``path`` and in sub-folders; images of different
            sizes with ``image_size=None``; unreadable or corrupt files (all listed by name).
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    image_size = _check_size(image_size)
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None (inferred), got {channels!r}")
    files = list_images(root)
    y, class_names = _labels(root, files)
    if channels is None or image_size is None:
        modes, sizes = _headers(files)
        if channels is None:
            channels = 1 if all(mode in _GREY_MODES for mode in modes) else 3
        if image_size is None:
            height, width = _common_size(sizes, files)
    if image_size is not None:
        height = width = image_size
    x = np.empty((len(files), height, width, channels), dtype=np.float32)

    def work(index, file):
        image = _prepared(open_image(file), channels, image_size, crop)
        if image.shape[:2] != (height, width):
            raise BadImage(f"is {image.shape[1]}x{image.shape[0]}, not {width}x{height}")
        scale_into(x[index], image)

    decode_all(files, work, [str(f) for f in files])
    return x, y, class_names


def list_images(root):
    """Sorted image files under ``root`` (extensions :data:`EXTENSIONS`, no hidden names)."""
    files = [
        file
        for file in root.rglob("*")
        if file.suffix.lower() in EXTENSIONS
        and file.is_file()
        and not any(part.startswith(".") for part in file.relative_to(root).parts)
    ]
    if not files:
        raise ValueError(f"{root} holds no images ({', '.join(EXTENSIONS)}, any case)")
    return sorted(files, key=lambda file: file.relative_to(root).parts)


def _labels(root, files):
    top = [file for file in files if file.parent == root]
    if len(top) == len(files):
        return None, None
    if top:
        listed = ", ".join(file.name for file in top[:5]) + (", ..." if len(top) > 5 else "")
        raise ValueError(
            f"{root} holds images both directly ({listed}) and in class sub-folders; put all "
            f"of them in sub-folders (one per class) or all directly in {root}"
        )
    folders = [file.relative_to(root).parts[0] for file in files]
    class_names = sorted(set(folders))
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[folder] for folder in folders], dtype=np.int64), class_names


def _headers(files):
    modes, sizes = [None] * len(files), [None] * len(files)

    def work(index, file):
        try:
            with Image.open(file) as image:
                modes[index], sizes[index] = image.mode, image.size
        except Exception as error:  # noqa: BLE001 - any failure to read a header
            raise BadImage(f"cannot be read ({type(error).__name__}: {error})") from None

    decode_all(files, work, [str(f) for f in files])
    return modes, sizes


def _common_size(sizes, files):
    """``(height, width)`` shared by every image, else ValueError counting each size."""
    seen = {}
    for size, file in zip(sizes, files):
        seen.setdefault(size, []).append(file)
    if len(seen) > 1:
        listed = "; ".join(
            f"{len(group)} of {w}x{h} (e.g. {group[0]})" for (w, h), group in seen.items()
        )
        raise ValueError(
            f"images of different sizes with image_size=None: {listed}; pass image_size=N to "
            f"resize them all to N x N"
        )
    width, height = next(iter(seen))
    return height, width


def _prepared(image, channels, image_size, crop):
    """uint8 ``(H, W, channels)``: converted, centre-cropped and resized as documented."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit greyscale -> 8 bits
        wide = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.rint(wide / 257), 0, 255).astype(np.uint8))
    image = image.convert("L" if channels == 1 else "RGB")
    if image_size is not None:
        width, height = image.size
        if crop and width != height:
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side))
        if image.size != (image_size, image_size):
            image = image.resize((image_size, image_size), Image.Resampling.BICUBIC)
    return to_array(image, channels)


def _check_size(image_size):
    if image_size is None:
        return None
    try:
        value = operator.index(image_size)
    except TypeError:
        value = 0
    if isinstance(image_size, bool) or value < 1:
        raise ValueError(f"image_size must be a positive integer or None, got {image_size!r}")
    return value
