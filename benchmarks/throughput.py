"""Training throughput (images/s) of keras-latent's ``fit`` beside hand-written loops, one run.

    python benchmarks/throughput.py --steps 40                       # the recorded table
    python benchmarks/throughput.py --steps 3 --backends tensorflow  # smoke test
    python benchmarks/throughput.py --backends jax --models acai --policies float32 \
        mixed_bfloat16 --images 16777216 --baselines --tag gpu_full  # 2^24 images (GPU)

For every backend (``--backends``; each in a fresh subprocess with ``KERAS_BACKEND`` set,
because Keras fixes its backend at import), model (``--models``: names of
``keras_latent.presets.MODELS``, on the preset ``{model}_{--dataset}``'s architecture) and
dtype policy (``--policies``: ``float32``, ``mixed_bfloat16``, ``mixed_float16``), trains
``--steps`` batches of ``--batch-size`` random images in [-1, 1] through ``model.fit`` and
records:

- ``images_per_s``: measured inside ``fit`` by a callback, from the start of batch 1 to the
  end of the last epoch: the first (compiling) step is left out;
- ``wall_images_per_s``: all images over the wall time of the ``fit`` call (compilation,
  Keras' set-up and anything ``fit`` does after its last step included).

In the same run (``--baselines``, default all that apply), the same computation hand-written
(see ``reference_loops.py``): a ``tf.function`` step over the same model and ``loss_terms``
(TensorFlow worker), PyTorch eager with ``torch.nn`` modules mirroring the architecture (AE
and ACAI; ``torch.autocast`` bfloat16 for ``mixed_bfloat16``), and pythae's ``AE`` trainer on
the same encoder and decoder (float32; skipped with a message if pythae is not installed:
``pip install pythae``, a benchmark-only package, not a keras-latent dependency).

``--images N`` sets the budget in images instead of steps (``steps = N // batch``; the paper's
full MNIST run is 2^24 = 16777216). ``fit`` then cycles over a pool of at most 256 distinct
random batches by epochs. JAX and PyTorch use a GPU when one is visible; the device is
recorded. ``--jit-compile`` passes ``jit_compile`` to ``compile`` (``auto``: Keras' default;
``true`` on torch means ``torch.compile``). Extra environment for the workers (e.g.
``XLA_FLAGS``) is inherited.

Arithmetic (AE and ACAI, counted by ``arithmetic.py``): each result of these models records
``flops_per_image`` of its step and ``tflops``, the model FLOP/s achieved. Each backend's
worker also times its dense matmul (``keras.ops.matmul``, square, in each policy's compute
dtype: n = 2048 on a CPU, 8192 on a GPU; ``--no-matmul`` skips it), and each result records
``of_matmul_peak``: its FLOP/s over that measured matmul rate, the fraction of the arithmetic
peak the device reaches in practice. ``--peak-tflops POLICY=TFLOPS ...`` (a datasheet figure,
e.g. ``mixed_bfloat16=989 float32=67`` for an H100 SXM's dense bf16 and fp32) adds
``of_peak``.

Writes ``benchmarks/results/throughput_{tag}.json`` (atomically) and prints a Markdown table
with the ratios the project tracks (``--repeats R`` runs every worker R times, interleaved, and
the ratios use each configuration's best). The machines are shared: compare only ratios from
one run.
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]

BACKENDS = ("tensorflow", "jax", "torch")
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
BASELINES = ("tf_function", "torch_eager", "pythae")
POOL_BATCHES = 256  # distinct random batches fit cycles over when steps exceed it
MARK = "RESULT "
# Environment variables that change the measured speed, recorded with the results.
ENVIRONMENT = (
    "XLA_FLAGS",
    "OMP_NUM_THREADS",
    "OMP_WAIT_POLICY",
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_NUM_INTEROP_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
)


def parse_args(argv=None):
    from keras_latent.presets import DATASETS, MODELS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["ae", "acai"])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    parser.add_argument("--policies", nargs="+", choices=POLICIES, default=list(POLICIES[:2]))
    parser.add_argument("--steps", type=int, default=40, help="batches per configuration")
    parser.add_argument("--images", type=int, help="budget in images (overrides --steps)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--baselines", nargs="*", choices=BASELINES, default=list(BASELINES), help="none: fit"
    )
    parser.add_argument("--jit-compile", choices=("auto", "true", "false"), default="auto")
    parser.add_argument("--output", type=Path, default=HERE / "results")
    parser.add_argument("--tag", default=None, help="file name suffix (default: the date)")
    parser.add_argument(
        "--repeats", type=int, default=1, help="run every worker this many times, interleaved"
    )
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per worker")
    parser.add_argument(
        "--no-matmul", action="store_true", help="skip timing each backend's dense matmul"
    )
    parser.add_argument(
        "--peak-tflops", nargs="+", default=[], metavar="POLICY=TFLOPS",
        help="the device's datasheet peak per policy, e.g. mixed_bfloat16=989 float32=67",
    )  # fmt: skip
    parser.add_argument("--worker", choices=("keras", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.images is not None:
        args.steps = args.images // args.batch_size
    if args.steps < 2:
        parser.error("need at least 2 steps (the first one is not timed)")
    peaks = {}
    for item in args.peak_tflops:
        policy, _, value = item.partition("=")
        try:
            peaks[policy] = float(value)
        except ValueError:
            parser.error(f"--peak-tflops takes POLICY=TFLOPS, got {item!r}")
        if policy not in POLICIES or not peaks[policy] > 0:
            parser.error(f"--peak-tflops: {item!r} needs a policy of {POLICIES} and TFLOPS > 0")
    args.peak_tflops = peaks
    return args


# ------------------------------------------------------------------------------ workers
class StepRateTimer:
    """Keras callback: seconds from the start of batch 1 to the end of the last epoch."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.start = self.end = None
                self.batches = 0

            def on_train_batch_begin(self, batch, logs=None):
                if self.start is None and self.batches == 1:
                    self.start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                self.batches += 1

            def on_epoch_end(self, epoch, logs=None):
                self.end = time.perf_counter()

        return _Timer()


