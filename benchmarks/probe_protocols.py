"""The frozen-latent linear probe of the published MNIST presets, on both protocols.

    python benchmarks/probe_protocols.py --data-dir ../shared/data/mnist

For each preset (default: every MNIST preset that ships trained weights), encodes the 60,000
training and 10,000 test images once with the shipped weights and trains a single dense layer
on the frozen latents (``keras_latent.metrics.representation``) two ways:

- ``fast``: this project's default, standardised latents, ``--fast-epochs`` epochs (50, the
  model cards' setting) of constant ``Adam(1e-4)``;
- ``official``: the official ``classify_latent_ae.py``, raw latents, 2^24 images (262,144
  steps of 64), ``Adam(1e-4)`` decayed to a tenth at the halfway step.

Each preset's record (both accuracies with their settings, the weights' sha256 and images
seen, backend, device, times) is written atomically to ``--output/PRESET.json``; a record of
the same weights is not measured again. The Markdown table goes to stdout and
``--output/summary.md``.
"""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keras_latent.files import atomic_path, read_json, write_json  # noqa: E402

PRESETS = ("acai_mnist", "ae_mnist", "eccentric_mnist")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX .gz files")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--fast-epochs", type=int, default=50, help="epochs of the fast probe")
    parser.add_argument("--official-images", type=int, default=2**24, help="official: 2^24")
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "results" / "probe_protocols"
    )
    args = parser.parse_args(argv)
    if args.fast_epochs < 1:
        parser.error("--fast-epochs must be >= 1")
    records = {preset: measure(preset, args) for preset in args.presets}
    summary = table(records)
    print(summary)
    with atomic_path(args.output / "summary.md") as tmp:
        tmp.write_text(f"# The frozen-latent probe on both protocols\n\n{summary}\n")
    print(f"wrote {args.output / 'summary.md'}")


def measure(preset, args):
    """The record of ``preset``: read where it holds these weights' scores, else measured."""
    import keras

    import keras_latent as kl
    from keras_latent import hardware
    from keras_latent.metrics import representation

    path = args.output / f"{preset}.json"
    weights = kl.zoo.describe(preset).get("weights") or {}
    if path.exists():
        record = read_json(path)
        if record.get("weights", {}).get("sha256") == weights.get("sha256"):
            print(f"{preset}: recorded in {path}, not measured again")
            return record
    model = kl.zoo.load(preset)
    x_train, y_train = kl.datasets.load("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = kl.datasets.load("mnist", "test", data_dir=args.data_dir)
    start = time.perf_counter()
    z_train = representation.encode_flat(model, x_train, 256, "train images")
    z_test = representation.encode_flat(model, x_test, 256, "test images")
    encode_s = time.perf_counter() - start
    probes = {}
    for protocol, budget in (
        ("fast", {"epochs": args.fast_epochs}),
        ("official", {"images": args.official_images}),
    ):
        print(f"{preset}: {protocol} probe ({budget})", flush=True)
        probes[protocol] = representation.linear_probe_accuracy_from_latents(
            z_train, y_train, z_test, y_test, protocol=protocol, return_details=True, **budget
        )
    record = {
        "preset": preset,
        "weights": {key: weights.get(key) for key in ("sha256", "images_seen", "command")},
        "probes": probes,
        "encode_time_s": round(encode_s, 2),
        "backend": keras.backend.backend(),
        "device": hardware.describe_device(),
        "command": " ".join(["python", "benchmarks/probe_protocols.py", *sys.argv[1:]]),
    }
    write_json(path, record)
    return record


def table(records):
    """Markdown: both probes' test accuracy per preset, with the budget and fit time."""
    rows = [
        "| preset | images the weights saw | fast probe (test) | official probe (test) | "
        "fit time fast / official | backend, device |",
        "|---|---|---|---|---|---|",
    ]
    for preset, record in records.items():
        fast, official = record["probes"]["fast"], record["probes"]["official"]
        rows.append(
            f"| {preset} | {record['weights']['images_seen']:,} | "
            f"{100 * fast['test_accuracy']:.2f}% ({fast['epochs']} epochs) | "
            f"{100 * official['test_accuracy']:.2f}% ({official['steps']:,} steps) | "
            f"{fast['fit_time_s'] / 60:.1f} / {official['fit_time_s'] / 60:.1f} min | "
            f"{record['backend']}, {record['device']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
