"""Resumable training of a zoo preset with Keras ``fit``: :func:`train`.

A run folder holds, while training, ``checkpoint.json`` and ``checkpoint-<step>.weights.h5``
(the model's weights and its optimizer's variables, Keras' ``save_weights``). Every
``checkpoint_every`` steps and at the end, :class:`Checkpoint` writes a new weights file, then
``checkpoint.json`` naming it (the step count, the optimizer's iterations, the data stream's
seed, epoch and position, the random generator's state, the loss history so far), then deletes
the older weights file; each file is written atomically, so an interruption at any moment
leaves a complete checkpoint. ``train`` on a folder with a checkpoint resumes from it and
trains only the remaining steps; a finished run (``"finished": true``, written by whoever
finalises the run, see :func:`mark_finished`) is not retrained unless more steps are asked.

The data are a pure function of the global step: step ``s`` is batch ``s % L`` of epoch
``s // L + 1`` of the stream (``L`` its batches per epoch; Keras' first ``on_epoch_end`` call
makes a fresh stream's first epoch 1), so a resumed run sees exactly the batches the
uninterrupted run would have seen. Training runs as one ``fit`` call per progress chunk of
``steps_per_epoch`` steps (with ``shuffle=False``: the stream shuffles by its own seed).
"""

import math
import re
import threading
import time
from pathlib import Path

import keras
import numpy as np

from keras_latent.callbacks import FitTimer
from keras_latent.datasets.feeding import STREAM_WORKERS
from keras_latent.files import atomic_path, read_json, write_json

CHECKPOINT_FILE = "checkpoint.json"
_WEIGHTS_PATTERN = re.compile(r"^checkpoint-\d+\.weights\.h5$")


_BATCH_LOCK = threading.Lock()


class StepStream(keras.utils.PyDataset):
    """``chunk`` batches of ``stream`` starting at global step ``start``: item ``j`` is the
    stream's batch for step ``start + j`` (see :func:`batch_at`). Served by 2 threads, which
    keeps TensorFlow's ``fit`` free of tf.data autotune stalls (``datasets.feeding``)."""

    def __init__(self, stream, start, chunk):
        super().__init__(workers=STREAM_WORKERS)
        self.stream, self.start, self.chunk = stream, int(start), int(chunk)
        # One lock for every StepStream: batch_at sets the shared stream's epoch then reads,
        # and a finished fit's worker may still be reading while the next chunk's starts.
        self._lock = _BATCH_LOCK

    def __len__(self):
        return self.chunk

    def __getitem__(self, index):
        if not 0 <= index < self.chunk:
            raise IndexError(f"batch {index} out of range: the chunk has {self.chunk} batches")
        with self._lock:
            return batch_at(self.stream, self.start + index)


def position(stream, step):
    """Where global step ``step`` lies in ``stream``: ``{"epoch", "index", "seed", ...}``."""
    per_epoch = len(stream)
    return {
        "epoch": step // per_epoch + 1,
        "index": step % per_epoch,
        "batches_per_epoch": per_epoch,
        "seed": int(stream.seed),
        "batch_size": int(stream.batch_size),
    }


def batch_at(stream, step):
    """The batch of global step ``step`` of a stream whose batches depend on its ``epoch``
    attribute and the index alone (``LinesStream``, ``ArrayStream``)."""
    where = position(stream, step)
    stream.epoch = where["epoch"]
    return stream[where["index"]]


class Checkpoint(keras.callbacks.Callback):
    """Saves a checkpoint of the run into ``folder`` every ``every`` steps (see the module).

    Args:
        folder: the run folder.
        stream: the data stream (its position is recorded).
        step: the global step training starts from.
        every: steps between checkpoints (None: only when :meth:`save` is called).
        record: extra JSON-serialisable entries of ``checkpoint.json`` (preset, settings).
        history: the history of the earlier part of the run, ``{"step": [...], name: [...]}``.
        fit_time_s: seconds spent in ``fit`` by the earlier part of the run.
        wall_time_s: seconds the earlier part of the run took from its start to its last
            checkpoint (this part's are counted from the callback's creation).
    """

    def __init__(self, folder, stream, step=0, every=None, record=None, history=None,
                 fit_time_s=0.0, wall_time_s=0.0):  # fmt: skip
        super().__init__()
        self.folder = Path(folder)
        self.stream = stream
        self.step = int(step)
        self.every = every
        self.record = dict(record or {})
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.fit_time_s = float(fit_time_s)
        self.wall_time_s = float(wall_time_s)
        self._created = time.perf_counter()
        self._saved = None  # the state last written

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every and self.step % self.every == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.history.setdefault("step", []).append(self.step)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self._saved is not None and self._saved["step"] == self.step:
            # Saved at this epoch's last step, before its history entry: record it too.
            write_json(self.folder / CHECKPOINT_FILE, {**self._saved, "history": self.history})

    def save(self):
        """Write the checkpoint of the current step (weights file, then the JSON naming it)."""
        name = f"checkpoint-{self.step:09d}.weights.h5"
        with atomic_path(self.folder / name) as tmp:
            self.model.save_weights(tmp)
        state = {
            **self.record,
            "step": self.step,
            "optimizer_iterations": int(
                keras.ops.convert_to_numpy(self.model.optimizer.iterations)
            ),  # fmt: skip
            "images_seen": self.step * int(self.stream.batch_size),
            "weights": name,
            "data": position(self.stream, self.step),
            "seed_generator_state": _seed_state(self.model),
            "history": self.history,
            "fit_time_s": round(self.fit_time_s, 3),
            "wall_time_s": round(self.wall_time_s + time.perf_counter() - self._created, 3),
            "finished": False,
        }
        write_json(self.folder / CHECKPOINT_FILE, state)
        self._saved = state
        for path in self.folder.glob("checkpoint-*.weights.h5"):
            if path.name != name and _WEIGHTS_PATTERN.match(path.name):
                path.unlink(missing_ok=True)