def random_images(steps, batch, shape, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    count = min(steps, POOL_BATCHES) * batch
    return rng.uniform(-1.0, 1.0, (count, *shape)).astype("float32")


def matmul_tflops(policy, on_gpu, seconds=1.0):
    """TFLOP/s of the backend's ``keras.ops.matmul`` of two square matrices in the policy's
    compute dtype (n = 8192 on a GPU, 2048 on a CPU), after one untimed call."""
    import keras
    from keras import ops

    n = 8192 if on_gpu else 2048
    dtype = keras.DTypePolicy(policy).compute_dtype
    a = keras.random.normal((n, n), dtype=dtype, seed=0)
    b = keras.random.normal((n, n), dtype=dtype, seed=1)

    def product():  # waits for the result: one element read back
        return ops.convert_to_numpy(ops.cast(ops.matmul(a, b)[0, 0], "float32"))

    product()
    calls, start = 0, time.perf_counter()
    while calls == 0 or time.perf_counter() - start < seconds:
        product()
        calls += 1
    return 2 * n**3 * calls / (time.perf_counter() - start) / 1e12


def keras_worker(args):
    """One backend: ``fit`` per model and policy, plus the tf.function loop on TensorFlow."""
    import arithmetic
    import keras
    import numpy as np

    from keras_latent import presets
    from keras_latent.hardware import describe_device

    backend = keras.backend.backend()
    device = describe_device()
    emit({"kind": "device", "backend": backend, "device": device})
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    for policy in args.policies:
        if not args.no_matmul:
            rate = matmul_tflops(policy, on_gpu=not device.startswith("cpu"))
            emit({"kind": "matmul", "backend": backend, "policy": policy, "tflops": rate})
        keras.config.set_dtype_policy(policy)
        for name in args.models:
            preset = f"{name}_{args.dataset}"
            arch = presets.architecture(args.dataset)
            images = random_images(args.steps, args.batch_size, arch["image_shape"])
            pool = len(images) // args.batch_size
            epochs = math.ceil(args.steps / pool)
            base = dict(backend=backend, model=name, preset=preset, policy=policy)
            try:
                model = presets.build(preset, seed=0)
                base["flops_per_image"] = arithmetic.step_flops_per_image(model, name)
                model.compile(optimizer=model.optimizer, jit_compile=jit)
                timer = StepRateTimer()
                start = time.perf_counter()
                history = model.fit(
                    images, batch_size=args.batch_size, epochs=epochs, shuffle=False,
                    callbacks=[timer], verbose=0,
                )  # fmt: skip
                wall = time.perf_counter() - start
                steps = pool * epochs
                in_fit = timer.end - timer.start
                loss = float(history.history["loss"][-1])
                emit(
                    dict(
                        base, runner="fit", steps=steps, batch_size=args.batch_size,
                        jit_compile=str(model.jit_compile),
                        images_per_s=round((steps - 1) * args.batch_size / in_fit, 1),
                        wall_images_per_s=round(steps * args.batch_size / wall, 1),
                        in_fit_s=round(in_fit, 3), wall_s=round(wall, 3),
                        final_loss=loss, finite=bool(np.isfinite(loss)),
                    )
                )  # fmt: skip
            except Exception as error:  # noqa: BLE001 - one failing configuration is a result
                emit(dict(base, runner="fit", error=f"{type(error).__name__}: {error}"))
                continue
            if backend == "tensorflow" and "tf_function" in args.baselines:
                import reference_loops

                model = presets.build(preset, seed=0)
                rate = reference_loops.tf_function_loop(
                    model, images[: min(args.steps, pool) * args.batch_size],
                    args.batch_size, min(args.steps, pool),
                )  # fmt: skip
                emit(dict(base, runner="tf_function", **rate))


def torch_worker(args):
    """Hand-written PyTorch eager loops (AE, ACAI) and pythae's AE trainer."""
    import reference_loops
    import torch

    from keras_latent import presets
    from keras_latent.hardware import cpu_model

    threads = torch.get_num_threads()
    device = f"cpu ({cpu_model()}, {os.cpu_count()} cores, torch {threads} threads)"
    emit({"kind": "device", "backend": "torch-reference", "device": device})
    arch = {k: v for k, v in presets.architecture(args.dataset).items()}
    steps = min(args.steps, POOL_BATCHES)
    images = random_images(steps, args.batch_size, arch["image_shape"])
    for policy in args.policies:
        if policy == "mixed_float16":
            continue  # float16 autocast on CPU is not a fair reference
        bf16 = policy == "mixed_bfloat16"
        for name in args.models:
            base = dict(backend="torch", model=name, preset=f"{name}_{args.dataset}", policy=policy)
            if "torch_eager" in args.baselines and name in ("ae", "acai"):
                rate = reference_loops.torch_eager_loop(
                    name, arch, images, args.batch_size, steps, bf16=bf16
                )
                emit(dict(base, runner="torch_eager", **rate))
            if "pythae" in args.baselines and name == "ae" and not bf16:
                try:
                    rate = reference_loops.pythae_loop(arch, images, args.batch_size, steps)
                except Exception as error:  # noqa: BLE001 - a failing peer is a result
                    emit(dict(base, runner="pythae", error=f"{type(error).__name__}: {error}"))
                    continue
                if rate is None:
                    print("pythae is not installed: skipped (pip install pythae)", file=sys.stderr)
                    emit(dict(base, runner="pythae", error="not installed"))
                else:
                    emit(dict(base, runner="pythae", **rate))


def emit(record):
    print(MARK + json.dumps(record), flush=True)


# ------------------------------------------------------------------------------- parent
def run_worker(kind, backend, argv, timeout):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    command = [sys.executable, str(Path(__file__).resolve()), *argv, "--worker", kind]
    print(f"# {kind} worker, KERAS_BACKEND={backend}", file=sys.stderr, flush=True)
    try:
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return [{"backend": backend, "runner": kind, "error": f"timed out after {timeout} s"}]
    records = [
        json.loads(line[len(MARK) :])
        for line in result.stdout.splitlines()
        if line.startswith(MARK)
    ]
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-5:]
        records.append({"backend": backend, "runner": kind, "error": " | ".join(tail)})
    return records


