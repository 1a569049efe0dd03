"""Does ``fit`` return promptly after its last step? Wall time of ``fit`` against in-fit time.

On TensorFlow a ``fit`` call could return 5-20 s after its last step, at a tick of tf.data's
autotuning timer. For ``--repeats`` 50-step ``fit`` calls of the plain autoencoder (TINY
architecture, 32x32x1 MNIST-shaped random images, batch 64) through each of the project's
pipelines, this records the wall time of the ``fit`` call and the in-fit time of
``keras_latent.callbacks.FitTimer`` (``on_train_begin`` to ``on_train_end``), and reports the
median and the maximum of ``wall / in-fit``. Pipelines:

- ``numpy``: ``Autoencoder.fit(x, batch_size=64)`` on an array of 50 batches;
- ``array_stream``: ``Autoencoder.fit(ArrayStream(x, batch_size=64))``;
- ``lines``: ``Autoencoder.fit(LinesStream(batch_size=64, steps_per_epoch=50))``;
- ``train``: ``keras_latent.training.train`` (what the CLI runs) for 50 steps on an
  ``ArrayStream``: one ``fit`` per 50-step chunk, on a ``training.StepStream``; its wall time
  is that of the ``fit`` call (``train``'s checkpoint writes are left out).

``--raw`` also runs each ``fit`` pipeline (not ``train``) the way it ran before the fix
(``keras.Model.fit`` itself, skipping ``Autoencoder.fit``, with single-worker streams: Keras'
own tf.data pipelines, autotune on), in the same run, interleaved with the project's runs. The
in-fit time is the steps' own (first batch start to last batch end, ``StepTimer``), so a stall
anywhere after the last step counts against the ratio; ``FitTimer``'s is recorded too. One
model per pipeline and mode, so the step is traced once, in an untimed warm-up call. Writes
``benchmarks/results/fit_stall.json``.

    KERAS_BACKEND=tensorflow python benchmarks/fit_stall.py --repeats 10 --raw
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from keras_latent import training  # noqa: E402
from keras_latent.callbacks import FitTimer  # noqa: E402
from keras_latent.datasets import ArrayStream  # noqa: E402
from keras_latent.datasets.lines import LinesStream  # noqa: E402
from keras_latent.files import write_json  # noqa: E402
from keras_latent.models import Autoencoder  # noqa: E402

TINY = dict(image_shape=(32, 32, 1), depth=4, latent=4, latent_width=8)
BATCH = 64
RESULTS = Path(__file__).resolve().parent / "results"


def make_data(steps, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (steps * BATCH, 32, 32, 1)).astype("float32")


class StepTimer(keras.callbacks.Callback):
    """Seconds from the first training batch's start to the last one's end: the steps alone,
    without what ``fit`` does before its first or after its last step (``FitTimer`` counts
    from ``on_train_begin`` to ``on_train_end``, so a stall at the end of the last epoch,
    before ``on_epoch_end``, is inside it)."""

    def __init__(self):
        super().__init__()
        self.first = self.last = None

    def on_train_batch_begin(self, batch, logs=None):
        if self.first is None:
            self.first = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.last = time.perf_counter()

    @property
    def seconds(self):
        return self.last - self.first


def one_fit(model, pipeline, steps, raw, x):
    """Wall seconds of one ``steps``-step ``fit`` through ``pipeline``, its steps' seconds
    (``StepTimer``) and ``FitTimer``'s."""
    timer, fit_timer = StepTimer(), FitTimer()
    fit = (lambda *a, **k: keras.Model.fit(model, *a, **k)) if raw else model.fit
    kwargs = {"workers": 1} if raw else {}  # one worker: Keras' from_generator + AUTOTUNE
    start = time.perf_counter()
    if pipeline == "numpy":
        fit(x, batch_size=BATCH, epochs=1, verbose=0, callbacks=[timer, fit_timer])
    elif pipeline == "array_stream":
        stream = ArrayStream(x, batch_size=BATCH, **kwargs)
        fit(stream, epochs=1, verbose=0, callbacks=[timer, fit_timer])
    elif pipeline == "lines":
        stream = LinesStream(BATCH, steps_per_epoch=steps, **kwargs)
        fit(stream, epochs=1, verbose=0, callbacks=[timer, fit_timer])
    elif pipeline == "train":  # wall: the fit call inside train (not its checkpoint writes)
        calls = []

        def timed_fit(*a, **k):
            begin = time.perf_counter()
            try:
                return type(model).fit(model, *a, **k)
            finally:
                calls.append(time.perf_counter() - begin)

        with tempfile.TemporaryDirectory() as folder:
            stream = ArrayStream(x, batch_size=BATCH)
            model.fit = timed_fit
            try:
                training.train(model, stream, folder, steps, steps_per_epoch=steps, verbose=0,
                               callbacks=[timer, fit_timer])  # fmt: skip
            finally:
                del model.fit
        return sum(calls), timer.seconds, fit_timer.seconds
    else:
        raise ValueError(pipeline)
    return time.perf_counter() - start, timer.seconds, fit_timer.seconds


