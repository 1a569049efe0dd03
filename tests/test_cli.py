"""The keras-latent command, end to end on a few steps (in process, the session's backend)."""

import json
import os
import shutil
import signal
import subprocess
import sys

import keras
import matplotlib.image
import numpy as np
import pytest
from PIL import Image

import keras_latent as kl
from keras_latent import cli, hardware, runs, training
from keras_latent.models import Autoencoder
from tests.helpers import write_mnist

# The tiny generated MNIST folders are not the standard files: loading them warns so.
pytestmark = pytest.mark.filterwarnings("ignore::keras_latent.datasets.formats.ChecksumWarning")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "ae_lines"
    code = cli.main(
        ["train", "ae_lines", "--steps", "4", "--steps-per-epoch", "2", "--output", str(run),
         "--eval-pairs", "8"]
    )  # fmt: skip
    assert code == 0
    return run


def test_train_writes_a_complete_run_folder(trained_run, capsys):
    assert {p.name for p in trained_run.iterdir()} >= {
        "config.json", "model.weights.h5", "metrics.json", "interpolation.png",
    }  # fmt: skip
    record = json.loads((trained_run / "metrics.json").read_text())
    training = record["training"]
    assert training["steps"] == 4 and training["images_seen"] == 4 * 64
    assert training["backend"] and training["fit_time_s"] > 0
    assert len(training["history"]["loss"]) == 2
    assert set(record["lines"]) >= {"mean_distance", "smoothness", "pairs", "steps"}
    assert record["paper_lines"] == {"mean_distance": 6.88e-3, "smoothness": 0.44}
    image = matplotlib.image.imread(trained_run / "interpolation.png")
    assert image.shape[0] > 100 and image[..., :3].std() > 0.05  # drawn, not blank


def test_a_lines_run_is_drawn_beside_its_shipped_preset(trained_run, tmp_path, capsys):
    """train draws the run's test pairs above the same pairs through the shipped preset of its
    name (ae_lines ships weights) and says so; a preset shipped without weights gets none."""
    assert (trained_run / runs.SHIPPED_FIGURE).stat().st_size > 1000
    model = kl.zoo.load(trained_run, compile=False)
    scores = {"mean_distance": 0.01, "smoothness": 0.5}
    path = runs.compare_with_shipped(model, tmp_path, "ae_lines", 4, scores, pairs=8)
    assert path == tmp_path / runs.SHIPPED_FIGURE and path.stat().st_size > 1000
    shipped = kl.zoo.describe("ae_lines")["weights"]["steps"]
    assert (
        f"wrote {path}: the same 8 test pairs as interpolation.png through this run (4 steps, "
        f"top) and through the shipped ae_lines ({shipped:,} steps, bottom)"
    ) in capsys.readouterr().out
    assert runs.compare_with_shipped(model, tmp_path / "none", "vae_lines", 4, scores) is None
    assert not (tmp_path / "none").exists()


def test_lines_runs_record_and_score_with_their_drawing(trained_run, tmp_path, monkeypatch):
    """A run trains on the official drawing and says so; evaluate scores a model with the
    drawing its metadata records (the shipped ae_lines: the centred one)."""
    assert kl.zoo.describe(trained_run)["weights"]["drawing"] == "official"
    assert json.loads((trained_run / "metrics.json").read_text())["lines"]["drawing"] == "official"
    assert (
        cli.run_drawing("ae_lines")
        == "centred"
        == kl.zoo.describe("ae_lines")["weights"]["drawing"]
    )
    asked = []
    real = kl.metrics.lines.evaluate
    monkeypatch.setattr(
        kl.metrics.lines, "evaluate", lambda *a, **k: asked.append(k["drawing"]) or real(*a, **k)
    )
    out = tmp_path / "shipped"
    assert cli.main(["evaluate", "ae_lines", "--pairs", "2", "--output", str(out)]) == 0
    assert asked == ["centred"]
    assert json.loads((out / "metrics.json").read_text())["lines"]["drawing"] == "centred"


def test_evaluate_and_interpolate_a_run(trained_run, tmp_path, capsys):
    assert cli.main(["evaluate", str(trained_run), "--pairs", "4"]) == 0
    printed = capsys.readouterr().out
    assert '"mean_distance"' in printed and '"pairs": 4' in printed
    png = tmp_path / "grid.png"
    code = cli.main(
        ["interpolate", str(trained_run), "--pairs", "3", "--steps", "5", "--method", "slerp",
         "--output", str(png)]
    )  # fmt: skip
    assert code == 0 and png.stat().st_size > 1000


