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


def test_save_preset_copies_further_files_in_the_same_write(tiny_preset, tmp_path):
    """``files=``: a figure the card shows lands with the preset; a reserved or missing name is
    refused before anything is written."""
    model, path = tiny_preset
    figure = tmp_path / "curve.png"
    figure.write_bytes(b"png bytes")
    zoo.save_preset(model, path, files={"in_training.png": figure})
    assert (path / "in_training.png").read_bytes() == b"png bytes"
    before = snapshot(path)
    with pytest.raises(ValueError, match="'model.weights.h5' is not a free file name"):
        zoo.save_preset(model, path, files={"model.weights.h5": figure})
    with pytest.raises(ValueError, match="'sub/a.png' is not a free file name"):
        zoo.save_preset(model, path, files={"sub/a.png": figure})
    with pytest.raises(FileNotFoundError, match="missing.png"):
        zoo.save_preset(model, path, files={"a.png": tmp_path / "missing.png"})
    assert snapshot(path) == before


def test_save_preset_bad_input(tmp_path):
    model = Autoencoder(**TINY, name="ae_lines")  # a zoo name, not the zoo's architecture
    model.compile(optimizer=keras.optimizers.Adam(3e-4))
    path = zoo.save_preset(model, tmp_path / "mine", metadata={"description": "mine"})
    meta = zoo.describe(path)
    assert meta["description"] == "mine" and meta["architecture"]["depth"] == 4
    assert meta["dataset"]["data"] is None and "origin" not in meta  # nothing known
    assert meta["recipe"]["optimizer"]["class_name"] == "Adam"
    assert np.isclose(float(zoo.load(path, weights=False).optimizer.learning_rate), 3e-4)
    with pytest.raises(TypeError, match="metadata must be a dict"):
        zoo.save_preset(model, tmp_path / "bad", metadata=["x"])
    with pytest.raises(TypeError, match="JSON-serialisable"):
        zoo.save_preset(model, tmp_path / "bad", metadata={"when": object()})
    with pytest.raises(TypeError, match="must be a keras.Model"):
        zoo.save_preset("model", tmp_path / "bad")
    with pytest.raises(TypeError, match="data must name what the model was trained on"):
        zoo.save_preset(model, tmp_path / "bad", data=["mnist"])
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


def card_load_argument(card):
    """The argument of the ``kl.zoo.load(...)`` line of a model card."""
    return json.loads(re.search(r"kl\.zoo\.load\((\"[^\"]*\")\)", card).group(1))


def test_a_preset_fine_tuned_on_other_data_gets_its_own_card(tmp_path, random_images):
    """Issue 26 (3): acai_mnist's weights trained on one's own shapes, saved: the card is the
    folder's, not acai_mnist's (no MNIST, no paper figure, loads the folder)."""
    model = zoo.load("acai_mnist")  # shipped with trained weights
    shipped = zoo.describe(model.name)
    model.fit(random_images(8), epochs=1, batch_size=8, verbose=0)
    path = zoo.save_preset(model, tmp_path / "my_shapes", metadata={"weights": {"images_seen": 8}})
    card = (path / "README.md").read_text()
    meta = zoo.describe(path)
    assert card.startswith("# my_shapes\n") and f"# {model.name}" not in card
    assert meta["name"] == "my_shapes" and "paper" not in meta
    assert meta["origin"] == {
        "preset": model.name, "weights": "trained", "sha256": shipped["weights"]["sha256"],
    }  # fmt: skip
    assert f"| built from | preset `{model.name}`: its architecture, fine-tuned from" in card
    assert "| dataset | unknown (not recorded" in card and shipped["dataset"]["summary"] not in card
    for key, figure in (shipped["paper"] or {}).items():
        if key not in presets.PAPER_KEYS:
            assert str(figure) not in card  # 0.99 for acai_mnist
    assert "paper" not in card.lower() and "do not edit" not in card and "zoo_build" not in card
    assert card_load_argument(card) == str(path)
    assert zoo.load(card_load_argument(card)).name == model.name
    assert "| images seen | 8 |" in card


