"""Reader of IDX files, the format of the MNIST and Fashion-MNIST distributions.

An IDX file is a 4-byte magic number ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian uint32
dimensions, then the values, big-endian, row-major. MNIST's images have magic number
``0x00000803`` (unsigned bytes, 3 dimensions: n, rows, columns) and its labels ``0x00000801``
(unsigned bytes, 1 dimension). Files may be gzip-compressed (recognised by their content, not
their name). Every defect is a ``ValueError`` that names the file: a wrong magic number, a
header or payload shorter than the header promises (truncation), trailing bytes, a corrupt or
truncated gzip stream.
"""

import gzip
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from keras_latent.files import atomic_path

TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type codes (the magic number's third byte) and their numpy dtypes."""

UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


def magic_number(type_code, ndim):
    """The IDX magic number of ``ndim``-dimensional data of ``type_code`` (0x08: ubyte)."""
    return (type_code << 8) | ndim


def read_bytes(path):
    """The content of ``path``, gunzipped if it is a gzip file; ValueError if the gzip is bad."""
    path = Path(path)
    data = path.read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path} is a corrupt or truncated gzip file: {error}") from None


def parse_idx(data, path, expect=None):
    """The array held by the IDX bytes ``data`` (read-only, a view of ``data``).

    Args:
        data: the file's uncompressed bytes.
        path: the file, for error messages.
        expect: optional ``(type_code, ndim)`` the magic number must match.
    """
    if len(data) < 4:
        raise ValueError(f"{path} is truncated: {len(data)} bytes, an IDX header needs 4")
    zeros, type_code, ndim = data[:2], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if expect is not None and magic != magic_number(*expect):
        raise ValueError(
            f"{path} has IDX magic number 0x{magic:08x}, expected 0x{magic_number(*expect):08x} "
            f"({TYPES[expect[0]].name} values in {expect[1]} dimension(s)); is it the right file?"
        )
    if zeros != b"\0\0" or type_code not in TYPES or ndim == 0:
        raise ValueError(f"{path} is not an IDX file (magic number 0x{magic:08x})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path} is truncated: {len(data)} bytes, its {ndim}-dimensional header needs {header}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header
    if actual < expected:
        raise ValueError(
            f"{path} is truncated: its header promises shape {shape} ({expected} bytes of "
            f"values) but the file holds {actual}"
        )
    if actual > expected:
        raise ValueError(
            f"{path} has {actual - expected} bytes after the {expected} bytes of values that "
            f"its header (shape {shape}) promises: corrupt or not an IDX file"
        )
    return np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)), offset=header).reshape(shape)


def read_idx(path, expect=None):
    """``(array, md5)``: the array in IDX file ``path`` (read-only) and the md5 hex digest of
    its uncompressed bytes. ``expect``: optional ``(type_code, ndim)``, see :func:`parse_idx`.
    """
    data = read_bytes(path)
    return parse_idx(data, path, expect), hashlib.md5(data).hexdigest()


def write_idx(path, array):
    """Write a uint8 ``array`` as an IDX file (gzip-compressed if ``path`` ends in ``.gz``),
    atomically.
    """
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim == 0:
        raise TypeError(f"write_idx writes uint8 arrays of >= 1 dimension, got {array.dtype}")
    header = struct.pack(f">I{array.ndim}I", magic_number(UBYTE, array.ndim), *array.shape)
    data = header + np.ascontiguousarray(array).tobytes()
    with atomic_path(path) as tmp:
        tmp.write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)