def test_train_under_a_mixed_precision_policy(tmp_path, capsys):
    import keras

    run = tmp_path / "ae_lines_bf16"
    args = ["train", "ae_lines", "--steps", "2", "--steps-per-epoch", "2", "--output", str(run),
            "--eval-pairs", "4"]  # fmt: skip
    assert cli.main([*args, "--dtype-policy", "mixed_bfloat16"]) == 0
    assert keras.config.dtype_policy().name == "float32"  # the process default is restored
    record = json.loads((run / "metrics.json").read_text())
    assert record["training"]["dtype_policy"] == "mixed_bfloat16"
    assert np.isfinite(record["lines"]["mean_distance"])
    weights = kl.zoo.describe(run)["weights"]
    assert weights["dtype_policy"] == "mixed_bfloat16"
    assert weights["command"].endswith("--dtype-policy mixed_bfloat16")
    assert kl.zoo.load(run).dtype_policy.name == "mixed_bfloat16"
    # A run is resumed under the policy it was trained with.
    assert cli.main([*args[:3], "4", *args[4:], "--dtype-policy", "float32"]) == 2
    assert "dtype policy mixed_bfloat16" in capsys.readouterr().err


def test_bad_requests_fail_cleanly(tmp_path, capsys):
    assert cli.main(["train", "gan_lines", "--steps", "1", "--output", str(tmp_path / "x")]) == 2
    assert "unknown preset 'gan_lines'" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["train", "ae_lines", "--steps", "0"]) == 2


def test_train_output_is_a_preset_folder_and_a_finished_run_is_not_retrained(trained_run, capsys):
    model = kl.zoo.load(trained_run)  # the run folder is a preset: config, weights, metadata
    assert model.name == "ae_lines"
    weights = kl.zoo.describe(trained_run)["weights"]
    assert weights["images_seen"] == 4 * 64 and weights["steps"] == 4
    assert weights["fit_time_s"] > 0 and weights["wall_time_s"] >= weights["fit_time_s"]
    assert weights["backend"] and weights["device"] and weights["date"]
    assert set(weights["metrics"]) == {"mean_distance", "smoothness"}
    state = training.read_checkpoint(trained_run)
    assert state["finished"] and state["step"] == state["optimizer_iterations"] == 4
    before = (trained_run / "model.weights.h5").stat().st_mtime_ns
    assert cli.main(["train", "ae_lines", "--output", str(trained_run)]) == 0
    assert "finished run of ae_lines (4 steps): nothing to train" in capsys.readouterr().out
    assert (trained_run / "model.weights.h5").stat().st_mtime_ns == before


