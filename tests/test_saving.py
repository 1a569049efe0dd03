"""Model folders: round trip, and clear errors for missing, malformed or mismatched files."""

import json

import numpy as np
import pytest

from keras_latent import saving
from keras_latent.files import atomic_folder, atomic_path
from keras_latent.models import ACAI, Autoencoder
from tests.helpers import TINY


def test_round_trip(tmp_path, random_images):
    model = ACAI(**TINY, seed=2, name="acai_tiny")
    saving.save_model(model, tmp_path / "run")
    loaded = saving.load_model(tmp_path / "run")
    assert isinstance(loaded, ACAI) and loaded.name == "acai_tiny" and loaded.compiled
    x = random_images(2)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)
    assert not list((tmp_path / "run").glob(".tmp-*"))  # no temporary files left behind


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        saving.load_model(tmp_path / "nowhere")
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match="config.json does not exist"):
        saving.load_model(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        saving.load_model(folder)
    (folder / "config.json").write_text(json.dumps({"class_name": "Nope", "config": {}}))
    with pytest.raises(ValueError, match="does not describe a Keras model"):
        saving.load_model(folder)


def test_missing_weights_say_how_to_train(tmp_path):
    saving.save_model(Autoencoder(**TINY), tmp_path / "run")
    (tmp_path / "run" / "model.weights.h5").unlink()
    with pytest.raises(FileNotFoundError, match="keras-latent train"):
        saving.load_model(tmp_path / "run")
    assert saving.load_model(tmp_path / "run", weights=False).encoder is not None


# Keras warns for each container of the wrong architecture before the load fails.
@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_corrupt_or_mismatched_weights(tmp_path):
    saving.save_model(Autoencoder(**TINY), tmp_path / "small")
    saving.save_model(Autoencoder(**{**TINY, "depth": 8}), tmp_path / "big")
    (tmp_path / "big" / "model.weights.h5").replace(tmp_path / "small" / "model.weights.h5")
    with pytest.raises(ValueError, match="another architecture"):
        saving.load_model(tmp_path / "small")
    (tmp_path / "small" / "model.weights.h5").write_bytes(b"\x89HDF\r\n garbage")
    with pytest.raises(ValueError, match="corrupt"):
        saving.load_model(tmp_path / "small")


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_written_files_are_readable_by_others(tmp_path):
    """Files written through a temporary name get the usual permissions, not mkstemp's 0600."""
    target = tmp_path / "metrics.json"
    with atomic_path(target) as tmp:
        tmp.write_text("{}")
    assert target.stat().st_mode & 0o044 == 0o044


def test_save_model_can_leave_the_optimizer_out(tmp_path, random_images):
    import h5py

    model = Autoencoder(**TINY)
    model.compile()
    model.fit(random_images(4), batch_size=4, epochs=1, verbose=0)  # builds Adam's moments
    saving.save_model(model, tmp_path / "with")
    saving.save_model(model, tmp_path / "without", optimizer=False)
    with h5py.File(tmp_path / "with" / "model.weights.h5") as full:
        assert "optimizer" in full
    with h5py.File(tmp_path / "without" / "model.weights.h5") as lean:
        assert "optimizer" not in lean
    loaded = saving.load_model(tmp_path / "without")
    x = random_images(2)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)


def test_weights_of_another_model_are_refused_not_loaded_in_part(tmp_path):
    """An ACAI's weights hold a critic an Autoencoder lacks: Keras would load the rest and skip
    the critic silently. The file must hold exactly the model's variables."""
    saving.save_model(ACAI(**TINY, seed=1), tmp_path / "acai")
    saving.save_model(Autoencoder(**TINY, seed=2), tmp_path / "ae")
    acai_weights = tmp_path / "acai" / "model.weights.h5"
    ae_weights = tmp_path / "ae" / "model.weights.h5"
    into_ae = tmp_path / "ae_with_acai_weights"
    saving.save_model(Autoencoder(**TINY), into_ae)
    acai_weights.replace(into_ae / "model.weights.h5")
    model = Autoencoder(**TINY, seed=3)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError) as error:
        saving.load_weights(model, into_ae)
    message = str(error.value)
    assert str(into_ae / "model.weights.h5") in message and "another architecture" in message
    assert "extra variables in the file: 14 under critic/" in message
    assert "missing" not in message and "Nothing was loaded" in message
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # not loaded in part

    into_acai = tmp_path / "acai"
    ae_weights.replace(into_acai / "model.weights.h5")
    with pytest.raises(ValueError, match="variables of the model missing from the file: 14 under "
                       "critic/ \\(first: critic/layers/conv2d/vars/0\\)"):  # fmt: skip
        saving.load_model(into_acai)


def test_weights_with_the_optimizer_state_still_load(tmp_path, random_images):
    model = Autoencoder(**TINY)
    model.compile()
    model.fit(random_images(4), batch_size=4, epochs=1, verbose=0)
    saving.save_model(model, tmp_path / "with")  # the optimizer's moments are in the file
    loaded = saving.load_model(tmp_path / "with")
    x = random_images(2)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)


def test_atomic_folder_refuses_a_file_the_current_folder_and_folders_it_did_not_write(
    tmp_path, monkeypatch
):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(ValueError, match="notes.txt exists and is not a folder"):
        with atomic_folder(notes):
            pass
    assert notes.read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

    thesis = tmp_path / "thesis"
    (thesis / "photos").mkdir(parents=True)
    (thesis / "thesis.tex").write_text("\\section{}")
    with pytest.raises(ValueError, match=r"thesis is a folder keras-latent did not write \(it "
                       r"holds photos, thesis.tex\)"):  # fmt: skip
        with atomic_folder(thesis, markers=(("config.json",),)):
            pass
    assert sorted(p.name for p in thesis.iterdir()) == ["photos", "thesis.tex"]

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for path in (".", "", "..", str(work), "/"):
        with pytest.raises(ValueError, match="is the current folder or a folder above it"):
            with atomic_folder(path):
                pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "thesis", "work"]
    assert list(work.iterdir()) == []

    with atomic_folder("empty", markers=(("config.json",),)) as tmp:  # absent, then empty: fine
        (tmp / "a").write_text("1")
    with atomic_folder(work / "empty", markers=(("a",),)) as tmp:  # holds the markers: fine
        (tmp / "b").write_text("2")
    assert [p.name for p in (work / "empty").iterdir()] == ["b"]
    assert [p.name for p in work.iterdir()] == ["empty"]  # no temporary folder left


def test_atomic_folder_follows_a_symbolic_link(tmp_path):
    target = tmp_path / "disk" / "run"
    target.mkdir(parents=True)
    (tmp_path / "run").symlink_to(target)
    with atomic_folder(tmp_path / "run") as tmp:
        (tmp / "new").write_text("1")
    assert (tmp_path / "run").is_symlink() and [p.name for p in target.iterdir()] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk", "run"]
    assert [p.name for p in (tmp_path / "disk").iterdir()] == ["run"]