@pytest.mark.backend  # the model's origin is a plain attribute beside each backend's tracking
def test_the_card_names_the_data_and_loads_a_relative_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = presets.build("ae_lines")
    card = (zoo.save_preset(model, "ae_lines", data="lines") / "README.md").read_text()
    assert card_load_argument(card) == "./ae_lines"  # a bare name would be the shipped preset
    assert zoo.load(card_load_argument(card), compile=False) is not None
    assert "| built from | preset `ae_lines`: its architecture, with fresh weights" in card
    assert "the paper's synthetic lines, generated in process" in card
    assert "`keras_latent.datasets.load('lines')`" in card and "0.00688" not in card
    assert zoo.describe("./ae_lines")["dataset"]["data"] == "lines"
    path = zoo.save_preset(model, tmp_path / "runs" / "x", data="circles and squares, 32x32 PNG",
                           location=tmp_path / "elsewhere" / "shapes")  # fmt: skip
    card = (path / "README.md").read_text()
    assert card.startswith("# shapes\n") and "| dataset | circles and squares, 32x32 PNG |" in card
    assert card_load_argument(card) == str(tmp_path / "elsewhere" / "shapes")
    assert zoo.describe(path)["dataset"] == {
        "name": "circles and squares, 32x32 PNG", "data": None, "image_shape": [32, 32, 1],
        "num_classes": None,
    }  # fmt: skip


# ------------------------------------------------------------------------- latent samplers
@pytest.fixture
def sampler_preset(tmp_path, random_images):
    """A tiny preset saved with a fitted latent sampler."""
    model = Autoencoder(**TINY, seed=3, name="tiny")
    model.fit_sampler(random_images(30), n_components=2, seed=5)
    record = {"dataset": "random", "split": "train"}
    path = zoo.save_preset(
        model, tmp_path / "presets" / "tiny", metadata={"weights": {"sampler": record}}
    )
    return model, path


@pytest.mark.backend
def test_save_preset_round_trip_with_a_latent_sampler(sampler_preset):
    model, path = sampler_preset
    files = ["latent_sampler.json", "latent_sampler.npz"]
    assert sorted(p.name for p in path.iterdir()) == sorted(PRESET_FILES + files)
    record = zoo.describe(path)["weights"]["sampler"]
    assert {k: record[k] for k in ("kind", "n_components", "seed", "images", "dataset", "split")} \
        == {"kind": "gmm", "n_components": 2, "seed": 5, "images": 30, "dataset": "random",
            "split": "train"}  # fmt: skip
    assert record["files"] == {name: sha256_file(path / name) for name in files}
    loaded = zoo.load(path)
    np.testing.assert_array_equal(loaded.latent_sampler.means, model.latent_sampler.means)
    np.testing.assert_allclose(loaded.sample(4, seed=1), model.sample(4, seed=1), atol=1e-6)
    assert zoo.load(path, weights=False).latent_sampler is None  # fresh weights: no sampler
    again = zoo.save_preset(loaded, path.parent / "again")  # a loaded preset keeps its sampler
    np.testing.assert_allclose(zoo.load(again).sample(2, seed=0), loaded.sample(2, seed=0))
    with pytest.raises(ValueError, match="the model must have one"):
        zoo.save_preset(Autoencoder(**TINY), path.parent / "bad", {"weights": {"sampler": {}}})