def test_list_shows_presets_descriptions_and_weights(capsys):
    assert cli.main(["list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(rows) == set(kl.zoo.list_presets())
    assert "ACAI on MNIST (d_z 256)" in rows["acai_mnist"]
    for name, entry in kl.zoo.list_presets(details=True).items():
        assert ("no weights" in rows[name]) != entry["weights"]
    assert cli.main(["list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["acai_lines"]["description"]


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """A tiny MNIST-format folder and the train options of fast runs on it."""
    data = write_mnist(tmp_path_factory.mktemp("data"))
    return ["--data-dir", str(data), "--checkpoint-every", "2", "--steps-per-epoch", "2",
            "--batch-size", "8"]  # fmt: skip


@pytest.mark.backend
def test_an_interrupted_run_resumes_from_its_checkpoint(tiny_mnist, tmp_path, monkeypatch, capsys):
    """Interrupted after step 3 (checkpoint at step 2): the rerun trains steps 3-5 only and
    ends with the weights of an uninterrupted run (the data are a function of the step)."""
    trained = []
    original = training.Checkpoint.on_train_batch_end

    def interrupt_after_3(self, batch, logs=None):
        original(self, batch, logs)
        trained.append(self.step)
        if self.step == 3:
            raise KeyboardInterrupt

    run = tmp_path / "run"
    monkeypatch.setattr(training.Checkpoint, "on_train_batch_end", interrupt_after_3)
    code = cli.main(["train", "ae_mnist", "--steps", "5", "--output", str(run), *tiny_mnist])
    assert code == 130 and "run the same command again to resume" in capsys.readouterr().err
    state = training.read_checkpoint(run)
    assert state["step"] == 2 and not state["finished"] and state["data"]["index"] == 2
    assert [p.name for p in run.glob("*.weights.h5")] == ["checkpoint-000000002.weights.h5"]

    trained.clear()
    monkeypatch.setattr(training.Checkpoint, "on_train_batch_end", _counting(original, trained))
    assert cli.main(["train", "ae_mnist", "--output", str(run), *tiny_mnist]) == 0
    out = capsys.readouterr().out
    assert "Resuming ae_mnist from its checkpoint" in out and "at step 2 of 5" in out
    assert trained == [3, 4, 5]  # only the remaining steps
    state = training.read_checkpoint(run)
    assert state["finished"] and state["step"] == state["optimizer_iterations"] == 5
    assert state["images_seen"] == 40 and state["history"]["step"] == [2, 4, 5]
    assert [p.name for p in run.glob("checkpoint-*")] == ["checkpoint-000000005.weights.h5"]

    straight = tmp_path / "straight"
    assert (
        cli.main(["train", "ae_mnist", "--steps", "5", "--output", str(straight), *tiny_mnist]) == 0
    )
    assert capsys.readouterr()
    resumed, uninterrupted = kl.zoo.load(run), kl.zoo.load(straight)
    for a, b in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)

    # More steps extend a finished run, from its last checkpoint.
    assert cli.main(["train", "ae_mnist", "--steps", "6", "--output", str(run), *tiny_mnist]) == 0
    assert "at step 5 of 6: training the remaining 1 steps" in capsys.readouterr().out
    assert training.read_checkpoint(run)["optimizer_iterations"] == 6


@pytest.mark.backend
def test_a_signal_stops_training_with_a_checkpoint_and_evaluations_resume_exactly(
    tiny_mnist, tmp_path, monkeypatch, capsys
):
    """SIGTERM after step 3 (checkpoints every 2): the run stops with a checkpoint of step 3;
    resumed, its evaluations (every 2 global steps) and weights are those of a straight run."""
    original = training.Checkpoint.on_train_batch_end

    def terminate_after_3(self, batch, logs=None):
        if self.step == 2:  # the signal arrives while step 3 trains
            os.kill(os.getpid(), signal.SIGTERM)
        original(self, batch, logs)

    options = ["--steps", "5", "--eval-every", "2", *tiny_mnist]
    run, straight = tmp_path / "run", tmp_path / "straight"
    monkeypatch.setattr(training.Checkpoint, "on_train_batch_end", terminate_after_3)
    assert cli.main(["train", "ae_mnist", "--output", str(run), *options]) == 130
    assert "stopped at step 3 with a checkpoint" in capsys.readouterr().err
    state = training.read_checkpoint(run)
    assert state["step"] == state["optimizer_iterations"] == 3 and not state["finished"]
    assert state["evaluations"]["step"] == [2]
    monkeypatch.setattr(training.Checkpoint, "on_train_batch_end", original)
    assert cli.main(["train", "ae_mnist", "--output", str(run), *options]) == 0
    assert cli.main(["train", "ae_mnist", "--output", str(straight), *options]) == 0

    resumed, uninterrupted = training.read_checkpoint(run), training.read_checkpoint(straight)
    evaluations = resumed["evaluations"]
    assert evaluations["step"] == [2, 4] and evaluations["images_seen"] == [16, 32]
    for key in ("probe_accuracy", "reconstruction_mse"):
        np.testing.assert_allclose(evaluations[key], uninterrupted["evaluations"][key], rtol=1e-5)
    segments = resumed["segments"]
    assert [(s["start_step"], s["step"]) for s in segments] == [(0, 3), (3, 5)]
    assert all(s["device"] and s["backend"] and s["ended"] >= s["started"] for s in segments)
    for a, b in zip(kl.zoo.load(run).get_weights(), kl.zoo.load(straight).get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    training_record = json.loads((run / "metrics.json").read_text())["training"]
    assert training_record["evaluations"] == evaluations and len(training_record["segments"]) == 2


def test_a_second_process_on_a_run_folder_is_refused(tiny_mnist, tmp_path, capsys):
    run = tmp_path / "run"
    with runs.run_lock(run):  # as another training process holds it
        code = cli.main(["train", "ae_mnist", "--steps", "2", "--output", str(run), *tiny_mnist])
        err = capsys.readouterr().err
    assert code == 2 and f"being trained by another process (pid {os.getpid()}" in err
    assert not run.exists()
    assert cli.main(["train", "ae_mnist", "--steps", "2", "--output", str(run), *tiny_mnist]) == 0


def _counting(original, trained):
    def count(self, batch, logs=None):
        original(self, batch, logs)
        trained.append(self.step)

    return count


def test_resume_refuses_other_settings(mnist_run, capsys):
    run, data = mnist_run  # a finished ae_mnist run of 3 steps, seed 0
    code = cli.main(["train", "ae_mnist", "--steps", "4", "--seed", "1", "--output", str(run)])
    assert code == 2 and "trained with seed 0" in capsys.readouterr().err
    assert cli.main(["train", "acai_mnist", "--output", str(run)]) == 2
    assert "holds a checkpoint of 'ae_mnist', not 'acai_mnist'" in capsys.readouterr().err
    assert cli.main(["train", "ae_mnist", "--steps", "1", "--output", str(run)]) == 2
    assert "already trained for 3 steps" in capsys.readouterr().err
    assert training.read_checkpoint(run)["step"] == 3


# ------------------------------------------------------------------------------ image presets
@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    data = write_mnist(tmp_path_factory.mktemp("data"))
    run = tmp_path_factory.mktemp("runs") / "ae_mnist"
    code = cli.main(
        ["train", "ae_mnist", "--data-dir", str(data), "--steps", "3", "--batch-size", "8",
         "--steps-per-epoch", "2", "--output", str(run)]
    )  # fmt: skip
    assert code == 0
    return run, data


@pytest.mark.backend
def test_train_an_image_preset_with_its_probe(mnist_run):
    """The run's recorded ``probe_accuracy`` is its saved probe's accuracy on the test split,
    recomputed here in numpy from the probe's weights (the random labels of the tiny folder
    put it near chance, so it is checked for being the right number, not a high one)."""
    run, data = mnist_run
    weights = kl.zoo.describe(run)["weights"]
    assert weights["images_seen"] == 24 and weights["steps"] == 3
    metrics = weights["metrics"]
    assert metrics["test_images"] == 16 and 0 < metrics["reconstruction_mse"] < 4
    model = kl.zoo.load(run)
    assert model.num_classes == 10
    x, y = kl.datasets.load("mnist", "test", data_dir=data)
    kernel, bias = model.probe.get_weights()
    logits = model.encode(x).reshape(len(x), -1) @ kernel + bias
    assert metrics["probe_accuracy"] == np.mean(logits.argmax(axis=1) == y)
    record = json.loads((run / "metrics.json").read_text())
    assert record["test"]["probe_accuracy"] == metrics["probe_accuracy"]
    history = record["training"]["history"]
    assert "probe_accuracy" in history and history["step"] == [2, 3]
    image = matplotlib.image.imread(run / "reconstruction.png")
    assert image[..., :3].std() > 0.05


def test_evaluate_an_image_run(mnist_run, capsys):
    run, data = mnist_run
    (run / "reconstruction.png").unlink()
    assert cli.main(["evaluate", str(run), "--data-dir", str(data)]) == 0
    printed = capsys.readouterr().out
    assert '"reconstruction_mse"' in printed
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert test["test_images"] == 16 and test["reconstruction_mse"] > 0
    assert (run / "reconstruction.png").stat().st_size > 1000


def test_evaluate_adds_the_representation_metrics(mnist_run, monkeypatch, capsys):
    from keras_latent.metrics import representation

    run, data = mnist_run
    calls = []
    monkeypatch.setattr(
        representation,
        "linear_probe_accuracy_from_latents",
        lambda z_train, y_train, z_test, y_test, **kw: calls.append(kw) or 0.5,
    )
    monkeypatch.setattr(
        representation,
        "clustering_accuracy_from_latents",
        lambda z_train, y_train, z_test, y_test, **kw: calls.append(kw) or 0.25,
    )
    code = cli.main(
        ["evaluate", str(run), "--data-dir", str(data), "--probe-epochs", "1",
         "--kmeans-restarts", "2"]
    )  # fmt: skip
    assert code == 0 and calls == [{"epochs": 1}, {"n_init": 2}]
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert test["linear_probe_accuracy"] == 0.5 and test["clustering_accuracy"] == 0.25
    assert test["frechet_classifier_distance"] > 0  # test images against the mixture's samples
    evaluation = json.loads((run / "metrics.json").read_text())["evaluation"]
    assert evaluation["probe_epochs"] == 1 and evaluation["kmeans_restarts"] == 2
    steps = {"load data", "test images", "encode train images", "linear probe", "clustering",
             "Frechet distance"}  # fmt: skip
    assert set(evaluation["seconds"]) == steps and min(evaluation["seconds"].values()) >= 0


def test_evaluate_uses_the_settings_a_card_was_measured_with(mnist_run, tmp_path,
                                                              monkeypatch, capsys):  # fmt: skip
    """Issue 29 (2): on a folder whose metadata records ``weights.evaluation``, evaluate uses
    those settings (and says so, in its output and metrics.json); explicit flags override each
    one; without a record it uses its defaults."""
    from keras_latent import evaluation as evaluation_module
    from keras_latent.files import read_json, write_json
    from keras_latent.metrics import representation

    run, data = mnist_run
    folder = tmp_path / "ae_mnist"
    shutil.copytree(run, folder)
    meta = read_json(folder / "metadata.json")
    meta["weights"]["evaluation"] = {"probe_epochs": 3, "kmeans_restarts": 7, "command": "x"}
    write_json(folder / "metadata.json", meta)
    calls = []
    monkeypatch.setattr(
        representation,
        "linear_probe_accuracy_from_latents",
        lambda *a, **kw: calls.append(kw) or 0.5,
    )
    monkeypatch.setattr(
        representation,
        "clustering_accuracy_from_latents",
        lambda *a, **kw: calls.append(kw) or 0.25,
    )
    monkeypatch.setattr(evaluation_module, "frechet_metrics", lambda *a, **kw: {})

    def evaluate(*flags):
        calls.clear()
        assert cli.main(["evaluate", str(folder), "--data-dir", str(data), *flags]) == 0
        evaluation = json.loads((folder / "metrics.json").read_text())["evaluation"]
        assert set(evaluation.pop("seconds")) >= {"test images", "linear probe", "clustering"}
        return calls[:], evaluation

    used, evaluation = evaluate()
    assert used == [{"epochs": 3}, {"n_init": 7}]
    assert evaluation == {
        "probe_epochs": 3, "kmeans_restarts": 7,
        "sources": {"probe_epochs": "recorded", "kmeans_restarts": "recorded"},
        "command": f"keras-latent evaluate {folder} --probe-epochs 3 --kmeans-restarts 7",
    }  # fmt: skip
    assert (
        "evaluation settings: --probe-epochs 3 (recorded in the model's metadata.json "
        "(weights.evaluation)), --kmeans-restarts 7 (recorded" in capsys.readouterr().out
    )
    used, evaluation = evaluate("--kmeans-restarts", "2")
    assert used == [{"epochs": 3}, {"n_init": 2}]
    assert evaluation["sources"] == {"probe_epochs": "recorded", "kmeans_restarts": "given"}
    assert "--kmeans-restarts 2 (given on the command line)" in capsys.readouterr().out
    used, evaluation = evaluate("--probe-epochs", "1", "--kmeans-restarts", "2")
    assert used == [{"epochs": 1}, {"n_init": 2}]
    assert set(evaluation["sources"].values()) == {"given"}

    del meta["weights"]["evaluation"]  # nothing recorded: the command's defaults
    write_json(folder / "metadata.json", meta)
    used, evaluation = evaluate()
    assert used == [{"epochs": 10}, {"n_init": 1000}]
    assert evaluation["sources"] == {"probe_epochs": "default", "kmeans_restarts": "default"}
    assert cli.main(["evaluate", str(folder), "--probe-epochs", "0"]) == 2
    assert "--probe-epochs must be >= 1, got 0" in capsys.readouterr().err


def test_interpolate_between_two_image_files(mnist_run, tmp_path):
    run, _ = mnist_run
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (28, 28), "u1")).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), "u1")).save(tmp_path / "b.jpg")
    png = tmp_path / "grid.png"
    code = cli.main(
        ["interpolate", str(run), "--from", str(tmp_path / "a.png"), "--to",
         str(tmp_path / "b.jpg"), "--steps", "5", "--output", str(png)]
    )  # fmt: skip
    assert code == 0
    grid = matplotlib.image.imread(png)
    assert grid.shape[1] > grid.shape[0] and grid[..., :3].std() > 0.05  # one row of 7


