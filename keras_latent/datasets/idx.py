"""Reader of IDX files, the format of the MNIST and Fashion-MNIST distributions.

An IDX file is a 4-byte magic number ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian uint32
dimensions, then the values, big-endian, row-major. MNIST's images have magic number
``0x00000803`` (unsigned bytes, 3 dimensions: n, rows, columns) and its labels ``0x00000801``
(unsigned bytes, 1 dimension). Files may be gzip-compressed (recognised by their content, not
their name). Every defect is a ``ValueError`` that names the file: a wrong magic number, a
header or payload shorter than the header promises (truncation), a shape too large for the
file or for memory, trailing bytes, a corrupt or truncated gzip stream.

:func:`read_idx` reads no more than the header promises (plus a few bytes to see that nothing
follows), so its memory follows the declared size, however large the file or the gzip stream's
uncompressed content.
"""

import contextlib
import gzip
import hashlib
import math
import os
import stat
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
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
_DEFLATE_RATIO = 1032
"""Deflate's largest compression ratio (zlib FAQ): a gzip file of ``n`` bytes unpacks to at
most ``1032 * n``."""
_CHUNK = 1 << 20
_TRAILING_PROBE = 4096
"""Bytes read after the values to report trailing data (a count up to this, "at least" over)."""


def magic_number(type_code, ndim):
    """The IDX magic number of ``ndim``-dimensional data of ``type_code`` (0x08: ubyte)."""
    return (type_code << 8) | ndim


def read_bytes(path):
    """The content of ``path``, gunzipped if it is a gzip file; ValueError if the gzip is bad.

    Reads the whole content: for IDX files use :func:`read_idx`, which stops where the header
    says the values end."""
    path = Path(path)
    data = path.read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path} is a corrupt or truncated gzip file: {error}") from None


def parse_header(data, path, expect=None):
    """``(dtype, shape, header_bytes)`` of the IDX header at the start of ``data``.

    Args:
        data: the file's first uncompressed bytes (at least the header, where the file has it).
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
    return TYPES[type_code], struct.unpack(f">{ndim}I", data[4:header]), header


def values_size(shape, dtype, path):
    """The bytes of values that an IDX ``shape`` of ``dtype`` promises, in Python integers (no
    overflow); ValueError naming ``path`` where numpy could not hold such an array."""
    size = math.prod(shape) * dtype.itemsize
    if math.prod(d for d in shape if d) * dtype.itemsize > np.iinfo(np.intp).max:
        raise ValueError(
            f"{path} has an IDX header of shape {shape}, too large for an array: corrupt or "
            "not an IDX file"
        )
    return size


def parse_idx(data, path, expect=None):
    """The array held by the IDX bytes ``data`` (read-only, a view of ``data``).

    Args:
        data: the file's uncompressed bytes.
        path: the file, for error messages.
        expect: optional ``(type_code, ndim)`` the magic number must match.
    """
    dtype, shape, header = parse_header(data, path, expect)
    size = values_size(shape, dtype, path)
    _check_length(path, shape, size, len(data) - header)
    return _array(data, header, dtype, shape)


def read_idx(path, expect=None):
    """``(array, md5)``: the array in IDX file ``path`` (read-only) and the md5 hex digest of
    its uncompressed bytes. ``expect``: optional ``(type_code, ndim)``, see :func:`parse_idx`.

    Reads the header, then only the bytes it promises and a few more to see that nothing
    follows: a file whose (gzip) content is larger than its header says is refused without
    being read whole.
    """
    path = Path(path)
    with _open(path) as (stream, stored, packed):
        head = _read(stream, 4, path)
        head += _read(stream, 4 * head[3] if len(head) == 4 else 0, path)
        dtype, shape, header = parse_header(head, path, expect)
        size = values_size(shape, dtype, path)
        _check_capacity(path, shape, header, size, stored, packed)
        values = _read(stream, size, path)
        _check_length(path, shape, size, len(values))
        extra = len(_read(stream, _TRAILING_PROBE, path))
    _check_length(path, shape, size, size + extra, more=extra == _TRAILING_PROBE)
    md5 = hashlib.md5(head)
    md5.update(values)
    return _array(values, 0, dtype, shape), md5.hexdigest()


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


@contextlib.contextmanager
def _open(path):
    """Yield ``(stream, stored, packed)``: ``path``'s content, gunzipped if it is a gzip file
    (by content), the file's size (None if not a regular file), and whether it is gzip."""
    with open(path, "rb") as file:
        status = os.fstat(file.fileno())
        stored = status.st_size if stat.S_ISREG(status.st_mode) else None
        packed = file.read(2) == _GZIP_MAGIC
        file.seek(0)
        if not packed:
            yield file, stored, packed
            return
        with gzip.GzipFile(fileobj=file) as stream:
            yield stream, stored, packed


def _read(stream, size, path):
    """Up to ``size`` bytes of ``stream`` (fewer at its end), read in chunks: memory follows
    the bytes there are, not ``size``. ValueError naming ``path`` if its gzip stream is bad."""
    chunks = []
    try:
        while size > 0 and (chunk := stream.read(min(size, _CHUNK))):
            chunks.append(chunk)
            size -= len(chunk)
    except _GZIP_ERRORS as error:
        raise ValueError(f"{path} is a corrupt or truncated gzip file: {error}") from None
    return b"".join(chunks)


def _check_capacity(path, shape, header, size, stored, packed):
    """ValueError naming ``path`` where a file of ``stored`` bytes (``packed``: gzip) cannot
    hold the ``header`` and ``size`` bytes of values its header (``shape``) promises: refused
    before reading. A gzip file unpacks to at most ``_DEFLATE_RATIO`` times its size."""
    if stored is None:
        return
    if not packed:
        _check_length(path, shape, size, min(size, stored - header))
    elif header + size > stored * _DEFLATE_RATIO:
        raise ValueError(
            f"{path} is truncated or corrupt: its header promises shape {shape} ({size:,} bytes "
            f"of values), more than a gzip file of {stored:,} bytes can unpack to"
        )


def _check_length(path, shape, expected, actual, more=False):
    """ValueError naming ``path`` where it holds ``actual`` bytes of values (``more``: at
    least that many) and its header (``shape``) promises ``expected``."""
    if actual < expected:
        raise ValueError(
            f"{path} is truncated: its header promises shape {shape} ({expected} bytes of "
            f"values) but the file holds {actual}"
        )
    if actual > expected:
        raise ValueError(
            f"{path} has {'at least ' if more else ''}{actual - expected} bytes after the "
            f"{expected} bytes of values that its header (shape {shape}) promises: corrupt or "
            "not an IDX file"
        )


def _array(data, offset, dtype, shape):
    """The read-only array of ``shape`` in ``data`` from byte ``offset``."""
    return np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape)
