"""keras_latent.fetch: file URLs, archive formats and unsafe or malformed archives."""

import io
import json
import tarfile
import zipfile

import pytest

from keras_latent import fetch
from keras_latent.files import sha256_file


@pytest.fixture
def preset(tmp_path):
    """A preset-shaped folder (the files' contents do not matter to fetch), no weights."""
    folder = tmp_path / "src" / "p"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"class_name": "Nothing"}\n')
    (folder / "metadata.json").write_text(json.dumps({"name": "p", "weights": None}))
    return folder


def add_bytes(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def test_home_and_urls(monkeypatch):
    monkeypatch.delenv("KERAS_LATENT_HOME", raising=False)
    assert fetch.home().name == ".keras_latent"
    monkeypatch.setenv("KERAS_LATENT_HOME", "/somewhere/else")
    assert str(fetch.home()) == "/somewhere/else"
    assert fetch.is_url("https://x.org/a.tar.gz") and fetch.is_url("file:///tmp/a")
    assert not fetch.is_url("acai_mnist") and not fetch.is_url("./zoo/acai_mnist")
    with pytest.raises(ValueError, match="not an http"):
        fetch.fetch_preset("ftp://x.org/a.tar.gz")
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        fetch.fetch_preset("file:///tmp/a.tar.gz", sha256="abc")


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
def test_file_url_archives_with_the_preset_at_the_top_or_in_a_folder(
    preset, tmp_path, cache, suffix
):
    archive = tmp_path / f"p{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in preset.iterdir():
                zipped.write(path, path.name)  # files at the top of the archive
    else:
        with tarfile.open(archive, "w:gz") as tarred:
            tarred.add(preset, arcname="p")  # files in one folder
    folder = fetch.fetch_preset(archive.as_uri(), sha256=sha256_file(archive).upper())
    assert folder.parent == cache / "presets" and folder.name.startswith("p-")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "metadata.json"]
    assert fetch.fetch_preset(archive.as_uri(), sha256=sha256_file(archive)) == folder  # cached


def test_file_url_folder(preset, cache):
    folder = fetch.fetch_preset(preset.as_uri())
    assert (folder / "config.json").read_bytes() == (preset / "config.json").read_bytes()
    assert not (folder / "model.weights.h5").exists()  # the metadata says: no weights


def test_weights_with_no_sha256_to_check_are_refused(preset, cache):
    (preset / "metadata.json").write_text(json.dumps({"weights": {"file": "model.weights.h5"}}))
    (preset / "model.weights.h5").write_bytes(b"weights")
    with pytest.raises(ValueError, match="no sha256 to check the weights"):
        fetch.fetch_preset(preset.as_uri())
    digest = sha256_file(preset / "model.weights.h5")
    folder = fetch.fetch_preset(preset.as_uri(), sha256=digest)
    assert (folder / "model.weights.h5").read_bytes() == b"weights"


def test_unsafe_or_malformed_archives_are_refused(tmp_path, cache):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tarred:
        add_bytes(tarred, "config.json", b"{}")
        add_bytes(tarred, "../escaped.txt", b"outside")
    with pytest.raises(ValueError, match="not a readable preset archive"):
        fetch.fetch_preset(evil.as_uri())
    assert not list(tmp_path.rglob("escaped.txt"))

    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz") as tarred:
        add_bytes(tarred, "notes.txt", b"no preset here")
    with pytest.raises(ValueError, match="holds no preset"):
        fetch.fetch_preset(empty.as_uri())

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ValueError, match="not a readable preset archive"):
        fetch.fetch_preset(garbage.as_uri())
    with pytest.raises(FileNotFoundError, match="no such file"):
        fetch.fetch_preset((tmp_path / "missing.tar.gz").as_uri())
    assert list((cache / "presets").iterdir()) == []