def test_interpolate_warns_about_inverted_images_and_inverts_them(mnist_run, tmp_path, capsys):
    """Issue 26 (4): dark digits on a light background, given to an MNIST model, warn on
    stderr with the fix; --invert reads them as light on dark, and then nothing warns."""
    run, _ = mnist_run
    for name, column in (("a.png", 8), ("b.png", 18)):
        pixels = np.full((28, 28), 255, "u1")  # white paper, a dark stroke
        pixels[4:24, column : column + 3] = 0
        Image.fromarray(pixels).save(tmp_path / name)
    args = [
        "interpolate", str(run), "--from", str(tmp_path / "a.png"), "--to",
        str(tmp_path / "b.png"), "--steps", "3", "--output", str(tmp_path / "grid.png"),
    ]  # fmt: skip
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert f"keras-latent interpolate: warning: {tmp_path / 'a.png'}, {tmp_path / 'b.png'}" in err
    assert "the background is light" in err and "look inverted" in err and "--invert" in err
    assert cli.main([*args, "--invert"]) == 0
    assert "warning" not in capsys.readouterr().err
    for name in ("a.png", "b.png"):  # the same digits drawn light on black: no warning
        Image.fromarray(255 - np.asarray(Image.open(tmp_path / name))).save(tmp_path / name)
    assert cli.main(args) == 0
    assert "warning" not in capsys.readouterr().err
    assert (tmp_path / "grid.png").stat().st_size > 1000