def test_corrupt_or_mismatched_sampler_files_are_refused_naming_them(sampler_preset, tmp_path):
    _, path = sampler_preset
    tampered = shutil.copytree(path, tmp_path / "tampered")
    with open(tampered / "latent_sampler.npz", "ab") as arrays:
        arrays.write(b"\0")
    with pytest.raises(ValueError, match=r"latent_sampler.npz does not match its expected sha256"):
        zoo.load(tampered)
    (tampered / "latent_sampler.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"latent_sampler.npz does not exist but"):
        zoo.load(tampered)

    bare = shutil.copytree(path, tmp_path / "bare")  # nothing records the sampler's sha256
    (bare / "metadata.json").unlink()
    (bare / "latent_sampler.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"bare/latent_sampler.npz is not a readable .npz file"):
        zoo.load(bare)
    other = Autoencoder(**{**TINY, "latent": 2}).fit_sampler(
        np.random.default_rng(0).uniform(-1, 1, (30, 32, 32, 1)), n_components=2
    )
    from keras_latent.sampling import save_sampler

    save_sampler(other, bare)  # a sampler of another model's codes (8, 8, 2)
    with pytest.raises(ValueError, match=r"latent has shape \(8, 8, 4\): a sampler of another"):
        zoo.load(bare)


def test_load_from_a_folder_url_fetches_the_sampler(sampler_preset, cache, tmp_path):
    model, path = sampler_preset
    www = tmp_path / "www"
    shutil.copytree(path, www / "tiny")
    with local_http_server(www) as server:
        loaded = zoo.load(f"{server.url}/tiny", compile=False)
        assert "/tiny/latent_sampler.npz" in server.requests
        (www / "tiny" / "latent_sampler.npz").write_bytes(b"replaced")
        with pytest.raises(ValueError, match="checksum mismatch|expected sha256"):
            zoo.load(f"{server.url}/tiny", sha256=sha256_file(path / "model.weights.h5"))
    np.testing.assert_allclose(loaded.sample(3, seed=2), model.sample(3, seed=2), atol=1e-6)


@pytest.mark.backend
def test_shipped_eccentric_mnist_samples_at_once():
    """The shipped preset carries its sampler, fitted on its MNIST training codes."""
    model = zoo.load("eccentric_mnist", compile=False)
    assert model.latent_sampler is not None
    record = zoo.describe("eccentric_mnist")["weights"]["sampler"]
    assert {k: record[k] for k in ("dataset", "split", "images", "kind", "n_components", "seed")} \
        == {"dataset": "mnist", "split": "train", "images": 60000, "kind": "gmm",
            "n_components": 10, "seed": 0}  # fmt: skip
    images = model.sample(8, seed=0)
    assert images.shape == (8, 32, 32, 1) and np.isfinite(images).all()
    np.testing.assert_array_equal(images, model.sample(8, seed=0))


def test_every_trained_preset_that_samples_from_a_sampler_ships_one_or_says_how():
    """Trained presets of deterministic autoencoders ship a sampler where their training data
    were at hand when the zoo was built; on the others ``sample`` names ``fit_sampler``."""
    shipped = []
    for name, entry in zoo.list_presets(details=True).items():
        folder = zoo.presets_dir() / name
        meta = zoo.describe(name)
        prior = meta["model"]["class"] in ("VAE", "AAE", "WAE")
        has = (folder / "latent_sampler.json").is_file()
        assert not (has and (prior or not entry["weights"])), name
        assert has == bool((meta.get("weights") or {}).get("sampler")), name
        if has:
            shipped.append(name)
        elif entry["weights"] and not prior:
            with pytest.raises(RuntimeError, match=r"call model.fit_sampler\(x_train"):
                zoo.load(name, compile=False).sample(1)
    assert "eccentric_mnist" in shipped


def test_file_names_agree_with_the_modules_that_write_them():
    # zoo names a run's checkpoint itself: importing keras_latent.training imports Keras, which
    # listing the zoo must not need (keras-latent list starts without a backend).
    from keras_latent import saving, training

    assert zoo.CHECKPOINT_FILE == training.CHECKPOINT_FILE
    assert (zoo.CONFIG_FILE, zoo.WEIGHTS_FILE) == (saving.CONFIG_FILE, saving.WEIGHTS_FILE)
