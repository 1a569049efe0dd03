"""python -m keras_latent.zoo_figures: the interpolation grids trained presets' cards show."""

import shutil
from pathlib import Path

import pytest

from keras_latent import cards, datasets, presets, zoo
from keras_latent.files import sha256_file
from keras_latent.models import Autoencoder
from keras_latent.zoo_figures import FILE, KEY, PAIRS, STEPS, candidates, main
from tests.helpers import tiny_zoo


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A zoo folder: a trained tiny autoencoder (MNIST) and an untrained one; ``datasets.load``
    stands in with 20 random test images (its calls recorded)."""
    return tmp_path, tiny_zoo(tmp_path, monkeypatch, {"ae": Autoencoder}, 20)


def test_draws_fixed_test_pairs_records_them_and_shows_them_on_the_card(root, capsys):
    folder, calls = root
    assert candidates(folder) == ["ae"]  # "new" has no weights
    weights_before = (folder / "ae" / zoo.WEIGHTS_FILE).read_bytes()
    assert main(["--root", str(folder), "--data-dir", "DATA"]) == 0
    assert calls == [("mnist", "test", Path("DATA"))]
    assert capsys.readouterr().out == (
        "ae: wrote interpolation.png: 8 mnist test pairs, 16 steps of linear interpolation\n"
    )
    weights = zoo.describe(folder / "ae")["weights"]
    record = weights[KEY]
    assert record["pairs"] == [[i, PAIRS + i] for i in range(PAIRS)]
    assert (record["dataset"], record["split"], record["steps"], record["method"]) == (
        "mnist", "test", STEPS, "linear"
    )  # fmt: skip
    assert record["command"] == "python -m keras_latent.zoo_figures ae --data-dir DATA_DIR"
    assert record["weights_sha256"] == weights["sha256"]
    path = folder / "ae" / FILE
    assert path.stat().st_size > 10_000 and record["sha256"] == sha256_file(path)
    assert (folder / "ae" / zoo.WEIGHTS_FILE).read_bytes() == weights_before  # untouched
    card = (folder / "ae" / zoo.README_FILE).read_text()  # a saved preset's card, rewritten
    assert "## Interpolations" in card and "](interpolation.png)" in card
    assert cards.GENERATED_FOOTER not in card
    zoo.load(folder / "ae")  # still loads, weights checked against their sha256


def test_presets_that_cannot_get_one_are_reported(root, monkeypatch, capsys):
    folder, _ = root
    assert main(["--root", str(folder), "new"]) == 1
    assert "new: skipped: not a trained preset under" in capsys.readouterr().out

    def missing(name, split="train", data_dir=None):
        raise FileNotFoundError(f"no {name} files found")

    monkeypatch.setattr(datasets, "load", missing)
    assert main(["--root", str(folder)]) == 0  # every preset that can: the others reported
    assert "ae: skipped: no figure drawn: no mnist files found" in capsys.readouterr().out
    assert main(["--root", str(folder), "ae"]) == 1  # named: it had to get one
    assert not (folder / "ae" / FILE).exists() and KEY not in zoo.describe(folder / "ae")["weights"]
    assert main(["--root", str(folder / "nowhere")]) == 2
    with pytest.raises(ValueError, match="not a trained preset"):
        zoo.add_figure(folder / "new", KEY, folder / "ae" / zoo.README_FILE)


def test_a_shipped_presets_generated_card_is_regenerated(tmp_path):
    """A copy of the shipped acai_lines (lines: its test pairs generated in process) keeps its
    generated card, now with the figure, as ``zoo_build`` writes it."""
    shutil.copytree(presets.ZOO_DIR / "acai_lines", tmp_path / "acai_lines")
    (tmp_path / "acai_lines" / FILE).unlink()
    assert main(["--root", str(tmp_path), "acai_lines"]) == 0
    card = (tmp_path / "acai_lines" / zoo.README_FILE).read_text()
    assert card.endswith(cards.GENERATED_FOOTER + "\n") and "](interpolation.png)" in card
    assert presets.build_presets(tmp_path, names=["acai_lines"], check=True) == []
    record = zoo.describe(tmp_path / "acai_lines")["weights"][KEY]
    assert record["pairs"][0] == [0, 256] and record["drawing"] == "centred"


TRAINED = [name for name, info in zoo.list_presets(details=True).items() if info["weights"]]


def test_the_campaign_presets_are_trained():
    assert {"acai_mnist", "ae_mnist"} <= set(TRAINED)


@pytest.mark.parametrize("name", TRAINED)
def test_shipped_figures_show_the_shipped_weights(name):
    """Issue 24 (3): every shipped preset with trained weights (acai_mnist and ae_mnist among
    them) shows an interpolation grid drawn through those very weights."""
    folder = presets.ZOO_DIR / name
    weights = zoo.read_metadata(folder)["weights"]
    if name.split("_", 1)[1] not in ("mnist", "lines"):
        pytest.skip(f"{name}: its test data are not in ../shared/data, so no figure was drawn")
    record = weights.get(KEY)
    assert record, f"zoo/{name} has no {FILE}: python -m keras_latent.zoo_figures {name}"
    assert record["weights_sha256"] == weights["sha256"], f"zoo/{name}/{FILE} is stale"
    assert sha256_file(folder / record["file"]) == record["sha256"]