def test_a_run_folders_card_is_its_own(trained_run):
    """Issue 26 (3): the card of a train run names its folder and data, loads the folder and
    quotes no paper figure (those are the shipped presets')."""
    card = (trained_run / "README.md").read_text()
    meta = kl.zoo.describe(trained_run)
    assert card.startswith(f"# {trained_run.name}\n") and meta["name"] == trained_run.name
    assert f'kl.zoo.load("{trained_run}")' in card
    assert meta["dataset"]["data"] == "lines" and "`keras_latent.datasets.load('lines')`" in card
    assert meta["origin"] == {"preset": "ae_lines", "weights": "fresh"}
    assert "| metric | measured |\n" in card and "| paper |" not in card and "0.44" not in card
    assert "do not edit" not in card


def test_interpolate_and_sample_bad_input(mnist_run, tmp_path, monkeypatch, capsys):
    run, _ = mnist_run
    (tmp_path / "bad.png").write_bytes(b"not a png")
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((28, 28), "u1")).save(good)
    base = ["interpolate", str(run), "--from"]
    assert cli.main([*base, str(tmp_path / "bad.png"), "--to", str(good)]) == 2
    err = capsys.readouterr().err
    assert "bad.png: cannot be decoded" in err and "good.png" not in err
    assert cli.main([*base, str(tmp_path / "nope.png"), "--to", str(good)]) == 2
    assert "image file" in capsys.readouterr().err
    assert cli.main([*base, str(good)]) == 2
    assert "give both --from IMAGE and --to IMAGE" in capsys.readouterr().err
    assert cli.main(["interpolate", str(run)]) == 2
    assert "not a lines model" in capsys.readouterr().err

    assert cli.main(["sample", str(run), "--n", "4"]) == 2
    err = capsys.readouterr().err
    assert "ae_mnist has no fitted latent sampler: give --data-dir DIR, the folder of its" in err

    def prior(self, n, **kwargs):  # stands in for a model with a prior
        return np.linspace(-1, 1, n * 32 * 32).reshape(n, 32, 32, 1).astype("float32")

    monkeypatch.setattr(Autoencoder, "sample", prior)
    monkeypatch.setattr(Autoencoder, "samples_from_prior", True)
    png = tmp_path / "samples.png"
    assert cli.main(["sample", str(run), "--n", "5", "--output", str(png)]) == 0
    assert matplotlib.image.imread(png)[..., :3].std() > 0.05


