"""Where a step's time goes on the torch backend: Keras ``fit`` beside the hand-written loop.

    KERAS_BACKEND=torch python benchmarks/torch_profile.py --policy mixed_bfloat16

Profiles (``torch.profiler``, CPU) ``--steps`` batches of ACAI on the acai_mnist architecture
through ``model.fit`` and through ``reference_loops.torch_eager_loop`` (``torch.autocast`` for
mixed_bfloat16), alternating ``--rounds`` times in one process, and prints per step: the wall
time, the summed self time of PyTorch operators (the rest of the wall time is Python), and the
operators that cost most in either. Compare within one run only: the machines are shared.
"""

import argparse
import collections
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policy", choices=("float32", "mixed_bfloat16"), default="float32")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if os.environ.get("KERAS_BACKEND") != "torch":
        parser.error("run with KERAS_BACKEND=torch")

    import keras
    import numpy as np
    import reference_loops
    from torch.profiler import ProfilerActivity, profile

    from keras_latent import presets

    keras.config.set_dtype_policy(args.policy)
    arch = presets.architecture("mnist")
    batch = 64
    images = np.random.default_rng(0).uniform(-1, 1, (batch * args.steps, *arch["image_shape"]))
    images = images.astype("float32")
    model = presets.build("acai_mnist", seed=0)
    model.compile(optimizer=model.optimizer)
    model.fit(images[: 2 * batch], batch_size=batch, verbose=0, shuffle=False)  # warm up

    runners = {
        "fit": lambda: model.fit(images, batch_size=batch, verbose=0, shuffle=False),
        "hand-written": lambda: reference_loops.torch_eager_loop(
            "acai", arch, images, batch, args.steps, bf16=args.policy == "mixed_bfloat16"
        ),
    }
    wall, operators = collections.Counter(), {name: collections.Counter() for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                start = time.perf_counter()
                run()
                wall[name] += time.perf_counter() - start
            for event in prof.key_averages():
                operators[name][event.key] += event.self_cpu_time_total / 1e3
    steps = args.rounds * args.steps
    print(f"ACAI acai_mnist, {args.policy}, batch {batch}, {steps} steps each; ms per step")
    print(f"{'':44s} " + " ".join(f"{name:>12s}" for name in runners))

    def row(label, values, digits=1):
        print(f"{label[:44]:44s} " + " ".join(f"{v:12.{digits}f}" for v in values))

    row("wall time", [wall[n] * 1e3 / steps for n in runners])
    row("PyTorch operators (self time)", [sum(operators[n].values()) / steps for n in runners])
    keys = set().union(*operators.values())
    for key in sorted(keys, key=lambda k: -max(operators[n][k] for n in runners))[: args.top]:
        row(f"  {key}", [operators[n][key] / steps for n in runners], digits=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