def summary(runs):
    """Median and max of ``wall / steps`` over ``runs`` of ``(wall, steps, fit_timer)``."""
    ratios = [wall / steps for wall, steps, _ in runs]
    return {
        "median_ratio": round(statistics.median(ratios), 3),
        "max_ratio": round(max(ratios), 3),
        "median_wall_s": round(statistics.median(r[0] for r in runs), 3),
        "max_wall_s": round(max(r[0] for r in runs), 3),
        "median_steps_s": round(statistics.median(r[1] for r in runs), 3),
        "runs_wall_steps_fittimer_s": [[round(v, 4) for v in r] for r in runs],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--pipelines", nargs="+", default=["numpy", "array_stream", "lines",
                                                           "train"])  # fmt: skip
    parser.add_argument("--raw", action="store_true", help="also run the raw pipelines")
    parser.add_argument("--output", type=Path, default=RESULTS / "fit_stall.json")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    x = make_data(args.steps)
    modes = [("project", False)] + ([("raw", True)] if args.raw else [])
    cases = [(p, m, r) for p in args.pipelines for m, r in modes if not (r and p == "train")]
    models = {}
    for pipeline, mode, raw in cases:  # trace once per case, untimed
        model = Autoencoder(**TINY, seed=0)
        model.compile()
        one_fit(model, pipeline, args.steps, raw, x)
        models[pipeline, mode] = model
    runs = {case: [] for case in cases}
    for repeat in range(args.repeats):  # interleaved: the machine's load hits every case
        for pipeline, mode, raw in cases:
            model = models[pipeline, mode]
            wall, steps, inside = one_fit(model, pipeline, args.steps, raw, x)
            runs[pipeline, mode, raw].append((wall, steps, inside))
            line = f"{repeat} {pipeline:>12} {mode:>7}: wall {wall:7.3f} s, steps {steps:7.3f} s"
            print(f"{line}, FitTimer {inside:7.3f} s, wall/steps {wall / steps:6.2f}", flush=True)
    results = {f"{p}/{m}": summary(runs[p, m, r]) for p, m, r in cases}
    for name, result in results.items():
        print(f"{name:>22}: wall/steps median {result['median_ratio']:.2f}, "
              f"max {result['max_ratio']:.2f} (max wall {result['max_wall_s']:.2f} s)")  # fmt: skip
    record = {
        "command": " ".join(["python", "benchmarks/fit_stall.py", *(argv or sys.argv[1:])]),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": os.getloadavg(),
        "repeats": args.repeats,
        "steps": args.steps,
        "batch_size": BATCH,
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.output, record)
    print(json.dumps({k: v for k, v in record.items() if k != "results"}))


if __name__ == "__main__":
    main()
