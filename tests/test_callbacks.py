import time

import keras
import numpy as np

from keras_latent.callbacks import FitTimer


class Sleep(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.2)


def test_fit_timer_measures_the_time_inside_fit():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    timer = FitTimer()
    start = time.perf_counter()
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=2, verbose=0, callbacks=[Sleep(), timer])
    outside = time.perf_counter() - start
    assert 0.4 <= timer.seconds <= outside
