"""keras_latent.zoo: list presets, load them (names, folders, URLs) and save them."""

import errno
import json
import re
import shutil
import tarfile
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from keras_latent import fetch, presets, saving, zoo
from keras_latent.files import sha256_file
from keras_latent.models import ACAI, Autoencoder
from tests.helpers import TINY
from tests.servers import closed_port_url, local_http_server

PRESET_FILES = ["README.md", "config.json", "metadata.json", "model.weights.h5"]


@pytest.fixture
def tiny_preset(tmp_path):
    model = Autoencoder(**TINY, seed=3, name="tiny")
    path = zoo.save_preset(
        model, tmp_path / "presets" / "tiny", metadata={"weights": {"images_seen": 0}}
    )
    return model, path


@pytest.fixture
def served(tiny_preset, tmp_path):
    """The tiny preset on a local HTTP server: as a folder ``/tiny`` and ``/tiny.tar.gz``."""
    model, path = tiny_preset
    www = tmp_path / "www"
    shutil.copytree(path, www / "tiny")
    with tarfile.open(www / "tiny.tar.gz", "w:gz") as archive:
        archive.add(path, arcname="tiny")
    with local_http_server(www) as server:
        yield SimpleNamespace(
            url=server.url,
            requests=server.requests,
            model=model,
            www=www,
            digest=sha256_file(www / "tiny.tar.gz"),
        )


