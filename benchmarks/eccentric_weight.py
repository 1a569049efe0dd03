"""The eccentric regularizer's weight on real MNIST, over several seeds: the slow test, recorded.

    python benchmarks/eccentric_weight.py --data-dir ../shared/data/mnist --seeds 0 1 2 3 4 5

The experiment of ``tests/models/test_eccentric.py``'s slow test (which asserts it for seed 0),
repeated per seed: an ``EccentricAutoencoder`` trained with weight 1 and with weight 0.01 on
the same 4096 training images (depth 8, a 4x4x1 latent: d_z 16; 1000 steps of 128,
``Adam(1e-3)``; the seed sets the weights, the data order and the subset), then the principal
components of 2000 test codes. The paper's claim: a lower weight tolerates a more eccentric
latent, its variance concentrated in fewer directions. Per weight it records the top principal
variance over the median one (``top_to_median``, what the test asserts), the largest over the
smallest (``eccentricity``) and the whole spectrum.

Each seed's record is written atomically to ``--output/seedSEED.json`` (skipped when present,
so an interrupted run resumes); the Markdown table goes to stdout and ``--output/summary.md``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keras_latent.files import atomic_path, read_json, write_json  # noqa: E402

WEIGHTS = (1.0, 0.01)
SUBSET, STEPS, BATCH, TEST_CODES = 4096, 1000, 128, 2000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX .gz files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "results" / "eccentric_weight"
    )
    args = parser.parse_args(argv)
    records = {}
    for seed in args.seeds:
        path = args.output / f"seed{seed}.json"
        if path.exists():
            print(f"seed {seed}: recorded in {path}, not trained again")
            records[seed] = read_json(path)
        else:
            records[seed] = run(seed, args.data_dir)
            write_json(path, records[seed])
    summary = table(records)
    print(summary)
    with atomic_path(args.output / "summary.md") as tmp:
        tmp.write_text(f"# The eccentric regularizer's weight on MNIST\n\n{summary}\n")


def run(seed, data_dir):
    """Train both weights with ``seed``; their spectra and ratios, with how they were made."""
    import keras

    from keras_latent import hardware
    from keras_latent.datasets import load
    from keras_latent.models import EccentricAutoencoder

    x_train, _ = load("mnist", "train", data_dir=data_dir)
    x_test, _ = load("mnist", "test", data_dir=data_dir)
    subset = x_train[np.random.default_rng(seed).permutation(len(x_train))[:SUBSET]]
    weights = {}
    for weight in WEIGHTS:
        keras.utils.set_random_seed(seed)
        model = EccentricAutoencoder(
            image_shape=(32, 32, 1),
            depth=8,
            latent=1,
            latent_width=4,
            eccentric_weight=weight,
            seed=seed,
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        start = time.perf_counter()
        model.fit(subset, batch_size=BATCH, epochs=STEPS * BATCH // SUBSET, verbose=0)
        seconds = time.perf_counter() - start
        variances = model.principal_components(x_test[:TEST_CODES]).variances
        weights[str(weight)] = {
            "top_to_median": float(variances[0] / np.median(variances)),
            "eccentricity": float(variances[0] / variances[-1]),
            "variances": [float(v) for v in variances],
            "fit_time_s": round(seconds, 1),
        }
        print(f"seed {seed}, weight {weight}: {weights[str(weight)]['top_to_median']:.2f}")
    return {
        "seed": seed,
        "weights": weights,
        "setup": {"subset": SUBSET, "steps": STEPS, "batch_size": BATCH, "test_codes": 2000},
        "backend": keras.backend.backend(),
        "device": hardware.describe_device(),
        "keras": keras.__version__,
        "command": " ".join(["python", "benchmarks/eccentric_weight.py", *sys.argv[1:]]),
    }


def table(records):
    """Markdown: per seed, both ratios at both weights, and the rise of ``top_to_median``."""
    high, low = (str(w) for w in WEIGHTS)
    rows = [
        f"| seed | top/median, weight {high} | top/median, weight {low} | rise | "
        f"largest/smallest, weight {high} | largest/smallest, weight {low} | backend, device |",
        "|---|---|---|---|---|---|---|",
    ]
    for seed, record in sorted(records.items()):
        a, b = record["weights"][high], record["weights"][low]
        rows.append(
            f"| {seed} | {a['top_to_median']:.2f} | {b['top_to_median']:.2f} | "
            f"{b['top_to_median'] / a['top_to_median']:.2f}x | {a['eccentricity']:.1f} | "
            f"{b['eccentricity']:.1f} | {record['backend']}, {record['device']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