def versions():
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy", "pythae"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def add_arithmetic(results, matmul, peaks):
    """Each timed result gains ``tflops`` (its model FLOP/s), ``of_matmul_peak`` (over the
    fastest matmul its framework ran in that policy) and ``of_peak`` (over ``peaks[policy]``).

    Runners without their own count (the PyTorch loops) take their model's from ``fit``.
    """
    flops = {
        (r["model"], r["preset"]): r["flops_per_image"] for r in results if r.get("flops_per_image")
    }
    for r in results:
        per_image = flops.get((r.get("model"), r.get("preset")))
        if "images_per_s" not in r or not per_image:
            continue
        r["flops_per_image"] = per_image
        r["tflops"] = round(r["images_per_s"] * per_image / 1e12, 4)
        reference = matmul.get((r["backend"], r["policy"]))
        if reference:
            r["of_matmul_peak"] = round(r["tflops"] / reference, 3)
        if r["policy"] in peaks:
            r["of_peak"] = round(r["tflops"] / peaks[r["policy"]], 4)


def ratios(results):
    """The tracked ratios (step-cost and speed ratios, from one run)."""
    rate = {}  # best of the repeats per configuration
    for r in results:
        if "images_per_s" in r:
            key = (r["runner"], r["backend"], r["model"], r["policy"])
            rate[key] = max(rate.get(key, 0.0), r["images_per_s"])
    out = {}
    for (runner, backend, model, policy), value in rate.items():
        if runner == "fit" and model == "acai" and ("fit", backend, "ae", policy) in rate:
            key = f"acai_over_ae_step_cost/{backend}/{policy}"
            out[key] = round(rate[("fit", backend, "ae", policy)] / value, 2)
    for model in {k[2] for k in rate}:
        for policy in {k[3] for k in rate}:
            fits = {k[1]: v for k, v in rate.items() if k[0] == "fit" and k[2:] == (model, policy)}
            if len(fits) > 1:
                fastest = max(fits.values())
                for backend, value in fits.items():
                    out[f"fastest_over_backend/{model}/{policy}/{backend}"] = round(
                        fastest / value, 2
                    )
        hand = [
            v
            for k, v in rate.items()
            if k[0] in ("tf_function", "torch_eager") and k[2] == model and k[3] == "float32"
        ]
        fits = [v for k, v in rate.items() if k[0] == "fit" and k[2] == model]
        if hand and fits:
            out[f"best_fit_over_best_handwritten_fp32/{model}"] = round(max(fits) / max(hand), 2)
        pythae = rate.get(("pythae", "torch", model, "float32"))
        fp32 = [v for k, v in rate.items() if k[0] == "fit" and k[2:] == (model, "float32")]
        if pythae and fp32:
            out[f"best_fit_fp32_over_pythae/{model}"] = round(max(fp32) / pythae, 2)
    return dict(sorted(out.items()))


