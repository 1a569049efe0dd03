"""``keras_latent.training``: the step -> batch mapping and checkpoint files (no training here;
tests/test_cli.py interrupts and resumes real runs)."""

import hashlib
import json
import os
import signal

import numpy as np
import pytest

from keras_latent import training
from keras_latent.datasets import ArrayStream
from keras_latent.datasets.lines import LinesStream, draw


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
