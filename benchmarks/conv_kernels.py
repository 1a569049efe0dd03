"""Forward + backward time of the ACAI MNIST convolutions in each framework, one process.

    python benchmarks/conv_kernels.py --repeats 20
    python benchmarks/conv_kernels.py --repeats 20 --dtype bfloat16 --frameworks tensorflow
    XLA_FLAGS=--xla_cpu_experimental_onednn_custom_call=true python benchmarks/conv_kernels.py

Why are Keras' JAX and torch backends slower than TensorFlow on this CPU? A training step of
the ACAI architecture is almost all 3x3 convolutions, so this times each framework's own
convolution, with no Keras, on the shapes of the MNIST preset at batch 64 (NHWC, as Keras
feeds them): ``sum(conv(x, w)^2)`` and its gradient with respect to ``x`` and ``w``, compiled
where the framework compiles (``tf.function``, ``jax.jit``), eager for PyTorch in its native
NCHW layout and in NHWC with the permutes that Keras' torch backend adds around each
convolution. ``tensorflow`` runs in the caller's environment (TensorFlow's own choice of
kernels for this CPU, unless ``TF_ENABLE_ONEDNN_OPTS`` is set), ``tensorflow_onednn`` with
``TF_ENABLE_ONEDNN_OPTS=1``: oneDNN, which TensorFlow turns on by itself only for CPUs with
AVX512-VNNI, AVX512-BF16 or AMX and ``import keras_latent`` turns on elsewhere
(``keras_latent.hardware``). ``--dtype bfloat16`` runs the same convolutions in bfloat16
(inputs and kernels cast once, outside the timed call), as ``mixed_bfloat16`` computes them.
Prints milliseconds per call (median of ``--repeats``) and the ratio to TensorFlow (the first
framework). Each framework runs in its own process (their thread pools would compete),
interleaved over ``--rounds``; the best round per shape is kept. The table and every
framework's times are written to ``--output`` (default
``benchmarks/results/conv_kernels_DTYPE_DATE.json``, atomically) with the command, CPU,
environment and versions.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# (height/width, input channels, output channels) of the 3x3 convolutions of acai_mnist.
SHAPES = [(32, 16, 16), (16, 16, 32), (16, 32, 32), (8, 32, 64), (8, 64, 64), (4, 64, 128)]
BATCH = 64


def median_ms(function, repeats):
    function()  # compile / warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def tensorflow_step(x, w, dtype):
    import tensorflow as tf

    x, w = tf.cast(tf.constant(x), dtype), tf.cast(tf.constant(w), dtype)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, 1, "SAME")
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x, w])

    return lambda: [g.numpy() for g in step()]


def jax_step(x, w, dtype):
    import jax
    import jax.numpy as jnp

    def loss(x, w):
        y = jax.lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return jnp.sum(y * y)

    step = jax.jit(jax.grad(loss, argnums=(0, 1)))
    x, w = jnp.asarray(x, dtype), jnp.asarray(w, dtype)
    return lambda: [g.block_until_ready() for g in step(x, w)]


def torch_step(x, w, dtype, keras_layout):
    import torch

    x = torch.from_numpy(x).to(getattr(torch, dtype))
    w = torch.from_numpy(w).to(getattr(torch, dtype))
    if not keras_layout:
        x = x.permute(0, 3, 1, 2).contiguous().requires_grad_()
    else:
        x = x.requires_grad_()
    w = w.permute(3, 2, 0, 1).contiguous().requires_grad_()

    def step():
        inputs = x.permute(0, 3, 1, 2) if keras_layout else x
        y = torch.nn.functional.conv2d(inputs, w, padding=1)
        if keras_layout:
            y = y.permute(0, 2, 3, 1)
        loss = (y * y).sum()
        return torch.autograd.grad(loss, [x, w])

    return step


RUNNERS = {
    "tensorflow": tensorflow_step,
    "tensorflow_onednn": tensorflow_step,
    "jax": jax_step,
    "torch_nchw": lambda x, w, dtype: torch_step(x, w, dtype, keras_layout=False),
    "torch_nhwc_permuted": lambda x, w, dtype: torch_step(x, w, dtype, keras_layout=True),
}


# Worker environment beyond the caller's: TensorFlow reads TF_ENABLE_ONEDNN_OPTS at import.
WORKER_ENVIRONMENT = {"tensorflow_onednn": {"TF_ENABLE_ONEDNN_OPTS": "1"}}


def measure(framework, repeats, dtype):
    """Milliseconds per call of each shape, for one framework (run in its own process)."""
    rng = np.random.default_rng(0)
    times = []
    for size, cin, cout in SHAPES:
        x = rng.standard_normal((BATCH, size, size, cin), dtype=np.float32)
        w = rng.standard_normal((3, 3, cin, cout), dtype=np.float32) * 0.1
        times.append(median_ms(RUNNERS[framework](x, w, dtype), repeats))
    return times


# Environment variables that change the kernels timed; the record keeps those set.
RECORDED_ENVIRONMENT = ("TF_ENABLE_ONEDNN_OPTS", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "XLA_FLAGS")


def versions():
    """Versions of Python and of the frameworks installed (None where absent)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("numpy", "tensorflow", "jax", "jaxlib", "torch"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def default_output(dtype):
    """``benchmarks/results/conv_kernels_DTYPE_YYYYMMDD_HHMM.json`` (UTC)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M")
    return Path("benchmarks/results") / f"conv_kernels_{dtype}_{stamp}.json"


def record(argv, args, environment, best, reference_name):
    """The JSON record of one run: per framework, ms per shape (best round) and the total.

    ``environment`` is the caller's, read before ``keras_latent`` was imported (its import
    may set ``TF_ENABLE_ONEDNN_OPTS``; it is imported only after the workers have run).
    """
    from keras_latent.hardware import cpu_model

    reference = best[reference_name]
    return {
        "command": " ".join(["python", "benchmarks/conv_kernels.py", *argv]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "environment": environment,
        "versions": versions(),
        "dtype": args.dtype,
        "repeats": args.repeats,
        "rounds": args.rounds,
        "batch_size": BATCH,
        "shapes": [{"size": s, "in": cin, "out": cout} for s, cin, cout in SHAPES],
        "reference": reference_name,
        "ms": {name: [round(v, 3) for v in times] for name, times in best.items()},
        "total_ms": {name: round(sum(times), 3) for name, times in best.items()},
        "total_ratio": {name: round(sum(t) / sum(reference), 3) for name, t in best.items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved runs; best is kept")
    parser.add_argument("--frameworks", nargs="+", choices=sorted(RUNNERS), default=list(RUNNERS))
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--output", type=Path, help="JSON record (default: see the docstring)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    environment = {k: os.environ[k] for k in RECORDED_ENVIRONMENT if k in os.environ}
    if args.worker:
        print("RESULT", json.dumps(measure(args.worker, args.repeats, args.dtype)))
        return
    best = {}
    for _ in range(args.rounds):
        for name in args.frameworks:
            command = [sys.executable, __file__, "--repeats", str(args.repeats)]
            command += ["--dtype", args.dtype, "--worker", name]
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **WORKER_ENVIRONMENT.get(name, {}))
            out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            line = next(v for v in out.stdout.splitlines() if v.startswith("RESULT "))
            times = json.loads(line[len("RESULT ") :])
            best[name] = [min(a, b) for a, b in zip(best.get(name, times), times)]
    reference_name = "tensorflow" if "tensorflow" in best else args.frameworks[0]
    reference = best[reference_name]
    names = list(best)
    print("| HxW, in -> out | " + " | ".join(f"{k} ms (ratio)" for k in names) + " |")
    print("|---" * (len(names) + 1) + "|")
    rows = [f"{s}x{s}, {cin} -> {cout}" for s, cin, cout in SHAPES] + ["total"]
    for i, row in enumerate(rows):
        pick = (lambda t: sum(t)) if row == "total" else (lambda t, i=i: t[i])
        ref = pick(reference)
        cells = " | ".join(f"{pick(best[k]):.2f} ({pick(best[k]) / ref:.2f})" for k in names)
        print(f"| {row} | {cells} |")
    from keras_latent.files import write_json

    output = args.output or default_output(args.dtype)
    write_json(output, record(argv, args, environment, best, reference_name))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