def _optional(record, key):
    return f"{record[key]:.3g}" if key in record else ""


def markdown(report):
    lines = [
        f"Machine: {report['machine']}; batch {report['batch_size']}, {report['steps']} steps "
        f"per configuration; `{report['command']}`"
        + "".join(f"; {k}={v}" for k, v in report["environment"].items()),
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v),
        "",
        "| model | policy | runner | backend | repeat | images/s in fit (loop) | images/s wall "
        "| TFLOP/s | of matmul peak | of peak |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        if "error" in r:
            what = " / ".join(str(r.get(k, "")) for k in ("model", "policy", "runner", "backend"))
            lines.append(f"| {what} | | error: {r['error'][:120]} | | | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {r['policy']} | {r['runner']} | {r['backend']} | {r['repeat']} | "
            f"{r['images_per_s']:.0f} | {r.get('wall_images_per_s', float('nan')):.0f} | "
            + " | ".join(_optional(r, k) for k in ("tflops", "of_matmul_peak", "of_peak"))
            + " |"
        )
    if report.get("matmul_tflops"):
        lines += ["", "Dense matmul, TFLOP/s: " + ", ".join(
            f"{k} {v:.3g}" for k, v in report["matmul_tflops"].items()
        )]  # fmt: skip
    lines += ["", "Ratios (best of the repeats per configuration):", "", "| ratio | value |"]
    lines += ["|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in report["ratios"].items()]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.worker == "keras":
        return keras_worker(args)
    if args.worker == "torch":
        return torch_worker(args)

    from keras_latent.files import write_json
    from keras_latent.hardware import cpu_model

    started = time.perf_counter()
    results, devices, matmul = [], {}, {}
    jobs = [("keras", b) for b in args.backends]
    if {"torch_eager", "pythae"} & set(args.baselines):
        jobs.append(("torch", "torch"))
    for repeat, (kind, backend) in [(i, job) for i in range(args.repeats) for job in jobs]:
        for record in run_worker(kind, backend, argv, args.timeout):
            if record.get("kind") == "device":
                devices[record["backend"]] = record["device"]
            elif record.get("kind") == "matmul":
                key = (record["backend"], record["policy"])
                matmul[key] = max(matmul.get(key, 0.0), round(record["tflops"], 4))
            else:
                results.append(dict(record, repeat=repeat))
                print(json.dumps(record), file=sys.stderr, flush=True)
    add_arithmetic(results, matmul, args.peak_tflops)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/throughput.py " + " ".join(argv),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "devices": devices,
        "versions": versions(),
        "environment": {k: os.environ[k] for k in ENVIRONMENT if k in os.environ},
        "batch_size": args.batch_size,
        "steps": args.steps,
        "matmul_tflops": {f"{b}/{p}": v for (b, p), v in sorted(matmul.items())},
        "peak_tflops": args.peak_tflops,
        "results": results,
        "ratios": ratios(results),
        "seconds": round(time.perf_counter() - started, 1),
    }
    tag = args.tag or datetime.now(UTC).strftime("%Y%m%d_%H%M")
    path = args.output / f"throughput_{tag}.json"
    write_json(path, report)
    print(markdown(report))
    print(f"\nwritten: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
