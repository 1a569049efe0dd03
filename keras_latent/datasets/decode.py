"""Decoding PNG/JPEG files with Pillow, many at once, with every bad file reported by name.

:func:`decode_all` runs ``work(index, item)`` for every item on a thread pool (Pillow and numpy
release the GIL while decoding and resizing) and collects the failures; if any item failed it
raises one ``ValueError`` listing them (the first :data:`MAX_LISTED` by name, then a count),
so no file is silently skipped and nothing half-decoded is returned.
"""

import io
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, UnidentifiedImageError

EXTENSIONS = (".png", ".jpg", ".jpeg")
MAX_LISTED = 20

_ERRORS = (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError)


class BadImage(Exception):
    """One file that could not be used; ``str`` is the reason, without the file name."""


def open_image(source):
    """The fully decoded Pillow image of ``source`` (a path, or bytes); BadImage if unreadable.

    ``load()`` forces the whole decode, so truncated files fail here, not later.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        image = Image.open(source)
        image.load()
        return image
    except _ERRORS as error:
        raise BadImage(f"cannot be decoded ({type(error).__name__}: {error})") from None


def to_array(image, channels):
    """uint8 array ``(H, W, channels)`` of a Pillow image: greyscale (``L``, ITU-R 601-2 luma)
    for 1 channel, ``RGB`` for 3 (alpha dropped).
    """
    mode = "L" if channels == 1 else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if channels == 1 else array


def decode_all(items, work, names, what="images"):
    """Run ``work(index, item)`` for every item; ValueError listing the items that failed.

    Args:
        items: the sources, in order.
        work: callable that processes one item (usually writing into a preallocated array) and
            raises :class:`BadImage` for an unusable one.
        names: ``names[i]`` names item ``i`` in the error message (its path).
        what: what the items are, for the message.
    """
    workers = min(8, os.cpu_count() or 1)

    def attempt(index):
        try:
            work(index, items[index])
            return None
        except BadImage as error:
            return f"{names[index]}: {error}"

    with ThreadPoolExecutor(max_workers=workers) as pool:
        failures = [f for f in pool.map(attempt, range(len(items))) if f is not None]
    if failures:
        listed = "\n  ".join(failures[:MAX_LISTED])
        more = len(failures) - MAX_LISTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise ValueError(
            f"{len(failures)} of {len(items)} {what} could not be used:\n  {listed}{tail}"
        )
