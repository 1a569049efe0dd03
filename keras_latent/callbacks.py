"""Keras callbacks of keras-latent."""

import time

import keras

from keras_latent import validation


class FitTimer(keras.callbacks.Callback):
    """Seconds spent inside ``fit``, from ``on_train_begin`` to ``on_train_end``.

    Timing inside ``fit`` leaves out Python start-up, tracing before the first batch is not
    excluded, and neither is anything ``fit`` does after its last epoch.
    """

    def __init__(self):
        super().__init__()
        self.seconds = 0.0
        self._start = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self._start


class StepCheck(keras.callbacks.Callback):
    """Stops ``fit`` at the end of the first training step with a bad batch or a NaN loss.

    Raises ``validation.BadBatchError`` (images not finite or outside [-1, 1], labels outside
    [0, num_classes)) or ``validation.NonFiniteLossError``, naming the global step (the
    optimizer's iterations), the epoch and the batch; see ``validation.check_step``. It also
    removes the batch statistics from the logs. ``Autoencoder.fit`` puts it first among the
    callbacks (:func:`with_step_check`), so no later callback of a bad step (a checkpoint) runs;
    the weights in memory hold that step's update. A step whose loss is finite but whose update
    leaves NaN weights is reported at the next step; with ``steps_per_execution`` > 1 only the
    last batch of each execution is checked (its loss, a running mean, still turns NaN).
    """

    def on_train_begin(self, logs=None):
        self._done = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        self._first, self._epoch = self._done, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._first, self._epoch = self._done, epoch

    def on_train_batch_end(self, batch, logs=None):
        self._done = self._first + batch + 1
        where = f"training step {self._done} (epoch {self._epoch + 1}, batch {batch + 1})"
        validation.check_step(logs, where, getattr(self.model, "num_classes", None))

    def on_epoch_end(self, epoch, logs=None):
        validation.pop_batch_statistics(logs)

    def on_train_end(self, logs=None):
        validation.pop_batch_statistics(logs)


def with_step_check(callbacks, model):
    """``callbacks`` (None, one callback, a list or a ``CallbackList``) with a
    :class:`StepCheck` of ``model`` first, unless they hold one already."""
    if isinstance(callbacks, keras.callbacks.CallbackList):
        if not any(isinstance(c, StepCheck) for c in callbacks.callbacks):
            check = StepCheck()
            check.set_model(model)
            check.set_params(callbacks.params)
            callbacks.callbacks.insert(0, check)
        return callbacks
    if callbacks is None:
        callbacks = []
    elif isinstance(callbacks, keras.callbacks.Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    if any(isinstance(c, StepCheck) for c in callbacks):
        return callbacks
    return [StepCheck(), *callbacks]
