"""``keras_latent.training``: the step -> batch mapping, checkpoint files, and resuming tiny
models that draw random numbers in training (tests/test_cli.py interrupts and resumes real
``keras-latent train`` runs of ae_mnist, which draws none)."""

import hashlib
import json
import os
import signal

import keras
import numpy as np
import pytest

from keras_latent import training
from keras_latent.datasets import ArrayStream
from keras_latent.datasets.lines import LinesStream, draw
from keras_latent.models import ACAI, DenoisingAutoencoder
from tests.helpers import TINY


def test_step_stream_serves_the_batches_of_global_steps():
    x = np.arange(10, dtype="float32").reshape(10, 1)
    stream = ArrayStream(x, x[:, 0].astype("int64"), batch_size=4, seed=3)  # 3 batches/epoch
    assert training.position(stream, 7) == {
        "epoch": 3, "index": 1, "batches_per_epoch": 3, "seed": 3, "batch_size": 4,
    }  # fmt: skip
    chunk = training.StepStream(stream, start=4, chunk=3)  # steps 4, 5, 6
    assert len(chunk) == 3
    rows = [chunk[j][0][:, 0] for j in range(3)]
    order_2, order_3 = stream.order(2), stream.order(3)
    np.testing.assert_array_equal(rows[0], order_2[4:8])  # step 4: epoch 2, batch 1
    np.testing.assert_array_equal(rows[1], order_2[8:])  # step 5: epoch 2, batch 2 (2 left)
    np.testing.assert_array_equal(rows[2], order_3[:4])  # step 6: epoch 3, batch 0
    with pytest.raises(IndexError):
        chunk[3]


def test_lines_batches_depend_on_the_step_only():
    stream = LinesStream(batch_size=2, steps_per_epoch=5, seed=1)
    late = training.batch_at(stream, 12)  # epoch 3, batch 2
    early = training.batch_at(stream, 0)
    assert stream.epoch == 1
    again = training.batch_at(LinesStream(batch_size=2, steps_per_epoch=5, seed=1), 12)
    np.testing.assert_array_equal(late, again)
    angles = np.random.default_rng([1, 1, 0]).uniform(0, 2 * np.pi, 2)
    np.testing.assert_array_equal(early, draw(angles))


def test_read_checkpoint_reports_bad_files(tmp_path):
    assert training.read_checkpoint(tmp_path) is None
    path = tmp_path / training.CHECKPOINT_FILE
    path.write_text("{not json")
    with pytest.raises(ValueError, match="checkpoint.json is not valid JSON"):
        training.read_checkpoint(tmp_path)
    path.write_text(json.dumps({"weights": "w.weights.h5"}))
    with pytest.raises(ValueError, match="not a keras-latent checkpoint"):
        training.read_checkpoint(tmp_path)
    path.write_text(json.dumps({"step": 3, "weights": "checkpoint-000000003.weights.h5"}))
    with pytest.raises(FileNotFoundError, match="checkpoint-000000003.weights.h5"):
        training.read_checkpoint(tmp_path)
    (tmp_path / "checkpoint-000000003.weights.h5").write_bytes(b"")
    assert training.read_checkpoint(tmp_path)["step"] == 3
    training.mark_finished(tmp_path, {"step": 3, "weights": "checkpoint-000000003.weights.h5"})
    assert training.read_checkpoint(tmp_path)["finished"] is True


def test_read_checkpoint_refuses_a_weights_file_of_another_commit(tmp_path):
    weights = tmp_path / "checkpoint-000000003.weights.h5"
    weights.write_bytes(b"the weights of step 3")
    digest = hashlib.sha256(b"the weights of step 3").hexdigest()
    state = {"step": 3, "weights": weights.name, "weights_sha256": digest}
    (tmp_path / training.CHECKPOINT_FILE).write_text(json.dumps(state))
    assert training.read_checkpoint(tmp_path)["step"] == 3
    weights.write_bytes(b"the weights of st")  # truncated, or left from another commit
    with pytest.raises(ValueError, match="sha256 differs"):
        training.read_checkpoint(tmp_path)


def test_a_checkpoint_never_replaces_a_later_one(tmp_path):
    """Another process's later checkpoint in the folder is kept: saving an earlier step fails
    before anything is written."""
    stream = ArrayStream(np.zeros((8, 1), "float32"), batch_size=4, seed=0)
    state = {"step": 10, "weights": "checkpoint-000000010.weights.h5"}
    (tmp_path / training.CHECKPOINT_FILE).write_text(json.dumps(state))
    with pytest.raises(ValueError, match="holds step 10, later than this run's 4"):
        training.Checkpoint(tmp_path, stream, state={"step": 4}).save()
    assert json.loads((tmp_path / training.CHECKPOINT_FILE).read_text()) == state
    assert list(tmp_path.glob("*.h5")) == []


def test_stop_on_signals_sets_the_event_then_interrupts():
    before = signal.getsignal(signal.SIGTERM)
    with training.stop_on_signals() as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set()  # training ends after the current step
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C stops at once
    assert signal.getsignal(signal.SIGTERM) is before


def _write_checkpoint(folder, **fields):
    """A checkpoint of step 3 with its weights file, ``fields`` added or replaced."""
    (folder / "checkpoint-000000003.weights.h5").write_bytes(b"weights")
    state = {"step": 3, "weights": "checkpoint-000000003.weights.h5", **fields}
    (folder / training.CHECKPOINT_FILE).write_text(json.dumps(state))


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd",
        "/etc/passwd",
        "sub/checkpoint-000000003.weights.h5",
        "../run/checkpoint-000000003.weights.h5",
        "checkpoint-000000003.weights.h5\n",
        "model.weights.h5",
        None,
        3,
    ],
)
def test_read_checkpoint_confines_the_weights_file_to_the_run_folder(tmp_path, name):
    """Issue 25 (15): the weights entry is a checkpoint-<digits>.weights.h5 of the folder itself,
    never a path that leads out of it; nothing is opened otherwise."""
    run = tmp_path / "run"
    run.mkdir()
    _write_checkpoint(run, weights=name)
    with pytest.raises(ValueError, match=r"run/checkpoint.json has a malformed 'weights'"):
        training.read_checkpoint(run)