@pytest.mark.backend
def test_sample_fits_a_sampler_from_data_dir_and_seeds_the_draw(mnist_run, tmp_path,
                                                               monkeypatch, capsys):  # fmt: skip
    """A run folder has no sampler: ``--data-dir`` fits the presets' recipe on its training
    images (and says so); the same ``--seed`` draws the same images, another seed others."""
    from keras_latent import plots

    run, data = mnist_run
    grids = {}
    save_grid = plots.save_grid

    def recording(grid, path, **kwargs):
        grids[path.stem] = grid
        return save_grid(grid, path, **kwargs)

    monkeypatch.setattr(plots, "save_grid", recording)
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        png = tmp_path / f"{name}.png"
        command = ["sample", str(run), "--n", "4", "--seed", str(seed), "--output", str(png)]
        assert cli.main([*command, "--data-dir", str(data)]) == 0
        out = capsys.readouterr().out
        assert (
            "ae_mnist has no fitted latent sampler: fitted a Gaussian mixture (10 components, "
            f"seed 0) on the codes of 24 mnist training images (from {data}); not saved"
        ) in out
        assert matplotlib.image.imread(png).shape[0] > 32
    assert grids["a"].shape == (2, 2, 32, 32, 1)
    np.testing.assert_array_equal(grids["a"], grids["b"])
    assert not np.array_equal(grids["a"], grids["c"])
    assert not (run / "latent_sampler.json").exists()  # the run folder is left as it was


