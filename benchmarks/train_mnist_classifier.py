"""Train the MNIST feature classifier that keras-latent ships (for the Fréchet classifier distance).

    KERAS_BACKEND=tensorflow python benchmarks/train_mnist_classifier.py \
        --data-dir ../shared/data/mnist

Trains ``keras_latent.metrics.classifiers.build_mnist_classifier`` on the 60,000 MNIST train
images (the project's format: 32x32x1 in [-1, 1]) with Adam, measures its accuracy on the
10,000 test images and, if it reaches ``--min-accuracy`` (default 0.99), writes the weights
into the package (``keras_latent/metrics/weights/``) with a JSON recording their sha256, the
test accuracy and how they were trained. Every file is written atomically.
"""

import argparse
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from keras_latent import datasets
from keras_latent.callbacks import FitTimer
from keras_latent.files import atomic_path, write_json
from keras_latent.hardware import describe_device
from keras_latent.metrics import classifiers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX .gz files")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-accuracy", type=float, default=0.99)
    parser.add_argument("--output", type=Path, default=classifiers.WEIGHTS_DIR)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    x_train, y_train = datasets.load("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = datasets.load("mnist", "test", data_dir=args.data_dir)
    model = classifiers.build_mnist_classifier(seed=args.seed)
    steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    print(f"{model.count_params():,} parameters; {steps} steps on {keras.backend.backend()}")
    clock = FitTimer()
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=[clock],
        verbose=2,
    )
    wall = time.perf_counter() - start
    logits = model.predict(x_test, batch_size=1000, verbose=0)
    test_accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))
    print(f"test accuracy {test_accuracy:.4f} (fit {clock.seconds:.0f} s)")
    if test_accuracy < args.min_accuracy:
        print(f"below --min-accuracy {args.min_accuracy}: nothing written", file=sys.stderr)
        return 1

    weights = args.output / classifiers.MNIST_WEIGHTS.name
    shipped = classifiers.build_mnist_classifier()  # uncompiled: no optimizer state in the file
    shipped.set_weights(model.get_weights())
    with atomic_path(weights) as tmp:
        shipped.save_weights(tmp)
        tmp.chmod(0o644)  # package data: readable by every user once installed
    write_json(
        args.output / classifiers.MNIST_INFO.name,
        {
            "file": weights.name,
            "sha256": classifiers.sha256(weights),
            "test_accuracy": test_accuracy,
            "test_images": len(x_test),
            "parameters": model.count_params(),
            "training": {
                "script": "benchmarks/train_mnist_classifier.py",
                "data": "MNIST train, 60,000 images, 32x32x1 in [-1, 1] (padded with -1)",
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "optimizer": f"Adam, cosine decay from {args.learning_rate:g} to 5% over "
                f"{steps} steps",
                "seed": args.seed,
                "backend": keras.backend.backend(),
                "keras_version": keras.__version__,
                "device": describe_device(),
                "fit_time_s": round(clock.seconds, 1),
                "wall_time_s": round(wall, 1),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        },
    )
    (args.output / classifiers.MNIST_INFO.name).chmod(0o644)
    print(f"wrote {weights} and {classifiers.MNIST_INFO.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
