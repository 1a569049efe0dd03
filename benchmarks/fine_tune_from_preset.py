"""What the first steps of `fit` after `zoo.load` do to a trained preset.

    python benchmarks/fine_tune_from_preset.py --data-dir ../shared/data/mnist

Presets ship weights without optimizer state, so `fit` on a loaded preset starts a fresh Adam.
Adam's first updates are about ``lr * sign(gradient)`` for every weight (its moment estimates
start from the first gradient), which moves a trained network further than the same learning
rate does late in training. For each learning rate this loads the preset, trains ``--chunks``
chunks of ``--steps`` steps (batch 64, fresh MNIST training images each chunk) and records the
test reconstruction MSE (first ``--test-images`` test images) before and after each chunk.
Written atomically to ``--output`` (default ``benchmarks/results/fine_tune_PRESET.json``).
"""

import argparse
import platform
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="acai_mnist")
    parser.add_argument("--data-dir", default=None, help="folder of the MNIST IDX files")
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[1e-4, 1e-5])
    parser.add_argument("--steps", type=int, default=10, help="steps per chunk")
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--test-images", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)

    import keras

    import keras_latent as kl
    from keras_latent.files import write_json

    dataset = kl.zoo.describe(args.preset)["dataset"]["name"]
    x_train, _ = kl.datasets.load(dataset, "train", data_dir=args.data_dir)
    x_test, _ = kl.datasets.load(dataset, "test", data_dir=args.data_dir)
    x_test = x_test[: args.test_images]
    batch = 64
    runs = {}
    for lr in args.learning_rates:
        model = kl.zoo.load(args.preset)
        model.compile(optimizer=keras.optimizers.Adam(lr, epsilon=1e-8))
        mse = [float(np.mean((model.reconstruct(x_test) - x_test) ** 2))]
        for chunk in range(args.chunks):
            images = x_train[chunk * args.steps * batch : (chunk + 1) * args.steps * batch]
            model.fit(images, batch_size=batch, epochs=1, shuffle=False, verbose=0)
            mse.append(float(np.mean((model.reconstruct(x_test) - x_test) ** 2)))
        runs[f"{lr:g}"] = mse
        print(
            f"lr {lr:g}: test MSE after 0, {args.steps}, ... steps: "
            + ", ".join(f"{v:.4f}" for v in mse),
            flush=True,
        )
    record = {
        "preset": args.preset,
        "steps_per_chunk": args.steps,
        "batch_size": batch,
        "test_images": len(x_test),
        "test_mse_by_learning_rate": runs,
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    output = args.output or REPO / "benchmarks" / "results" / f"fine_tune_{args.preset}.json"
    write_json(output, record)
    print(f"written {output}")


if __name__ == "__main__":
    main()
