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

Also in ``checkpoint.json``: the weights file's sha256 (a truncated or half-committed file is
refused on resume), the ``segments`` of the run (one per ``train`` call: steps, device,
backend, dates, times), and, when ``train`` gets an ``evaluate`` function, its results every
``evaluate_every`` steps (``evaluations``: lists keyed by name, with ``step`` and
``images_seen``). A ``stop`` event (see :func:`stop_on_signals`) ends training after the
current step with a checkpoint of that step.
"""

import contextlib
import re
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from keras_latent.datasets.feeding import STREAM_WORKERS
from keras_latent.files import atomic_path, read_json, sha256_file, write_json
from keras_latent.hardware import describe_device

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
        every: steps between checkpoints (None: only when :meth:`save` is called).
        record: extra JSON-serialisable entries of ``checkpoint.json`` (preset, settings).
        state: the checkpoint this part of the run resumes from (:func:`read_checkpoint`), or
            None for a fresh run: its step, history, evaluations, segments and times go on.
        evaluate: ``f(model) -> {name: float}``, called every ``evaluate_every`` global steps
            (results in ``evaluations``), or None.
        evaluate_every: steps between evaluations.
        stop: a ``threading.Event``; once set, training stops after the current step.
    """

    def __init__(self, folder, stream, every=None, record=None, state=None, evaluate=None,
                 evaluate_every=None, stop=None):  # fmt: skip
        super().__init__()
        state = state or {}
        self.folder = Path(folder)
        self.stream = stream
        self.step = int(state.get("step", 0))
        self.every = every
        self.record = dict(record or {})
        self.history = {k: list(v) for k, v in (state.get("history") or {}).items()}
        self.evaluations = {k: list(v) for k, v in (state.get("evaluations") or {}).items()}
        self.evaluate = evaluate
        self.evaluate_every = evaluate_every
        self.stop = stop
        self.fit_time_s = float(state.get("fit_time_s", 0.0))
        self.wall_time_s = float(state.get("wall_time_s", 0.0))
        self.segments = list(state.get("segments") or [])
        self.segment = {
            "start_step": self.step,
            "step": self.step,
            "backend": keras.backend.backend(),
            "device": describe_device(),
            "started": _now(),
        }
        self._segment_fit_s = 0.0  # fit time of this segment's finished fit calls
        self._fit_began = None  # when the running fit call began
        self._created = time.perf_counter()
        self._saved = None  # the state last written

    def on_train_begin(self, logs=None):
        self._fit_began = time.perf_counter()

    def on_train_end(self, logs=None):
        seconds = time.perf_counter() - self._fit_began
        self.fit_time_s += seconds
        self._segment_fit_s += seconds
        self._fit_began = None

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.evaluate and self.evaluate_every and self.step % self.evaluate_every == 0:
            self.record_evaluation()
        if self.every and self.step % self.every == 0:
            self.save()
        if self.stop is not None and self.stop.is_set():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.history.setdefault("step", []).append(self.step)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self._saved is not None and self._saved["step"] == self.step:
            # Saved at this epoch's last step, before its history entry: record it too.
            self._saved = {**self._saved, "history": self.history}
            write_json(self.folder / CHECKPOINT_FILE, self._saved)

    def record_evaluation(self):
        """Append ``evaluate(model)`` at the current step to ``evaluations``."""
        results = self.evaluate(self.model)
        entry = {"step": self.step, "images_seen": self.step * int(self.stream.batch_size)}
        for key, value in {**entry, **results}.items():
            self.evaluations.setdefault(key, []).append(value)

    def save(self):
        """Write the checkpoint of the current step (weights file, then the JSON naming it).

        Refuses (ValueError) if ``checkpoint.json`` already holds a later step: another
        process trains in this folder, and its checkpoint is kept."""
        on_disk = self.folder / CHECKPOINT_FILE
        if on_disk.exists():
            written = read_json(on_disk).get("step")
            if isinstance(written, int) and written > self.step:
                raise ValueError(
                    f"{on_disk} holds step {written}, later than this run's {self.step}: "
                    "another process trains in this folder; its checkpoint is kept"
                )
        bad = [v.path for v in self.model.weights if not _finite(v)]
        if bad:
            raise ValueError(
                f"the weights are not finite at step {self.step} ({len(bad)} variables, first "
                f"{bad[0]}): no checkpoint is written, the last one in {self.folder} is kept"
            )
        name = f"checkpoint-{self.step:09d}.weights.h5"
        with atomic_path(self.folder / name) as tmp:
            self.model.save_weights(tmp)
            digest = sha256_file(tmp)
        now = time.perf_counter()
        running = 0.0 if self._fit_began is None else now - self._fit_began
        elapsed = now - self._created
        self.segment.update(
            step=self.step,
            ended=_now(),
            fit_time_s=round(self._segment_fit_s + running, 3),
            wall_time_s=round(elapsed, 3),
        )
        state = {
            **self.record,
            "step": self.step,
            "optimizer_iterations": int(
                keras.ops.convert_to_numpy(self.model.optimizer.iterations)
            ),  # fmt: skip
            "images_seen": self.step * int(self.stream.batch_size),
            "weights": name,
            "weights_sha256": digest,
            "data": position(self.stream, self.step),
            "seed_generator_state": _seed_state(self.model),
            "history": self.history,
            "evaluations": self.evaluations,
            "segments": [*self.segments, dict(self.segment)],
            "fit_time_s": round(self.fit_time_s + running, 3),
            "wall_time_s": round(self.wall_time_s + elapsed, 3),
            "finished": False,
        }
        write_json(self.folder / CHECKPOINT_FILE, state)
        self._saved = state
        for path in self.folder.glob("checkpoint-*.weights.h5"):
            if path.name != name and _WEIGHTS_PATTERN.match(path.name):
                path.unlink(missing_ok=True)


