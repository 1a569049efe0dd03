"""Model folders: round trip, and clear errors for missing, malformed or mismatched files."""

import json

import numpy as np
import pytest

from keras_latent import saving
from keras_latent.files import atomic_path
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
