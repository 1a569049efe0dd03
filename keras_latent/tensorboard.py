"""TensorBoard logs of a training run (``keras-latent train PRESET --log-dir DIR``).

Two callbacks, both numbering their summaries by the global step (the optimizer's iterations,
restored from the checkpoint on resume), so a resumed run continues the same curves; images
seen are ``step * batch_size``:

- :class:`TensorBoard`: Keras' own ``keras.callbacks.TensorBoard`` (scalars in ``DIR/train``),
  with every logged loss term, the linear probe's metrics when the stream has labels, the
  learning rate and ``images_per_second``. Keras numbers its epoch summaries by the epoch and
  its batch summaries from 0 in every ``fit`` call; here both get the global step (a run
  trains as one ``fit`` call per ``--steps-per-epoch`` chunk, see
  :mod:`keras_latent.training`). The in-training test evaluations (:meth:`TensorBoard.logged`)
  go to ``DIR/validation`` as ``evaluation_<name>``.
- :class:`TensorBoardImages`: every ``every`` steps (and at step 0), reconstructions of fixed
  images and a grid of latent interpolations between them, with ``tf.summary.image`` in
  ``DIR/images`` (``tf.summary`` takes numpy arrays, so this works on every backend).

The writers stay open from one ``fit`` call to the next (one event file per writer and
process, not one per chunk); they are flushed at the end of every ``fit`` call and closed by
:func:`run_logs`.
"""

import contextlib
import time
from pathlib import Path

import keras
import numpy as np

from keras_latent import validation

FIXED_IMAGES = 8
"""Images reconstructed in every image summary (the first of the stream's first batch)."""
INTERPOLATION_STEPS = 8
"""Frames per row of the interpolation grid (endpoints included)."""


def _iterations(model):
    """The optimizer's iterations: the run's global step."""
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


class Summary:
    """``tf.summary`` with its own ``scalar`` and ``image``.

    TensorFlow (a core dependency, whatever the Keras backend) writes the event files, but its
    ``tf.summary.scalar`` and ``tf.summary.image`` are implemented by the ``tensorboard``
    package, which TensorFlow no longer requires. These two write the same summaries, byte for
    byte (the ``scalars`` and ``images`` plugins' tensors and metadata), with
    ``tf.summary.write``, so training logs without that package; viewing them needs it
    (``pip install tensorboard``).
    Everything else is ``tf.summary``'s.
    """

    def __getattr__(self, name):
        import tensorflow as tf

        return getattr(tf.summary, name)

    @staticmethod
    def _metadata(plugin):
        """The metadata the ``tensorboard`` package writes: the plugin's name alone (its
        reader fills in the data class)."""
        from tensorflow.core.framework import summary_pb2

        metadata = summary_pb2.SummaryMetadata()
        metadata.plugin_data.plugin_name = plugin
        return metadata

    def scalar(self, name, data, step=None, description=None):
        """A float32 scalar summary (TensorBoard's scalars plugin)."""
        import tensorflow as tf

        metadata = self._metadata("scalars")
        return tf.summary.write(name, tf.cast(data, tf.float32), step=step, metadata=metadata)

    def image(self, name, data, step=None, max_outputs=3, description=None):
        """Images ``(n, H, W, C)`` in [0, 1] (or uint8), the first ``max_outputs`` as PNG
        (TensorBoard's images plugin: the width, the height, then one PNG per image)."""
        import tensorflow as tf

        metadata = self._metadata("images")
        images = tf.image.convert_image_dtype(tf.convert_to_tensor(data), tf.uint8, saturate=True)
        images = images[:max_outputs]
        pngs = tf.map_fn(tf.image.encode_png, images, fn_output_signature=tf.string)
        shape = tf.shape(images)
        size = tf.stack([tf.as_string(shape[2]), tf.as_string(shape[1])])
        return tf.summary.write(name, tf.concat([size, pngs], 0), step=step, metadata=metadata)


SUMMARY = Summary()
"""The summary operations of both callbacks (see :class:`Summary`)."""


def _summary():
    return SUMMARY


class TensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback with summaries numbered by the global step.

    Args:
        log_dir: the log folder (``train/`` and ``validation/`` are written inside it).
        batch_size: images per step, for ``images_per_second``.
        update_freq: ``"epoch"`` (the default: one point per ``fit`` epoch, i.e. per
            ``--steps-per-epoch`` chunk, the means over it) or an integer ``N``: also the
            running means every ``N`` global steps (``batch_*`` tags).

    Scalars (tags ``epoch_<name>``, and ``batch_<name>`` with an integer ``update_freq``): the
    logged loss terms (``loss``, ``reconstruction``, ...), ``probe_loss`` and
    ``probe_accuracy`` where the steps have labels, ``learning_rate`` and
    ``images_per_second`` (images over the seconds since the previous point, inside ``fit``).
    The batch checks' statistics (``validation.BATCH_PREFIX``) are left out.
    """

    def __init__(self, log_dir, batch_size, update_freq="epoch"):
        super().__init__(log_dir=str(log_dir), update_freq=update_freq, write_graph=False)
        self.batch_size = int(batch_size)
        self._batch_from = self._epoch_from = None  # (step, time) a rate is measured from

    @property
    def summary(self):
        """Where Keras' callback gets ``tf.summary`` from: :data:`SUMMARY`."""
        return SUMMARY

    def set_model(self, model):
        """Keras' ``set_model``, keeping the open writers (``fit`` calls it every time)."""
        writers = self._writers
        super().set_model(model)
        self._writers = writers

    def _close_writers(self):
        """Flush only, at the end of every ``fit`` call: :meth:`close` closes."""
        for writer in self._writers.values():
            writer.flush()

    def close(self):
        """Close the writers (a later ``fit`` opens new event files)."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._global_train_batch = _iterations(self.model)  # Keras starts every fit at 0
        self._batch_from = (self._global_train_batch, time.perf_counter())

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self._epoch_from = (self._global_train_batch, time.perf_counter())

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        record = self.update_freq != "epoch" and step % self.update_freq == 0
        scalars = None
        if record:
            scalars = self.scalars(logs, self._batch_from)
            self._batch_from = (step, time.perf_counter())
        super().on_train_batch_end(batch, scalars)

    def on_epoch_end(self, epoch, logs=None):
        # Keras numbers the epoch summaries by its epoch argument: give it the global step.
        # Recorded whatever the step (the batch summaries' record_if is still in force).
        with SUMMARY.record_if(True):
            super().on_epoch_end(self._global_train_batch, self.scalars(logs, self._epoch_from))

    def scalars(self, logs, since):
        """A copy of ``logs`` without batch statistics, with ``learning_rate`` and
        ``images_per_second`` since ``since = (step, time)``."""
        scalars = {
            k: v for k, v in (logs or {}).items() if not k.startswith(validation.BATCH_PREFIX)
        }
        scalars = self._collect_learning_rate(scalars)
        step, began = since
        seconds = time.perf_counter() - began
        if self._global_train_batch > step and seconds > 0:
            images = (self._global_train_batch - step) * self.batch_size
            scalars["images_per_second"] = images / seconds
        return scalars

    def write_evaluation(self, results, step=None):
        """Write ``{name: value}`` (in-training test evaluations) to ``validation/`` as
        ``evaluation_<name>`` at ``step`` (default: the model's global step)."""
        step = _iterations(self.model) if step is None else int(step)
        summary = _summary()
        with self._val_writer.as_default(), summary.record_if(True):
            for name, value in results.items():
                summary.scalar(f"evaluation_{name}", float(value), step=step)

    def logged(self, evaluate):
        """``evaluate`` (``f(model) -> {name: value}``) whose results are also written by
        :meth:`write_evaluation`; None stays None."""
        if evaluate is None:
            return None

        def evaluate_and_log(model):
            results = evaluate(model)
            self.write_evaluation(results, _iterations(model))
            return results

        return evaluate_and_log


class TensorBoardImages(keras.callbacks.Callback):
    """Image summaries every ``every`` global steps, and at step 0, in ``log_dir/images``.

    Args:
        log_dir: the log folder.
        images: fixed images ``(n, H, W, C)`` in [-1, 1], ``n >= 2`` (see
            :func:`fixed_images`).
        every: steps between summaries.
        steps: frames per interpolation row.

    Tags: ``reconstructions`` (a grid: the images above their reconstructions) and
    ``interpolations`` (row ``i``: ``model.interpolate`` from image ``i`` to image
    ``n // 2 + i``), pixels mapped from [-1, 1] to [0, 1] and clipped.
    """

    def __init__(self, log_dir, images, every, steps=INTERPOLATION_STEPS):
        super().__init__()
        self.images = np.asarray(images, dtype="float32")
        if len(self.images) < 2:
            raise ValueError(f"TensorBoardImages needs >= 2 images, got {len(self.images)}")
        self.every = int(every)
        self.steps = int(steps)
        self.log_dir = Path(log_dir) / "images"
        self._writer = None
        self._done = self._first = 0

    def on_train_begin(self, logs=None):
        self._done = self._first = _iterations(self.model)
        if self._done == 0:
            self.write(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._first = self._done

    def on_train_batch_end(self, batch, logs=None):
        self._done = self._first + batch + 1
        if self.every and self._done % self.every == 0:
            self.write(self._done)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()

    def write(self, step):
        """Write the image summaries of the model as it is, at ``step``."""
        summary = _summary()
        if self._writer is None:
            self._writer = summary.create_file_writer(str(self.log_dir))
        half = len(self.images) // 2
        reconstructions = np.stack([self.images, self.model.reconstruct(self.images)])
        frames = self.model.interpolate(
            self.images[:half], self.images[half : 2 * half], steps=self.steps
        )
        with self._writer.as_default(), summary.record_if(True):
            summary.image("reconstructions", tile(reconstructions), step=step)
            summary.image("interpolations", tile(frames), step=step)

    def close(self):
        """Close the writer."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def tile(grid):
    """``(rows, cols, H, W, C)`` images in [-1, 1] -> one ``(1, rows*H, cols*W, C)`` image in
    [0, 1], for ``tf.summary.image``."""
    grid = np.asarray(grid, dtype="float32")
    rows, cols, height, width, channels = grid.shape
    image = grid.transpose(0, 2, 1, 3, 4).reshape(rows * height, cols * width, channels)
    return np.clip((image[None] + 1.0) / 2.0, 0.0, 1.0)


def fixed_images(stream, n=FIXED_IMAGES):
    """The first ``n`` images of the stream's first batches (those of global steps 0, 1, ...:
    the same in every segment of a run). Call it before training: it sets the stream's
    epoch."""
    from keras_latent.training import batch_at

    images = []
    for step in range(n):
        batch = batch_at(stream, step)
        images.extend(batch[0] if isinstance(batch, (tuple, list)) else batch)
        if len(images) >= n:
            break
    return np.asarray(images[:n], dtype="float32")


def check_log_dir(log_dir, output):
    """Refuse (ValueError) a log folder that is the run folder ``output`` or inside it: the
    finished run replaces that folder whole, logs included."""
    log_dir, output = Path(log_dir).resolve(), Path(output).resolve()
    if log_dir == output or output in log_dir.parents:
        raise ValueError(
            f"--log-dir {log_dir} lies inside the run folder {output}, which the finished run "
            "replaces whole: choose a folder outside it (e.g. logs/PRESET)"
        )


@contextlib.contextmanager
def run_logs(log_dir, model, stream, batch_size, images_every, evaluate=None):
    """Yield ``(callbacks, evaluate)`` for :func:`keras_latent.training.train`: with a
    ``log_dir``, a :class:`TensorBoard` and (``images_every`` > 0) a :class:`TensorBoardImages`
    of :func:`fixed_images`, and ``evaluate`` also logging its results; without, ``([],
    evaluate)``. The writers are closed on exit."""
    if log_dir is None:
        yield [], evaluate
        return
    board = TensorBoard(log_dir, batch_size)
    callbacks = [board]
    if images_every:
        callbacks.append(TensorBoardImages(log_dir, fixed_images(stream), images_every))
    try:
        yield callbacks, board.logged(evaluate)
    finally:
        for callback in callbacks:
            callback.close()