def read_checkpoint(folder):
    """``folder/checkpoint.json`` as a dict, or None if the folder has no checkpoint.

    Raises ValueError or FileNotFoundError, naming the file, where the JSON is not a
    checkpoint, a field is malformed (see :func:`check_checkpoint`: the weights file must be a
    ``checkpoint-<digits>.weights.h5`` of the folder itself), its weights file is missing, or
    that file's sha256 is not the recorded one (truncated, or half-committed)."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.exists():
        return None
    state = read_json(path)
    if not isinstance(state, dict) or not _is_integer(state.get("step")):
        raise ValueError(f"{path} is not a keras-latent checkpoint (no integer 'step')")
    check_checkpoint(state, path)
    weights = Path(folder) / state["weights"]
    if not weights.is_file():
        raise FileNotFoundError(f"{path} names {weights}, which does not exist")
    if weights.resolve().parent != Path(folder).resolve():
        raise ValueError(
            f"{path} names {weights}, a link to {weights.resolve()} outside the run folder"
        )
    expected = state.get("weights_sha256")
    if expected is not None and sha256_file(weights) != expected:
        raise ValueError(
            f"{weights} ({weights.stat().st_size:,} bytes) is not the file {path} names: its "
            "sha256 differs (truncated, or from another commit); restore both files from one "
            "commit (git checkout -- the folder) before resuming"
        )
    return state


def check_checkpoint(state, path):
    """ValueError naming ``path`` and the field where the checkpoint ``state`` breaks a rule of
    :data:`_CHECKPOINT_FIELDS` (``step`` and ``weights`` required, the others where present)."""
    for field, (rule, valid) in _CHECKPOINT_FIELDS.items():
        if field in ("step", "weights") or field in state:
            _check_field(path, field, state.get(field), rule, valid)
    for i, segment in enumerate(state.get("segments") or []):
        for field, (rule, valid) in _SEGMENT_FIELDS.items():
            if field in segment:
                _check_field(path, f"segments[{i}].{field}", segment[field], rule, valid)


def _check_field(path, field, value, rule, valid):
    """ValueError naming ``path`` and ``field`` where ``valid(value)`` is false."""
    if not valid(value):
        shown = repr(value)
        shown = shown if len(shown) <= 80 else f"{shown[:77]}..."
        raise ValueError(f"{path} has a malformed '{field}': it must be {rule}, not {shown}")


def _is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value):
    return _is_integer(value) and value >= 0


def _is_positive(value):
    return _is_integer(value) and value >= 1


def _is_seconds(value):
    return _is_number(value) and value >= 0  # NaN fails too


def _is_a(kind):
    return lambda value: isinstance(value, kind)


def _is_lists(value, item=lambda x: True):
    """A dict of lists (whose items pass ``item``)."""
    return isinstance(value, dict) and all(
        isinstance(v, list) and all(item(x) for x in v) for v in value.values()
    )


def _is_weights_name(value):
    """A weights file of the run folder itself: no path, no other name (``../``, ``/etc``)."""
    return isinstance(value, str) and value.isascii() and bool(_WEIGHTS_PATTERN.fullmatch(value))


def _is_sha256(value):
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) is not None


def _is_segments(value):
    return isinstance(value, list) and all(isinstance(x, dict) for x in value)


def _is_seed_state(value):
    return value is None or isinstance(value, list) and all(_is_integer(x) for x in value)


_CHECKPOINT_FIELDS = {
    "step": ("an integer >= 0", _is_count),
    "weights": ("a file name checkpoint-<digits>.weights.h5 (in the run folder)", _is_weights_name),
    "weights_sha256": ("64 lowercase hex digits", _is_sha256),
    "history": ("a dict of lists of numbers", lambda v: _is_lists(v, _is_number)),
    "evaluations": ("a dict of lists", _is_lists),
    "segments": ("a list of dicts", _is_segments),
    "batch_size": ("an integer >= 1", _is_positive),
    "steps": ("an integer >= 1", _is_positive),
    "seed": ("an integer", _is_integer),
    "optimizer_iterations": ("an integer >= 0", _is_count),
    "images_seen": ("an integer >= 0", _is_count),
    "fit_time_s": ("a number >= 0", _is_seconds),
    "wall_time_s": ("a number >= 0", _is_seconds),
    "finished": ("true or false", _is_a(bool)),
    "preset": ("a string", _is_a(str)),
    "dataset": ("a string", _is_a(str)),
    "dtype_policy": ("a string", _is_a(str)),
    "data": ("a dict", _is_a(dict)),
    "seed_generator_state": ("null or a list of integers", _is_seed_state),
}
"""The fields of ``checkpoint.json`` that are checked: ``(rule, test)``."""

_SEGMENT_FIELDS = {
    "start_step": ("an integer >= 0", _is_count),
    "step": ("an integer >= 0", _is_count),
    "fit_time_s": ("a number >= 0", _is_seconds),
    "wall_time_s": ("a number >= 0", _is_seconds),
}
"""The fields of each ``segments`` entry that are checked, where present."""


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
          state=None, record=None, callbacks=(), verbose="auto", evaluate=None,
          evaluate_every=None, stop=None):  # fmt: skip
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
        evaluate, evaluate_every: see :class:`Checkpoint`.
        stop: a ``threading.Event``: once set, training ends after the current step.

    Returns:
        The last checkpoint's state (a dict; its ``history`` spans the whole run). Its
        ``step`` is below ``steps`` when ``stop`` ended training early.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if state is not None:
        restore(model, folder, state)
    checkpoint = Checkpoint(
        folder,
        stream,
        every=checkpoint_every,
        record=record,
        state=state,
        evaluate=evaluate,
        evaluate_every=evaluate_every,
        stop=stop,
    )
    while checkpoint.step < steps and not (stop is not None and stop.is_set()):
        begin = checkpoint.step
        epoch = len(checkpoint.history.get("step", []))
        chunk = StepStream(stream, begin, min(steps_per_epoch, steps - begin))
        model.fit(
            chunk,
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,
            callbacks=[checkpoint, *callbacks],
            verbose=verbose,
        )
    checkpoint.save()
    return read_json(folder / CHECKPOINT_FILE)


@contextlib.contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Yield a ``threading.Event`` set by the first of ``signals`` (SIGINT, SIGTERM), for
    :func:`train`'s ``stop``: training ends after the current step with a checkpoint. A second
    SIGINT raises ``KeyboardInterrupt`` at once (the last checkpoint written stays). The
    previous handlers come back on exit. Outside the main thread, nothing is installed."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        print(
            f"\n{signal.Signals(signum).name}: stopping after this step, with a checkpoint "
            "(Ctrl-C again to stop at once)",
            flush=True,
        )

    previous = {s: signal.signal(s, handle) for s in signals}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _finite(variable):
    value = keras.ops.convert_to_numpy(variable.value)
    return not np.issubdtype(value.dtype, np.floating) or bool(np.isfinite(value).all())


def _now():
    return datetime.now(UTC).isoformat(timespec="seconds")


def _seed_state(model):
    generator = getattr(model, "seed_generator", None)
    if generator is None:
        return None
    return [int(v) for v in np.asarray(keras.ops.convert_to_numpy(generator.state.value))]
