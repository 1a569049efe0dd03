"""The IDX reader: round trip, gzip, and every defect named with its file."""

import gzip
import struct

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
