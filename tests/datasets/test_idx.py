"""The IDX reader: round trip, gzip, and every defect named with its file."""

import gzip
import struct
import zlib

import numpy as np
import pytest

from keras_latent.datasets import idx


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_round_trip(tmp_path, name):
    array = np.random.default_rng(0).integers(0, 256, (3, 5, 4), dtype=np.uint8)
    idx.write_idx(tmp_path / name, array)
    read, md5 = idx.read_idx(tmp_path / name, expect=(idx.UBYTE, 3))
    np.testing.assert_array_equal(read, array)
    assert read.dtype == np.uint8 and len(md5) == 32
    raw = (tmp_path / name).read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    header = gzip.decompress(raw)[:16] if name.endswith(".gz") else raw[:16]
    assert header == struct.pack(">IIII", 0x803, 3, 5, 4)


def test_gzip_is_recognised_by_content_and_md5_is_of_the_uncompressed_bytes(tmp_path):
    array = np.arange(6, dtype=np.uint8)
    idx.write_idx(tmp_path / "plain", array)
    idx.write_idx(tmp_path / "packed.gz", array)
    (tmp_path / "packed").write_bytes((tmp_path / "packed.gz").read_bytes())  # no .gz suffix
    _, md5_plain = idx.read_idx(tmp_path / "plain")
    read, md5_packed = idx.read_idx(tmp_path / "packed")
    np.testing.assert_array_equal(read, array)
    assert md5_plain == md5_packed


def test_other_idx_types():
    data = struct.pack(">BBBBI", 0, 0, 0x0D, 1, 2) + np.array([1.5, -2], ">f4").tobytes()
    np.testing.assert_array_equal(idx.parse_idx(data, "f"), [1.5, -2])


def test_wrong_magic_number_names_the_file(tmp_path):
    idx.write_idx(tmp_path / "labels", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"labels has IDX magic number 0x00000801, expected "):
        idx.read_idx(tmp_path / "labels", expect=(idx.UBYTE, 3))
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="text is not an IDX file"):
        idx.read_idx(tmp_path / "text")


@pytest.mark.parametrize("keep", [2, 10, 16 + 59])
def test_truncated_file(tmp_path, keep):
    idx.write_idx(tmp_path / "full", np.zeros((3, 5, 4), np.uint8))
    (tmp_path / "cut").write_bytes((tmp_path / "full").read_bytes()[:keep])
    with pytest.raises(ValueError, match="cut is truncated"):
        idx.read_idx(tmp_path / "cut")


def test_trailing_bytes(tmp_path):
    idx.write_idx(tmp_path / "full", np.zeros(4, np.uint8))
    (tmp_path / "long").write_bytes((tmp_path / "full").read_bytes() + b"\0")
    with pytest.raises(ValueError, match="long has 1 bytes after"):
        idx.read_idx(tmp_path / "long")


def test_truncated_or_corrupt_gzip(tmp_path):
    idx.write_idx(tmp_path / "full.gz", np.zeros((50, 28, 28), np.uint8))
    packed = (tmp_path / "full.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="cut.gz is a corrupt or truncated gzip file"):
        idx.read_idx(tmp_path / "cut.gz")
    (tmp_path / "bad.gz").write_bytes(packed[:12] + b"\xff" * 20 + packed[32:])
    with pytest.raises(ValueError, match="bad.gz is a corrupt or truncated gzip file"):
        idx.read_idx(tmp_path / "bad.gz")


def test_write_idx_rejects_non_uint8(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        idx.write_idx(tmp_path / "x", np.zeros(3, np.float32))
    assert not (tmp_path / "x").exists()


def _gzip_of_zeros(path, header, mib):
    """Write a gzip file of ``header`` then ``mib`` MiB of zeros, compressed chunk by chunk."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip
    with open(path, "wb") as file:
        file.write(packer.compress(header))
        for _ in range(mib):
            file.write(packer.compress(bytes(1 << 20)))
        file.write(packer.flush())


@pytest.fixture
def gzip_reads(monkeypatch):
    """The sizes asked of every ``GzipFile.read`` call during the test."""
    sizes = []
    original = gzip.GzipFile.read
    monkeypatch.setattr(
        gzip.GzipFile, "read", lambda self, n=-1: sizes.append(n) or original(self, n)
    )
    return sizes


def test_an_oversized_gzip_stream_is_refused_after_reading_what_the_header_promises(
    tmp_path, gzip_reads
):
    """Issue 25 (9): a header of 2 images over a stream that unpacks to far more is refused
    having read the header, the 2 images and a short probe, not the whole stream."""
    header = struct.pack(">IIII", 0x803, 2, 28, 28)
    _gzip_of_zeros(tmp_path / "big.gz", header, mib=8)
    with pytest.raises(ValueError, match=r"big.gz has at least 4096 bytes after the 1568 bytes"):
        idx.read_idx(tmp_path / "big.gz", expect=(idx.UBYTE, 3))
    assert all(n >= 0 for n in gzip_reads) and sum(gzip_reads) <= 16 + 1568 + 4096


def test_a_gzip_file_too_small_for_its_header_is_refused_before_reading(tmp_path, gzip_reads):
    """Deflate unpacks at most 1032 bytes per byte: a header promising more is refused at once."""
    _gzip_of_zeros(tmp_path / "small.gz", struct.pack(">IIII", 0x803, 2**20, 28, 28), mib=1)
    with pytest.raises(ValueError, match=r"small.gz is truncated or corrupt: .* more than a gzip"):
        idx.read_idx(tmp_path / "small.gz")
    assert sum(gzip_reads) <= 16


@pytest.mark.parametrize(
    "shape",
    [
        (2**31 - 1,) * 3,  # overflows int64 when multiplied
        (2**16,) * 4,  # 2**64: wraps to 0 in int64, as if empty
        (0, 2**32 - 1, 2**32 - 1, 2**32 - 1),  # empty, yet too large for numpy's shape
    ],
)
@pytest.mark.parametrize("name", ["huge", "huge.gz"])
def test_header_dimensions_that_overflow_name_the_file(tmp_path, shape, name):
    """Issue 25 (10): sizes are Python integers; a shape no array can take is a ValueError
    naming the file, not numpy's."""
    data = struct.pack(f">I{len(shape)}I", 0x800 | len(shape), *shape) + b"\0" * 10
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(ValueError, match=rf"{name} has an IDX header of shape .* too large"):
        idx.read_idx(tmp_path / name)
    with pytest.raises(ValueError, match="x has an IDX header of shape .* too large"):
        idx.parse_idx(data, "x")


@pytest.mark.parametrize("name", ["big", "big.gz"])
def test_header_larger_than_the_file_is_truncation(tmp_path, name):
    data = struct.pack(">IIII", 0x803, 60000, 2**16, 2**16) + b"\0" * 10
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(ValueError, match=rf"{name} is truncated"):
        idx.read_idx(tmp_path / name)


def test_an_empty_array_reads(tmp_path):
    idx.write_idx(tmp_path / "none.gz", np.zeros((0, 28, 28), np.uint8))
    array, _ = idx.read_idx(tmp_path / "none.gz", expect=(idx.UBYTE, 3))
    assert array.shape == (0, 28, 28)