def test_read_checkpoint_refuses_a_weights_link_out_of_the_run_folder(tmp_path):
    (tmp_path / "elsewhere").write_bytes(b"not weights")
    run = tmp_path / "run"
    run.mkdir()
    _write_checkpoint(run)
    (run / "checkpoint-000000003.weights.h5").unlink()
    (run / "checkpoint-000000003.weights.h5").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="a link to .*elsewhere outside the run folder"):
        training.read_checkpoint(run)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("step", -1),
        ("history", [1.0, 2.0]),
        ("history", {"loss": 0.5}),
        ("history", {"loss": ["0.5"]}),
        ("evaluations", {"probe_accuracy": 0.9}),
        ("evaluations", []),
        ("segments", {"step": 3}),
        ("segments", [3]),
        ("segments", [{"step": 3, "start_step": "0"}]),
        ("batch_size", 0),
        ("batch_size", "64"),
        ("seed", 1.5),
        ("seed", True),
        ("steps", None),
        ("fit_time_s", -1),
        ("finished", "yes"),
        ("weights_sha256", 12),
        ("seed_generator_state", [0, "1"]),
    ],
)
def test_read_checkpoint_names_the_file_and_the_malformed_field(tmp_path, field, value):
    """Issue 25 (15): a field of the wrong type is a ValueError naming the file and the field,
    not an AttributeError later."""
    _write_checkpoint(tmp_path, **{field: value})
    with pytest.raises(ValueError, match=rf"checkpoint.json has a malformed '{field}[\[\].\w]*'"):
        training.read_checkpoint(tmp_path)


def test_read_checkpoint_accepts_every_field_a_run_writes(tmp_path):
    fields = {
        "history": {"step": [2, 3], "loss": [0.5, float("nan")]},
        "evaluations": {"step": [2], "probe_accuracy": [0.9]},
        "segments": [{"start_step": 0, "step": 3, "fit_time_s": 1.5, "device": "cpu"}],
        "batch_size": 64, "seed": 0, "steps": 10, "optimizer_iterations": 3, "images_seen": 192,
        "fit_time_s": 1.5, "wall_time_s": 2, "finished": False, "preset": "ae_mnist",
        "dataset": "mnist", "dtype_policy": "float32", "data": {"epoch": 1},
        "seed_generator_state": None,
        "weights_sha256": hashlib.sha256(b"weights").hexdigest(),
    }  # fmt: skip
    _write_checkpoint(tmp_path, **fields)
    assert training.read_checkpoint(tmp_path)["segments"] == fields["segments"]


def test_no_checkpoint_is_written_of_non_finite_weights(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.layers[0].kernel.assign(np.array([[np.nan], [1.0]], "float32"))
    stream = ArrayStream(np.zeros((8, 2), "float32"), batch_size=4, seed=0)
    checkpoint = training.Checkpoint(tmp_path, stream, state={"step": 4})
    checkpoint.set_model(model)
    with pytest.raises(ValueError, match="not finite at step 4"):
        checkpoint.save()
    assert list(tmp_path.iterdir()) == []


# Models whose training step draws from their seed generator: ACAI its mixing coefficients, the
# denoising autoencoder its input noise (the dropout autoencoder, VAE, AAE and WAE draw theirs
# from the same generator).
RANDOM_IN_TRAINING = {"acai": ACAI, "denoising": DenoisingAutoencoder}


def fresh_model(name):
    """A new ``name`` model, compiled, as a new ``keras-latent train`` process builds it (the
    global seed, then the model's seed)."""
    keras.utils.set_random_seed(0)
    model = RANDOM_IN_TRAINING[name](**TINY, seed=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def train_fresh_model(name, folder, steps, state=None):
    """Train a :func:`fresh_model` on a fresh stream up to ``steps`` in ``folder``, resuming
    the checkpoint ``state`` if given; the model."""
    model = fresh_model(name)
    stream = LinesStream(batch_size=8, steps_per_epoch=3, seed=0)
    training.train(model, stream, folder, steps, steps_per_epoch=2, state=state, verbose=0)
    return model


@pytest.mark.backend
@pytest.mark.parametrize("name", RANDOM_IN_TRAINING)
def test_a_resumed_run_draws_the_random_numbers_of_a_straight_run(name, tmp_path):
    """4 steps straight, or 2 steps, a checkpoint and 2 more in a new model (a new process):
    the same weights and seed generator state. The generator's state is not in the weights
    file: the checkpoint's ``seed_generator_state`` restores it (without it the resumed steps
    would redraw the first steps' numbers)."""
    straight = train_fresh_model(name, tmp_path / "straight", 4)
    train_fresh_model(name, tmp_path / "run", 2)
    state = training.read_checkpoint(tmp_path / "run")
    forgetful = fresh_model(name)
    training.restore(forgetful, tmp_path / "run", {**state, "seed_generator_state": None})
    assert training._seed_state(forgetful) != state["seed_generator_state"]

    resumed = train_fresh_model(name, tmp_path / "run", 4, state)
    assert training._seed_state(resumed) == training._seed_state(straight)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)  # bit for bit on each backend (CPU)
