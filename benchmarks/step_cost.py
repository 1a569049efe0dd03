"""ACAI's step cost in plain-autoencoder steps, the two models alternating in one process.

    python benchmarks/step_cost.py --steps 40 --rounds 8                # under KERAS_BACKEND
    for b in tensorflow jax torch; do KERAS_BACKEND=$b python benchmarks/step_cost.py; done

``throughput.py`` times every configuration in its own worker, one after another, and takes
the ratio of each configuration's best repeat; on a shared VM the AE's rate alone has moved
30% between repeats, and the step-cost ratio with it. Here ``ae_{dataset}`` and
``acai_{dataset}`` train through ``fit`` on the same random batches in one process, in rounds
of ``--steps`` batches ordered AE, ACAI, ACAI, AE, AE, ... (so that a steady drift of the
machine's speed cancels), after one untimed warm-up round each. Each round is timed inside
``fit`` from the start of batch 1 to the end of the epoch, as ``throughput.py`` does. Each
adjacent AE/ACAI pair of rounds gives one step-cost ratio (AE images/s over ACAI's, i.e.
ACAI's seconds per step in AE steps); the script prints their median, quartiles and range,
the ratio of the best rounds, and the ratio of the arithmetic (``arithmetic.py``), and writes
them to ``results/step_cost_{tag}.json``.
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

# Before Keras, as a user's ``import keras_latent`` comes: it chooses TensorFlow's CPU kernels.
import keras_latent  # noqa: E402, F401


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="batches per round")
    parser.add_argument("--rounds", type=int, default=8, help="timed rounds per model")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--policy", default="float32")
    parser.add_argument("--output", type=Path, default=HERE / "results")
    parser.add_argument("--tag", help="file name suffix (default: backend_policy)")
    args = parser.parse_args(argv)
    if args.steps < 2 or args.rounds < 1:
        parser.error("--steps must be at least 2 and --rounds at least 1")
    return args


def round_order(rounds):
    """``["ae", "acai", "acai", "ae", ...]``: ``rounds`` of each, in adjacent pairs (AB BA)."""
    pairs = [("ae", "acai") if i % 2 == 0 else ("acai", "ae") for i in range(rounds)]
    return [name for pair in pairs for name in pair]


def summarise(rates):
    """Step-cost ratios from ``{"ae": [...], "acai": [...]}`` images/s, round by round."""
    import numpy as np

    paired = np.array(rates["ae"]) / np.array(rates["acai"])
    return {
        "median": float(np.median(paired)),
        "quartiles": [float(q) for q in np.percentile(paired, [25, 75])],
        "range": [float(paired.min()), float(paired.max())],
        "best_rounds": max(rates["ae"]) / max(rates["acai"]),
        "per_pair": [round(float(r), 3) for r in paired],
    }


def main(argv=None):
    args = parse_args(argv)
    import arithmetic
    import keras
    import numpy as np
    from throughput import StepRateTimer, random_images, versions

    from keras_latent import presets
    from keras_latent.files import write_json
    from keras_latent.hardware import describe_device

    keras.config.set_dtype_policy(args.policy)
    backend = keras.backend.backend()
    shape = presets.architecture(args.dataset)["image_shape"]
    images = random_images(args.steps, args.batch_size, shape)
    models = {}
    for name in ("ae", "acai"):
        models[name] = presets.build(f"{name}_{args.dataset}", seed=0)
        models[name].compile(optimizer=models[name].optimizer)
    flops = {name: arithmetic.step_flops_per_image(m, name) for name, m in models.items()}

    def images_per_s(name):
        timer = StepRateTimer()
        models[name].fit(
            images, batch_size=args.batch_size, shuffle=False, verbose=0, callbacks=[timer]
        )
        return (len(images) // args.batch_size - 1) * args.batch_size / (timer.end - timer.start)

    for name in models:  # warm-up: compilation, first-call set-up
        images_per_s(name)
    rates = {name: [] for name in models}
    for name in round_order(args.rounds):
        rates[name].append(images_per_s(name))

    result = {
        "backend": backend,
        "device": describe_device(),
        "policy": args.policy,
        "dataset": args.dataset,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "versions": versions(),
        "images_per_s": {k: [round(v, 1) for v in r] for k, r in rates.items()},
        "step_cost": summarise(rates),
        "arithmetic_ratio": flops["acai"] / flops["ae"],
    }
    cost = result["step_cost"]
    print(f"{backend} {args.policy}: images/s", result["images_per_s"])
    print(
        f"ACAI / AE step cost: median {cost['median']:.2f} "
        f"(quartiles {cost['quartiles'][0]:.2f}-{cost['quartiles'][1]:.2f}, "
        f"range {cost['range'][0]:.2f}-{cost['range'][1]:.2f}), best rounds "
        f"{cost['best_rounds']:.2f}, arithmetic {result['arithmetic_ratio']:.2f}"
    )
    if not np.isfinite(cost["median"]):
        raise SystemExit("non-finite step-cost ratio")
    tag = args.tag or f"{backend}_{args.policy}"
    write_json(args.output / f"step_cost_{tag}.json", result)


if __name__ == "__main__":
    main()