def test_shipped_eccentric_mnist_samples_without_data(tmp_path, capsys):
    png = tmp_path / "samples.png"
    assert cli.main(["sample", "eccentric_mnist", "--n", "4", "--output", str(png)]) == 0
    assert "fitted" not in capsys.readouterr().out  # its shipped sampler, no fitting
    assert matplotlib.image.imread(png)[..., :3].std() > 0.05


def test_train_and_evaluate_report_missing_data_and_weights(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = cli.main(["train", "ae_mnist", "--data-dir", str(empty), "--steps", "1",
                     "--output", str(tmp_path / "run")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "dataset 'mnist' split 'train' not found" in err
    assert "train-images-idx3-ubyte" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
    assert cli.main(["evaluate", "vqvae_cifar10_dz1024"]) == 2  # a preset without weights
    assert "has no trained weights" in capsys.readouterr().err
    assert cli.main(["sample", "acai_mnsit"]) == 2
    assert "unknown preset 'acai_mnsit'; did you mean acai_mnist" in capsys.readouterr().err


# ------------------------------------------------------------------- nothing lost (issue 25)
def snapshot(folder):
    """Every file under ``folder`` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def no_training(monkeypatch):
    """``training.train`` stands in by a ValueError: a command that reaches it exits with 2 and
    says "reached training", before a single step."""

    def refuse(*args, **kwargs):
        raise ValueError("reached training")

    monkeypatch.setattr(training, "train", refuse)


def test_train_refuses_an_output_it_did_not_write_before_training(tmp_path, no_training, capsys):
    thesis = tmp_path / "thesis"
    (thesis / "photos").mkdir(parents=True)
    (thesis / "photos" / "a.jpg").write_bytes(b"jpeg")
    (thesis / "thesis.tex").write_text("\\section{Results}")
    before = snapshot(thesis)
    train = ["train", "ae_lines", "--steps", "1", "--output"]
    assert cli.main([*train, str(thesis)]) == 2
    err = capsys.readouterr().err
    assert f"{thesis} is a folder keras-latent did not write (it holds photos, thesis.tex)" in err
    assert "reached training" not in err and "Traceback" not in err
    assert snapshot(thesis) == before
    assert [p.name for p in tmp_path.iterdir()] == ["thesis"]  # no lock file, no checkpoint

    notes = tmp_path / "notes"
    notes.write_text("my notes")
    assert cli.main([*train, str(notes)]) == 2
    assert f"{notes} exists and is not a folder" in capsys.readouterr().err
    assert notes.read_text() == "my notes"

    empty = tmp_path / "empty"  # an empty folder, a preset folder: accepted, training starts
    empty.mkdir()
    assert cli.main([*train, str(empty)]) == 2
    assert "reached training" in capsys.readouterr().err
    kl.zoo.save_preset(Autoencoder(image_shape=(32, 32, 1), depth=4), tmp_path / "preset")
    assert cli.main([*train, str(tmp_path / "preset")]) == 2
    assert "reached training" in capsys.readouterr().err


def test_train_refuses_the_current_folder_up_front(tmp_path, monkeypatch, no_training, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for output in (".", "..", str(work), "/"):
        assert cli.main(["train", "ae_lines", "--steps", "1", "--output", output]) == 2
        err = capsys.readouterr().err
        assert "is the current folder or a folder above it" in err
        assert "reached training" not in err
    assert list(work.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["work"]


def test_a_shipped_preset_never_writes_into_the_users_run(trained_run, tmp_path, monkeypatch,
                                                          capsys):  # fmt: skip
    """After the quickstart (runs/ae_lines is the user's run), ``evaluate ae_lines`` and
    ``interpolate ae_lines`` write the shipped preset's results into runs/ae_lines-preset and
    never into another model's folder."""
    monkeypatch.chdir(tmp_path)
    users = tmp_path / "runs" / "ae_lines"
    shutil.copytree(trained_run, users)
    before = snapshot(users)
    assert cli.main(["evaluate", "ae_lines", "--pairs", "4"]) == 0
    assert "wrote runs/ae_lines-preset/metrics.json" in capsys.readouterr().out
    record = json.loads((tmp_path / "runs" / "ae_lines-preset" / "metrics.json").read_text())
    assert record["recipe"] == "ae_lines" and record["lines"]["pairs"] == 4
    assert cli.main(["interpolate", "ae_lines", "--pairs", "2", "--steps", "3"]) == 0
    assert "wrote runs/ae_lines-preset/interpolation.png" in capsys.readouterr().out
    assert snapshot(users) == before

    for command in (["evaluate", "ae_lines", "--pairs", "4", "--output", str(users)],
                    ["interpolate", "ae_lines", "--output", str(users / "interpolation.png")],
                    ["evaluate", "acai_lines", "--output", "runs/ae_lines-preset"]):  # fmt: skip
        assert cli.main(command) == 2
    err = capsys.readouterr().err
    assert f"{users} holds another model (config.json, model.weights.h5, metadata.json" in err
    assert "metrics.json holds the results of 'ae_lines', not 'acai_lines'" in err
    assert snapshot(users) == before
    assert cli.main(["evaluate", "runs/ae_lines", "--pairs", "4"]) == 0  # its own folder
    assert "wrote runs/ae_lines/metrics.json" in capsys.readouterr().out


def run_command(*argv, cwd):
    """``python -m keras_latent.cli ARGV`` in a fresh process (the session's backend, no
    ``TF_CPP_MIN_LOG_LEVEL`` of the test run's); returns the finished process."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = (
        "import sys\nfrom keras_latent import cli\ntry:\n    code = cli.main(sys.argv[1:])\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "print(sorted({'keras', 'tensorflow', 'jax', 'torch'} & set(sys.modules)))\n"
        "sys.exit(code)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv", [["--help"], ["list"], ["list", "--json"], ["-v", "list"], ["train", "--help"]]
)
def test_help_and_list_import_no_backend(argv, tmp_path):
    done = run_command(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"  # neither Keras nor TensorFlow, JAX, PyTorch
    assert done.stderr == ""


@pytest.mark.backend
def test_framework_logs_are_hidden_unless_verbose(tmp_path):
    argv = ["interpolate", "ae_lines", "--pairs", "1", "--steps", "2", "--output"]
    quiet = run_command(*argv, str(tmp_path / "quiet.png"), cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "keras" in quiet.stdout.splitlines()[-1]  # the backend was imported and used
    logs = [line for line in quiet.stderr.splitlines() if cli.FRAMEWORK_LOG_LINE.match(line)]
    assert logs == [] and "oneDNN" not in quiet.stderr, quiet.stderr
    verbose = run_command(*argv, str(tmp_path / "verbose.png"), "--verbose", cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    if keras.backend.backend() == "tensorflow" and hardware.is_x86_64():
        # keras_latent turns oneDNN on here, and TensorFlow says so when it starts.
        assert "oneDNN custom operations are on" in verbose.stderr, verbose.stderr


def test_framework_log_lines_are_recognised():
    for line in (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796589077.321509   13802 port.cc:153] oneDNN custom operations are on.",
        "E0000 00:00:1796589190.935220   15173 cuda_platform.cc:52] failed call to cuInit: ...",
        "E1206 10:31:02.123456  1234 meta_optimizer.cc:967] remapper failed: INVALID_ARGUMENT",
    ):
        assert cli.FRAMEWORK_LOG_LINE.match(line), line
    for line in (
        "Training acai_lines (ACAI, 1,568,929 parameters) for 3 steps",
        "keras-latent train: error: --steps must be >= 1, got 0",
        "/x/y.py:3: UserWarning: something",
    ):
        assert not cli.FRAMEWORK_LOG_LINE.match(line), line


def test_help_is_plain_text_with_examples(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--help"])
    assert exit.value.code == 0
    printed = capsys.readouterr().out
    assert "`" not in printed and ":mod:" not in printed
    assert "The keras-latent command: list, train" in printed
    assert "examples:\n    keras-latent list\n" in printed and "--verbose" in printed
    assert cli.plain("see :mod:`keras_latent.zoo` and ``x``") == "see keras_latent.zoo and x"


def test_verbose_goes_before_or_after_the_command(capsys):
    assert cli.main(["--verbose", "list"]) == 0
    assert cli.main(["list", "-v", "--json"]) == 0
    assert cli.main(["list"]) == 0
    assert "acai_mnist" in capsys.readouterr().out


def test_list_into_a_closed_pipe_stops_quietly():
    """``keras-latent list | head -1``: no BrokenPipeError traceback on stderr."""
    listing = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from keras_latent import cli; sys.exit(cli.main(['list']))",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    listing.stdout.close()  # the reader is gone before the listing is written
    stderr = listing.stderr.read().decode()
    assert listing.wait(timeout=120) in (0, 1)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
