"""Peak memory of the eccentric loss and of the clustering evaluation, on CPU.

Each measurement runs in a fresh Python process (``--one``, started by this script): it
builds its inputs, reads the process's peak resident set size (``resource.getrusage(
RUSAGE_SELF).ru_maxrss``), runs the computation once, reads it again, and reports the growth
of the peak: the memory the computation itself needed above what the process already held
(imports, inputs). Cases:

- ``eccentric``: ``keras_latent.losses.eccentric_loss`` of random codes ``(B, d)``, value
  (``forward``) and value with its gradient (``gradient``), on the backend of
  ``KERAS_BACKEND``, eagerly, with the default ``chunk_size`` (1024 rows per block) and with
  ``chunk_size=None`` (all ``B^2`` pairs at once) for contrast; at B x d = 4096 x 1024 and
  1024 x 1024.
- ``kmeans``: ``keras_latent.metrics.kmeans.kmeans`` (the clustering evaluation's K-means,
  10 clusters, random initialisation) on 60,000 x 256 random latents, at several ``n_init``
  and a small ``max_iter`` (memory does not depend on the number of iterations; time does).

Writes ``benchmarks/results/memory.json``.

    python benchmarks/memory.py
    python benchmarks/memory.py --n-init 2 20 200 400 --max-iter 3
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def peak_mib():
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gradient(fn, z):
    """``d fn(z) / dz`` on the current Keras backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(z)
            value = fn(z)
        return value, tape.gradient(value, z)
    if backend == "jax":
        import jax

        return jax.value_and_grad(fn)(z)
    import torch

    z = z.detach().requires_grad_(True)
    value = fn(z)
    (grad,) = torch.autograd.grad(value, z)
    return value, grad


def measure_one(case):
    """Run one measurement in this process: a dict with the peak growth in MiB."""
    import numpy as np

    if case["kind"] == "eccentric":
        import keras

        from keras_latent.losses import eccentric_loss

        rng = np.random.default_rng(0)
        z = keras.ops.convert_to_tensor(rng.standard_normal((case["batch"], case["dim"]), "f4"))
        chunk = case["chunk_size"]
        fn = lambda codes: eccentric_loss(codes, chunk_size=chunk)  # noqa: E731
        eccentric_loss(z[:8], chunk_size=chunk)  # backend warm-up, not measured
        before = peak_mib()
        start = time.perf_counter()
        result = fn(z) if case["mode"] == "forward" else gradient(fn, z)
        keras.ops.convert_to_numpy(result if case["mode"] == "forward" else result[1])
        backend = keras.backend.backend()
    else:
        from keras_latent.metrics.kmeans import kmeans

        x = np.random.default_rng(0).standard_normal((case["n"], case["dim"]), "f4")
        before = peak_mib()
        start = time.perf_counter()
        kmeans(x, case["k"], n_init=case["n_init"], max_iter=case["max_iter"], seed=0)
        backend = "numpy"
    seconds = time.perf_counter() - start
    after = peak_mib()
    return {**case, "backend": backend, "baseline_mib": round(before, 1),
            "peak_growth_mib": round(after - before, 1), "seconds": round(seconds, 2)}  # fmt: skip


def run_case(case):
    """``measure_one(case)`` in a fresh process."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, __file__, "--one", json.dumps(case)], env=env,
                            capture_output=True, text=True)  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--n-init", type=int, nargs="+", default=[2, 20, 200, 400])
    parser.add_argument("--max-iter", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["eccentric", "kmeans"])
    parser.add_argument("--output", type=Path, default=RESULTS / "memory.json")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(json.loads(args.one))))
        return
    cases = []
    if "eccentric" not in args.skip:
        for batch in args.batches:
            for chunk in (1024, None):
                for mode in ("forward", "gradient"):
                    cases.append(dict(kind="eccentric", batch=batch, dim=args.dim,
                                      chunk_size=chunk, mode=mode))  # fmt: skip
    if "kmeans" not in args.skip:
        for n_init in args.n_init:
            cases.append(dict(kind="kmeans", n=60000, dim=256, k=10, n_init=n_init,
                              max_iter=args.max_iter))  # fmt: skip
    results = []
    for case in cases:
        result = run_case(case)
        results.append(result)
        print(json.dumps(result), flush=True)
    from keras_latent.files import write_json

    record = {
        "command": " ".join(["python", "benchmarks/memory.py", *(argv or sys.argv[1:])]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "method": "peak RSS growth (ru_maxrss after - before) in a fresh process per case",
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.output, record)


if __name__ == "__main__":
    main()