def snapshot(folder):
    """Every file under ``folder`` and its bytes (empty if ``folder`` does not exist)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_list_presets_names_descriptions_and_weights():
    names = zoo.list_presets()
    assert names == sorted(names) and "acai_mnist" in names and "ae_lines" in names
    listing = zoo.list_presets(details=True)
    assert list(listing) == names
    for name, entry in listing.items():
        assert entry["description"] == presets.description(name)
        assert entry["weights"] == (zoo.presets_dir() / name / "model.weights.h5").is_file()
        assert (entry["model"], entry["dataset"]) == (
            presets.MODELS[presets.PRESETS[name][0]]["class"],
            presets.PRESETS[name][1],
        )


def test_unknown_names_and_missing_weights():
    with pytest.raises(ValueError, match="unknown preset 'acai_mnst'; did you mean acai_mnist"):
        zoo.load("acai_mnst")
    untrained = [n for n, e in zoo.list_presets(details=True).items() if not e["weights"]]
    if not untrained:
        pytest.skip("every preset has weights")
    with pytest.raises(FileNotFoundError, match=f"`keras-latent train {untrained[0]}`"):
        zoo.load(untrained[0])


def test_load_compiles_with_the_presets_recipe():
    model = zoo.load("ae_mnist_dz32", weights=False)
    assert model.compiled and isinstance(model.optimizer, keras.optimizers.Adam)
    assert np.isclose(float(model.optimizer.epsilon), 1e-8)
    assert np.isclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), 1e-4)
    assert not zoo.load("ae_mnist_dz32", weights=False, compile=False).compiled


@pytest.mark.backend
def test_save_preset_round_trip(tiny_preset, random_images):
    model, path = tiny_preset
    assert sorted(p.name for p in path.iterdir()) == PRESET_FILES
    assert [p.name for p in path.parent.iterdir()] == ["tiny"]  # no temporary folder left
    meta = zoo.describe(path)
    assert meta["weights"]["sha256"] == sha256_file(path / "model.weights.h5")
    assert meta["weights"]["backend"] == keras.backend.backend()
    assert meta["weights"]["images_seen"] == 0 and meta["weights"]["seed"] == 3
    assert meta["parameter_count"] == model.count_params() and meta["architecture"]["depth"] == 4
    assert "| images seen | 0 |" in (path / "README.md").read_text()
    loaded = zoo.load(path)
    assert loaded.compiled and loaded.seed is None and loaded.name == "tiny"
    x = random_images(3)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)
    history = loaded.fit(x, epochs=1, batch_size=3, verbose=0)  # compiled: fit works at once
    assert np.isfinite(history.history["loss"][0])


def test_save_preset_replaces_a_preset_atomically(tiny_preset, monkeypatch):
    model, path = tiny_preset
    zoo.save_preset(model, path, metadata={"weights": {"images_seen": 64}})
    assert zoo.describe(path)["weights"]["images_seen"] == 64
    before = snapshot(path)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(saving, "save_model", full_disk)
    with pytest.raises(OSError, match="No space left"):
        zoo.save_preset(model, path, metadata={"weights": {"images_seen": 128}})
    assert snapshot(path) == before
    assert [p.name for p in path.parent.iterdir()] == ["tiny"]


def test_save_preset_bad_input(tmp_path):
    model = Autoencoder(**TINY, name="ae_lines")  # a zoo name, not the zoo's architecture
    model.compile(optimizer=keras.optimizers.Adam(3e-4))
    path = zoo.save_preset(model, tmp_path / "mine", metadata={"description": "mine"})
    meta = zoo.describe(path)
    assert meta["description"] == "mine" and meta["architecture"]["depth"] == 4
    assert "dataset" not in meta and meta["recipe"]["optimizer"]["class_name"] == "Adam"
    assert np.isclose(float(zoo.load(path, weights=False).optimizer.learning_rate), 3e-4)
    with pytest.raises(TypeError, match="metadata must be a dict"):
        zoo.save_preset(model, tmp_path / "bad", metadata=["x"])
    with pytest.raises(TypeError, match="JSON-serialisable"):
        zoo.save_preset(model, tmp_path / "bad", metadata={"when": object()})
    with pytest.raises(TypeError, match="must be a keras.Model"):
        zoo.save_preset("model", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


# Keras warns for each container of the wrong architecture before the load fails.
@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_bad_local_presets(tiny_preset, tmp_path):
    _, path = tiny_preset
    with pytest.raises(FileNotFoundError, match="does not exist"):
        zoo.load(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        zoo.load("./nowhere")
    with pytest.raises(TypeError, match="preset name, a folder or a URL"):
        zoo.load(3)
    with pytest.raises(ValueError, match="empty"):
        zoo.load("")
    broken = shutil.copytree(path, tmp_path / "broken")
    (broken / "config.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"config.json is not valid JSON"):
        zoo.load(broken)
    (broken / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"config.json does not exist"):
        zoo.load(broken)

    tampered = shutil.copytree(path, tmp_path / "tampered")
    with open(tampered / "model.weights.h5", "ab") as weights:
        weights.write(b"\0")
    with pytest.raises(ValueError, match="does not match its expected sha256"):
        zoo.load(tampered)
    with pytest.raises(ValueError, match="does not match its expected sha256"):
        zoo.load(path, sha256="0" * 64)

    other = shutil.copytree(path, tmp_path / "other")
    (other / "metadata.json").unlink()  # a bare run folder: nothing records the sha256
    assert zoo.load(other).compiled  # loads, compiled with the model's default optimizer
    saving.save_model(Autoencoder(**{**TINY, "depth": 8}), tmp_path / "bigger")
    shutil.copy(tmp_path / "bigger" / "model.weights.h5", other / "model.weights.h5")
    with pytest.raises(ValueError, match="another architecture"):
        zoo.load(other)


@pytest.mark.backend
def test_load_from_an_archive_url_once_then_from_the_cache(served, cache, random_images):
    url = f"{served.url}/tiny.tar.gz"
    model = zoo.load(url, sha256=served.digest)
    x = random_images(2)
    np.testing.assert_allclose(model.reconstruct(x), served.model.reconstruct(x), atol=1e-6)
    entries = list((cache / "presets").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("tiny-")
    assert sorted(p.name for p in entries[0].iterdir()) == PRESET_FILES
    zoo.load(url, sha256=served.digest, compile=False)
    assert served.requests.count("/tiny.tar.gz") == 1


def test_load_from_a_folder_url_checks_the_weights_against_the_metadata(served, cache):
    assert zoo.load(f"{served.url}/tiny", compile=False).name == "tiny"
    cached = snapshot(cache)
    tampered = shutil.copytree(served.www / "tiny", served.www / "tampered")
    (tampered / "model.weights.h5").write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="checksum mismatch"):
        zoo.load(f"{served.url}/tampered")
    assert snapshot(cache) == cached
    assert len(list((cache / "presets").iterdir())) == 1


def test_checksum_mismatch_or_truncation_leaves_nothing_in_the_cache(served, cache):
    with pytest.raises(ValueError, match="checksum mismatch"):
        zoo.load(f"{served.url}/tiny.tar.gz", sha256="0" * 64)
    with pytest.raises(ValueError, match="truncated"):
        zoo.load(f"{served.url}/truncated/tiny.tar.gz", sha256=served.digest)
    with pytest.raises(ValueError, match="truncated"):
        zoo.load(f"{served.url}/truncated/tiny.tar.gz")
    assert snapshot(cache) == {}
    assert list((cache / "presets").iterdir()) == []


def test_unreachable_or_missing_urls_are_clear_errors(served, cache):
    with pytest.raises(ConnectionError, match="could not reach http://127.0.0.1"):
        zoo.load(closed_port_url())
    with pytest.raises(FileNotFoundError, match="HTTP 404"):
        zoo.load(f"{served.url}/nothing.tar.gz")
    with pytest.raises(FileNotFoundError, match="HTTP 404"):
        zoo.load(f"{served.url}/nothing")
    assert snapshot(cache) == {}


def test_a_full_disk_while_caching_is_a_clear_error_and_keeps_the_cache(served, cache, monkeypatch):
    zoo.load(f"{served.url}/tiny.tar.gz", sha256=served.digest, compile=False)
    before = snapshot(cache)

    def full_disk(out, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "_write", full_disk)
    with pytest.raises(OSError, match="no space left on the device while caching") as error:
        zoo.load(f"{served.url}/tiny", compile=False)
    assert error.value.errno == errno.ENOSPC
    assert snapshot(cache) == before
    assert len(list((cache / "presets").iterdir())) == 1


def test_save_preset_refuses_a_folder_it_did_not_write(tmp_path):
    model = Autoencoder(**TINY, name="tiny")
    thesis = tmp_path / "thesis"
    (thesis / "photos").mkdir(parents=True)
    (thesis / "photos" / "a.jpg").write_bytes(b"jpeg")
    (thesis / "thesis.tex").write_text("\\section{Results}")
    before = snapshot(thesis)
    with pytest.raises(
        ValueError, match=rf"{re.escape(str(thesis))} is a folder keras-latent did not write"
    ):
        zoo.save_preset(model, thesis)
    assert snapshot(thesis) == before
    assert [p.name for p in tmp_path.iterdir()] == ["thesis"]  # nothing left beside it

    empty = tmp_path / "empty"
    empty.mkdir()
    assert zoo.load(zoo.save_preset(model, empty), compile=False).name == "tiny"
    run = tmp_path / "run"  # a run folder (interrupted training): replaced by the preset
    run.mkdir()
    (run / "checkpoint.json").write_text("{}")
    zoo.save_preset(model, run)
    assert sorted(p.name for p in run.iterdir()) == PRESET_FILES
    saving.save_model(model, tmp_path / "model")  # config.json and weights: a model folder
    zoo.save_preset(model, tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == PRESET_FILES


def test_save_preset_refuses_a_file_and_leaves_nothing_behind(tmp_path):
    notes = tmp_path / "notes"
    notes.write_text("my notes")
    with pytest.raises(ValueError, match=rf"{re.escape(str(notes))} exists and is not a folder"):
        zoo.save_preset(Autoencoder(**TINY), notes)
    assert notes.read_text() == "my notes" and [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_save_preset_refuses_the_current_folder_and_those_above_it(tiny_preset, monkeypatch):
    model, path = tiny_preset
    monkeypatch.chdir(path)  # even a preset folder: replacing it would pull the floor away
    before = snapshot(path.parent)
    for target in (".", "..", str(path), "/"):
        with pytest.raises(ValueError, match="is the current folder or a folder above it"):
            zoo.save_preset(model, target)
    assert snapshot(path.parent) == before
    assert [p.name for p in path.parent.iterdir()] == ["tiny"]


def test_load_refuses_weights_of_another_architecture(tiny_preset, tmp_path):
    """ACAI weights in an Autoencoder preset (its sha256 updated to match): refused, naming the
    file and the critic's variables, not loaded with the critic silently skipped."""
    _, path = tiny_preset
    saving.save_model(ACAI(**TINY), tmp_path / "acai")
    weights = path / "model.weights.h5"
    shutil.copy(tmp_path / "acai" / "model.weights.h5", weights)
    meta = json.loads((path / "metadata.json").read_text())
    meta["weights"]["sha256"] = sha256_file(weights)
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="extra variables in the file: 14 under critic/") as error:
        zoo.load(path)
    assert str(weights) in str(error.value) and "another architecture" in str(error.value)
    assert zoo.load(path, weights=False).name == "tiny"  # the architecture alone still loads
