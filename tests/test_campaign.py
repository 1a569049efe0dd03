"""``keras-latent campaign``: a plan's runs trained in turn, stopped and resumed, on tiny data."""

import json
import os
import signal

import pytest

from keras_latent import campaign, cli, training
from tests.helpers import write_mnist

pytestmark = pytest.mark.filterwarnings("ignore::keras_latent.datasets.formats.ChecksumWarning")

RUNS = [
    {"preset": "ae_mnist", "steps": 3, "batch_size": 8, "seed": 0, "dtype_policy": "float32"},
    {"preset": "acai_mnist", "steps": 2, "batch_size": 8, "seed": 1},
]


def write_plan(folder, runs=RUNS, **settings):
    folder.mkdir(parents=True, exist_ok=True)
    plan = {"data_dir": "../data", "checkpoint_every": 2, "evaluate_every": 2,
            "steps_per_epoch": 2, "runs": runs, **settings}  # fmt: skip
    (folder / campaign.PLAN_FILE).write_text(json.dumps(plan))
    return folder


@pytest.mark.backend
def test_a_campaign_trains_its_runs_in_order_across_stops(tmp_path, monkeypatch, capsys):
    write_mnist(tmp_path / "data")
    folder = write_plan(tmp_path / "campaign")  # data_dir is relative to the campaign folder
    original = training.Checkpoint.on_train_batch_end

    def interrupt_at_step_1(self, batch, logs=None):
        if self.step == 0:  # the signal arrives while step 1 trains
            os.kill(os.getpid(), signal.SIGINT)
        original(self, batch, logs)

    monkeypatch.setattr(training.Checkpoint, "on_train_batch_end", interrupt_at_step_1)
    assert cli.main(["campaign", str(folder)]) == 130
    out = capsys.readouterr().out
    assert "ae_mnist: 0 / 24 images (0.0%), unfinished" in out
    assert "[campaign] stopped: ae_mnist at step 1 (8 images)" in out
    assert training.read_checkpoint(folder / "ae_mnist")["step"] == 1
    assert training.read_checkpoint(folder / "acai_mnist") is None

    monkeypatch.setattr(training.Checkpoint, "on_train_batch_end", original)
    assert cli.main(["campaign", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "[campaign] ae_mnist: 24 / 24 images (100.00%)" in out and "then acai_mnist" in out
    assert "[campaign] every run of" in out
    first, second = (training.read_checkpoint(folder / r["preset"]) for r in RUNS)
    assert first["finished"] and first["step"] == 3 and first["images_seen"] == 24
    assert [(s["start_step"], s["step"]) for s in first["segments"]] == [(0, 1), (1, 3)]
    assert first["evaluations"]["step"] == [2] and second["evaluations"]["step"] == [2]
    assert second["finished"] and second["seed"] == 1 and second["dtype_policy"] == "float32"
    assert (folder / "acai_mnist" / "model.weights.h5").is_file()

    assert cli.main(["campaign", str(folder), "--status"]) == 0
    out = capsys.readouterr().out
    assert "ae_mnist: 24 / 24 images (100.0%), finished; last segment" in out
    assert cli.main(["campaign", str(folder)]) == 0  # nothing left: trains nothing
    assert "every run of" in capsys.readouterr().out


def test_a_run_resumes_on_another_backend(tmp_path):
    """A checkpoint written on TensorFlow resumes on JAX (the backend of a GPU segment): the
    weights and optimizer state carry over, and each segment records its backend."""
    from tests.helpers import installed_backends, run_in_backend

    other = "jax"
    if other not in installed_backends():
        pytest.skip(f"{other} is not installed")
    write_mnist(tmp_path / "data")
    folder = write_plan(tmp_path / "campaign", runs=RUNS[:1])
    run_in_backend("tensorflow", f"""
from keras_latent import cli, training
original = training.Checkpoint.on_train_batch_end
def stop_after_2(self, batch, logs=None):
    original(self, batch, logs)
    if self.step == 2:
        self.stop.set()
training.Checkpoint.on_train_batch_end = stop_after_2
assert cli.main(["campaign", {str(folder)!r}]) == 130
""")  # fmt: skip
    assert training.read_checkpoint(folder / "ae_mnist")["step"] == 2
    run_in_backend(other, f"from keras_latent import cli; cli.main(['campaign', {str(folder)!r}])")
    state = training.read_checkpoint(folder / "ae_mnist")
    assert state["finished"] and state["step"] == state["optimizer_iterations"] == 3
    assert [s["backend"] for s in state["segments"]] == ["tensorflow", other]
    assert state["evaluations"]["step"] == [2]


def test_a_campaign_refuses_a_checkpoint_of_other_settings(tmp_path, capsys):
    write_mnist(tmp_path / "data")
    folder = write_plan(tmp_path / "campaign", runs=RUNS[:1])
    assert cli.main(["train", "ae_mnist", "--output", str(folder / "ae_mnist"), "--steps", "1",
                     "--batch-size", "4", "--data-dir", str(tmp_path / "data")]) == 0  # fmt: skip
    assert cli.main(["campaign", str(folder)]) == 2
    assert "trained with batch size 4" in capsys.readouterr().err
    assert training.read_checkpoint(folder / "ae_mnist")["step"] == 1


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"runs": []}, "has no list of 'runs'"),
        ({"runs": [{"steps": 2}]}, "must name its 'preset'"),
        ({"runs": [{"preset": "ae_mnist", "steps": 2, "lr": 1}]}, "may set only"),
        ({"runs": [{"preset": "ae_mnsit", "steps": 2}]}, "did you mean ae_mnist"),
        ({"runs": [{"preset": "ae_mnist", "steps": 0}]}, "needs a positive integer 'steps'"),
        ({"runs": [{"preset": "ae_mnist", "steps": 2}] * 2}, "appears twice"),
        ({"runs": RUNS, "evaluate_every": 0}, "evaluate_every must be a positive integer"),
    ],
)
def test_bad_plans_are_refused(tmp_path, capsys, plan, message):
    (tmp_path / campaign.PLAN_FILE).write_text(json.dumps(plan))
    assert cli.main(["campaign", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_a_folder_without_a_plan_is_refused(tmp_path, capsys):
    assert cli.main(["campaign", str(tmp_path)]) == 2
    assert "plan.json does not exist" in capsys.readouterr().err


def test_the_repository_campaign_plan_is_the_papers_recipe():
    """The committed campaign (issue 24): the paper's budget, recipe and report interval, and
    a committed checkpoint that is whole (its weights file matches its recorded sha256)."""
    from tests.helpers import REPO

    folder = REPO / "campaign"
    plan = campaign.read_plan(folder)
    assert [run["preset"] for run in plan["runs"]] == ["acai_mnist", "ae_mnist"]
    for run in plan["runs"]:
        assert run["steps"] * run["batch_size"] == 2**24 and run["dtype_policy"] == "float32"
    assert plan["evaluate_every"] * 64 == 65536
    for run, state in campaign.run_states(folder, plan):  # read_checkpoint checks the sha256
        assert state is None or state["preset"] == run["preset"]


def test_a_finished_run_publishes_with_its_evaluations(tmp_path):
    """Issue 24 (2, 3): ``benchmarks/publish_run.py`` makes a finished campaign run the shipped
    preset, keeping its in-training evaluations: the lists, the paper's statistic (median of
    the last 20 probe accuracies) beside the paper's figure, and the figure the card shows."""
    from benchmarks import publish_run
    from keras_latent import cards, zoo

    write_mnist(tmp_path / "data")
    runs = [{"preset": "ae_mnist", "steps": 20, "batch_size": 8, "seed": 0}]
    folder = write_plan(tmp_path / "campaign", runs=runs, evaluate_every=1, checkpoint_every=20)
    assert cli.main(["campaign", str(folder)]) == 0
    publish_run.main([str(folder / "ae_mnist"), "ae_mnist", "--zoo", str(tmp_path / "zoo")])

    published = tmp_path / "zoo" / "ae_mnist"
    weights = zoo.describe(published)["weights"]
    evaluations = training.read_checkpoint(folder / "ae_mnist")["evaluations"]
    assert weights["evaluations"] == evaluations and len(evaluations["probe_accuracy"]) == 20
    median = cards.training_statistic(evaluations)["probe_accuracy_median_last_20"]
    assert weights["metrics"]["probe_accuracy_median_last_20"] == median
    assert weights["images_seen"] == 160 and len(weights["segments"]) == 1
    assert weights["command"] == "keras-latent train ae_mnist --steps 20 --batch-size 8 --seed 0"
    assert (published / "in_training.png").stat().st_size > 10_000
    card = (published / "README.md").read_text()
    assert f"| probe_accuracy_median_last_20 | {cards._value(median)} | 0.9394 |" in card
    assert "scored on the test split 20 times during training" in card
    assert "](in_training.png)" in card and card.endswith("do not edit by hand.\n")
    assert zoo.load(published).name == "ae_mnist"
