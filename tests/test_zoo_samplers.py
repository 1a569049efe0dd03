"""python -m keras_latent.zoo_samplers: fit the latent samplers trained presets ship."""

from pathlib import Path

import numpy as np
import pytest

from keras_latent import datasets, zoo
from keras_latent.models import VAE, Autoencoder
from keras_latent.zoo_samplers import candidates, main
from tests.helpers import tiny_zoo


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A zoo folder: a trained tiny autoencoder and VAE (MNIST), an untrained autoencoder;
    ``datasets.load`` stands in with 30 random images (its calls recorded)."""
    return tmp_path, tiny_zoo(tmp_path, monkeypatch, {"ae": Autoencoder, "vae": VAE}, 30)


def test_fits_the_recipe_on_the_training_split_and_records_it(root, capsys):
    folder, calls = root
    assert candidates(folder) == ["ae"]  # the VAE samples its prior; "new" has no weights
    assert main(["--root", str(folder), "--data-dir", "DATA"]) == 0
    assert calls == [("mnist", "train", Path("DATA"))]
    assert capsys.readouterr().out == (
        "ae: fitted a gmm sampler (10 components, seed 0) on the codes of 30 mnist train "
        "images: wrote latent_sampler.json, latent_sampler.npz\n"
    )
    record = zoo.describe(folder / "ae")["weights"]["sampler"]
    assert {k: record[k] for k in ("dataset", "split", "images", "kind", "n_components", "seed")} \
        == {"dataset": "mnist", "split": "train", "images": 30, "kind": "gmm",
            "n_components": 10, "seed": 0}  # fmt: skip
    assert record["command"] == "python -m keras_latent.zoo_samplers ae --data-dir DATA_DIR"
    assert record["weights_sha256"] == zoo.describe(folder / "ae")["weights"]["sha256"]
    model = zoo.load(folder / "ae")
    np.testing.assert_array_equal(model.sample(2, seed=0), model.sample(2, seed=0))

    assert main(["--root", str(folder)]) == 0  # already there: kept
    assert "ae: has a sampler already (--refit" in capsys.readouterr().out
    assert main(["--root", str(folder), "--refit"]) == 0 and len(calls) == 2


def test_presets_that_cannot_get_one_are_reported(root, monkeypatch, capsys):
    folder, _ = root
    assert main(["--root", str(folder), "vae", "new"]) == 1
    out = capsys.readouterr().out
    assert "vae: skipped: not a trained preset that samples from a fitted sampler" in out
    assert "new: skipped" in out

    def missing(name, split="train", data_dir=None):
        raise FileNotFoundError(f"no {name} files found")

    monkeypatch.setattr(datasets, "load", missing)
    assert main(["--root", str(folder)]) == 0  # every preset that can: the others reported
    assert "ae: skipped: no sampler fitted: no mnist files found" in capsys.readouterr().out
    assert main(["--root", str(folder), "ae"]) == 1  # named: it had to get one
    assert not (folder / "ae" / "latent_sampler.json").exists()
    assert main(["--root", str(folder / "nowhere")]) == 2