def read_checkpoint(folder):
    """``folder/checkpoint.json`` as a dict, or None if the folder has no checkpoint."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.exists():
        return None
    state = read_json(path)
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise ValueError(f"{path} is not a keras-latent checkpoint (no integer 'step')")
    weights = Path(folder) / str(state.get("weights"))
    if not weights.is_file():
        raise FileNotFoundError(f"{path} names {weights}, which does not exist")
    return state


def mark_finished(folder, state):
    """Record in ``folder/checkpoint.json`` that the run of ``state`` is finalised."""
    write_json(Path(folder) / CHECKPOINT_FILE, {**state, "finished": True})


def restore(model, folder, state):
    """Load the checkpoint ``state`` of ``folder`` into the compiled ``model``."""
    model.optimizer.build(model.trainable_variables)
    path = Path(folder) / state["weights"]
    try:
        model.load_weights(path)
    except Exception as error:
        raise ValueError(
            f"{path} could not be loaded into the model (corrupt file, or a checkpoint of "
            f"another architecture): {error}"
        ) from error
    seed_state = state.get("seed_generator_state")
    generator = getattr(model, "seed_generator", None)
    if seed_state is not None and generator is not None:
        generator.state.assign(np.asarray(seed_state, dtype=generator.state.dtype))
    iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if iterations != state["step"]:
        raise ValueError(
            f"{path} holds an optimizer at iteration {iterations} but {CHECKPOINT_FILE} says "
            f"step {state['step']}: the checkpoint is inconsistent"
        )


def train(model, stream, folder, steps, steps_per_epoch=250, checkpoint_every=None,
          state=None, record=None, callbacks=(), verbose="auto"):  # fmt: skip
    """Train ``model`` on ``stream`` up to global step ``steps``, checkpointing into ``folder``.

    Args:
        model: a compiled model (fresh; a checkpoint ``state`` is restored into it).
        stream: ``LinesStream`` or ``ArrayStream`` (see :func:`batch_at`).
        folder: the run folder (created).
        steps: the total number of steps of the run.
        steps_per_epoch: steps per ``fit`` call (one progress bar and one history entry).
        checkpoint_every: steps between checkpoints (None: only at the end).
        state: a checkpoint (:func:`read_checkpoint`) to resume from, or None.
        record: extra entries of ``checkpoint.json``.
        callbacks: more Keras callbacks for every ``fit`` call.

    Returns:
        The final checkpoint's state (a dict; its ``history`` spans the whole run).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    if state is not None:
        restore(model, folder, state)
        start = state["step"]
    checkpoint = Checkpoint(
        folder,
        stream,
        step=start,
        every=checkpoint_every,
        record=record,
        history=(state or {}).get("history"),
        fit_time_s=(state or {}).get("fit_time_s", 0.0),
        wall_time_s=(state or {}).get("wall_time_s", 0.0),
    )
    chunks = math.ceil((steps - start) / steps_per_epoch) if steps > start else 0
    done_chunks = len(checkpoint.history.get("step", []))
    for k in range(chunks):
        begin = start + k * steps_per_epoch
        timer = FitTimer()
        chunk = StepStream(stream, begin, min(steps_per_epoch, steps - begin))
        try:
            model.fit(
                chunk,
                initial_epoch=done_chunks + k,
                epochs=done_chunks + k + 1,
                shuffle=False,
                callbacks=[checkpoint, timer, *callbacks],
                verbose=verbose,
            )
        finally:
            checkpoint.fit_time_s += timer.seconds
    checkpoint.save()
    return read_json(folder / CHECKPOINT_FILE)


def _seed_state(model):
    generator = getattr(model, "seed_generator", None)
    if generator is None:
        return None
    return [int(v) for v in np.asarray(keras.ops.convert_to_numpy(generator.state.value))]
