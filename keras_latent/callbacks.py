"""Keras callbacks of keras-latent."""

import time

import keras


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
