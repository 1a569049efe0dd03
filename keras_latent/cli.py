"""The ``keras-latent`` command: list, train, evaluate, interpolate and sample zoo presets.

    keras-latent list
    keras-latent train acai_lines --steps 2000 --output runs/acai_lines
    keras-latent train acai_mnist --data-dir ../shared/data/mnist --steps 5000
    keras-latent evaluate runs/acai_mnist --data-dir ../shared/data/mnist
    keras-latent interpolate runs/acai_mnist --from a.png --to b.png
    keras-latent interpolate runs/acai_lines --pairs 8
    keras-latent sample runs/vae_mnist --n 64
    keras-latent campaign campaign --data-dir ../shared/data/mnist
    keras-latent push runs/acai_mnist hf://me/acai_mnist --private

``train`` writes a preset folder (``config.json``, ``model.weights.h5``, ``metadata.json``,
``README.md``: ``keras_latent.zoo.load(folder)`` works) plus ``metrics.json``, a figure
(``interpolation.png`` for lines, ``reconstruction.png`` for images) and its checkpoint
(``checkpoint.json``, ``checkpoint-<step>.weights.h5``): run it again on the same folder to
resume an interrupted run (see :mod:`keras_latent.training`). SIGINT or SIGTERM stops it
after the current step with a checkpoint. ``campaign`` trains the runs of a campaign folder's
``plan.json`` in turn, resuming the first unfinished one (see :mod:`keras_latent.campaign`).
"""

import argparse
import json
import logging
import math
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from keras_latent import runs

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
BACKEND_FREE = ("list", "push")
"""Commands that need no Keras backend: they import neither TensorFlow, JAX nor PyTorch."""
FRAMEWORK_LOGGERS = ("tensorflow", "jax", "absl")
"""Python loggers of the frameworks, set to errors only unless ``--verbose``."""
FRAMEWORK_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    r"STDERR|[IWEF]\d{4} +\d+:\d+:\d+(\.\d+)? +\d+ [\w./-]+:\d+\] .*)$"
)
"""A C++ log line of TensorFlow or XLA (absl's format), or absl's note before its setup."""
VERBOSE_HELP = "show TensorFlow's, JAX's and XLA's own log lines (hidden by default)"
EVALUATION_DEFAULTS = {"probe_epochs": 10, "kmeans_restarts": 1000}
"""``evaluate``'s frozen-latent probe epochs and K-means restarts where neither the command line
nor the model's metadata (``weights.evaluation``) gives them (see :func:`evaluation_settings`)."""
EVALUATION_FLAGS = {"probe_epochs": "--probe-epochs", "kmeans_restarts": "--kmeans-restarts"}
EVALUATION_SOURCES = {
    "given": "given on the command line",
    "recorded": "recorded in the model's metadata.json (weights.evaluation)",
    "default": "the command's default",
}
"""Where an evaluation setting came from, in words (``metrics.json`` records the key)."""


def plain(text):
    """``text`` without its reST markup (````x````, ``:mod:`x```` -> ``x``), for --help."""
    return re.sub(r"(:\w+:)?`+([^`]+)`+", r"\2", text)


def main(argv=None):
    """Run the ``keras-latent`` command ``argv`` (default ``sys.argv[1:]``); returns its exit
    status. Without ``--verbose`` the frameworks' own log lines are hidden (see
    :func:`hide_framework_logs`), also in the calling process's loggers."""
    parser = argparse.ArgumentParser(
        prog="keras-latent",
        description=plain(__doc__.split("\n")[0]),
        epilog="examples:\n" + __doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="the zoo's presets and whether weights exist")
    listing.add_argument("--json", action="store_true", help="print JSON")

    train = commands.add_parser("train", help="train a preset (resumable), then score it")
    train.add_argument("preset", help="a preset name, e.g. acai_lines or acai_mnist")
    train.add_argument("--data-dir", type=Path, help="folder of the dataset's files")
    train.add_argument(
        "--steps", type=int, help="total training steps (default: the checkpoint's, else the "
        "recipe's 262,144)"
    )  # fmt: skip
    train.add_argument("--batch-size", type=int, help="batch size (paper: 64)")
    train.add_argument("--seed", type=int, help="seed of weights, data and alpha (default 0)")
    train.add_argument("--output", type=Path, help="run folder (default runs/PRESET)")
    train.add_argument(
        "--checkpoint-every", type=int, default=1000, help="steps between checkpoints (1000)"
    )
    train.add_argument("--steps-per-epoch", type=int, default=250, help="steps per progress bar")
    train.add_argument("--eval-pairs", type=int, default=256, help="test pairs to score (lines)")
    train.add_argument(
        "--eval-every",
        type=int,
        default=runs.EVALUATE_EVERY,
        help="steps between in-training test evaluations of labelled image data: probe "
        f"accuracy and reconstruction MSE ({runs.EVALUATE_EVERY}, the official code's 64 kimg at "
        "batch 64; 0: none)",
    )
    train.add_argument(
        "--log-dir",
        type=Path,
        help="write TensorBoard logs there (outside --output): losses, probe metrics, learning "
        "rate, images/s and test evaluations by global step (a resumed run continues them)",
    )
    train.add_argument(
        "--log-images-every",
        type=int,
        help="with --log-dir, steps between image summaries: reconstructions and "
        "interpolations of fixed images (default: --checkpoint-every; 0: none)",
    )
    train.add_argument(
        "--dtype-policy",
        choices=POLICIES,
        help="Keras dtype policy (default float32; the mixed ones are faster only on hardware "
        "with bf16/fp16 units: several times slower on a CPU without)",
    )

    evaluate = commands.add_parser("evaluate", help="score a preset or run folder")
    evaluate.add_argument("run", help="preset name or folder")
    evaluate.add_argument("--data-dir", type=Path, help="folder of the dataset's files")
    evaluate.add_argument("--output", type=Path, help="folder for metrics.json and figures")
    evaluate.add_argument("--pairs", type=int, default=256, help="test pairs (lines; paper 256)")
    evaluate.add_argument("--method", choices=("linear", "slerp"), default="linear")
    evaluate.add_argument(
        "--probe-epochs",
        type=int,
        help="epochs of the frozen-latent probe (default: the setting the preset's metadata "
        f"records under weights.evaluation, else {EVALUATION_DEFAULTS['probe_epochs']})",
    )
    evaluate.add_argument(
        "--kmeans-restarts",
        type=int,
        help="K-means restarts (paper: 1000; default: the preset's recorded setting, else "
        f"{EVALUATION_DEFAULTS['kmeans_restarts']})",
    )

    interpolate = commands.add_parser("interpolate", help="draw latent interpolations")
    interpolate.add_argument("run", help="preset name or folder")
    interpolate.add_argument("--from", dest="source", type=Path, help="first image file")
    interpolate.add_argument("--to", dest="target", type=Path, help="last image file")
    interpolate.add_argument(
        "--invert", action="store_true",
        help="invert the image files (255 - pixel) first: dark strokes on a light background "
        "become the light-on-dark of MNIST-like presets",
    )  # fmt: skip
    interpolate.add_argument("--pairs", type=int, default=8, help="rows (lines test pairs)")
    interpolate.add_argument("--steps", type=int, default=16, help="frames per row")
    interpolate.add_argument("--method", choices=("linear", "slerp"), default="linear")
    interpolate.add_argument("--output", type=Path, help="PNG path")

    sample = commands.add_parser("sample", help="draw samples of a model with sample()")
    sample.add_argument("run", help="preset name or folder")
    sample.add_argument("--n", type=int, default=64, help="number of samples (64)")
    sample.add_argument(
        "--seed", type=int, default=0, help="seed of the draws (0): model.sample(n, seed=SEED)"
    )
    sample.add_argument("--output", type=Path, help="PNG path")
    sample.add_argument(
        "--data-dir",
        type=Path,
        help="for a model without a fitted latent sampler: folder of its dataset's files, whose "
        "training images the sampler is fitted on",
    )

    campaign = commands.add_parser(
        "campaign", help="resume a training campaign: the runs of FOLDER/plan.json in turn"
    )
    campaign.add_argument(
        "folder", type=Path, nargs="?", default=Path("campaign"), help="campaign folder"
    )
    campaign.add_argument("--data-dir", type=Path, help="dataset folder (default: the plan's)")
    campaign.add_argument(
        "--status", action="store_true", help="print where the campaign stands; train nothing"
    )

    push = commands.add_parser(
        "push", help="upload a preset or finished run folder to the Hugging Face Hub"
    )
    push.add_argument("folder", type=Path, help="preset or finished run folder")
    push.add_argument("handle", help="hf://owner/repo (created if needed)")
    push.add_argument(
        "--private", action="store_true", help="create the repository private (a new one only)"
    )
    push.add_argument("-m", "--message", help="commit message")
    push.add_argument("--token", help="Hub token (default: HF_TOKEN, else `hf auth login`'s)")

    for command in commands.choices.values():  # before or after the command's name
        command.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )
    args = parser.parse_args(argv)
    if not args.verbose:
        hide_framework_logs()
    if args.command not in BACKEND_FREE:
        import_backend(quiet=not args.verbose)
    commands = {
        "list": run_list,
        "train": run_train,
        "evaluate": run_evaluate,
        "interpolate": run_interpolate,
        "sample": run_sample,
        "campaign": run_campaign,
        "push": run_push,
    }
    try:
        return commands[args.command](args) or 0
    except (ValueError, TypeError, FileNotFoundError, NotImplementedError) as error:
        print(f"keras-latent {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.command not in ("train", "campaign"):
            raise
        print(
            f"keras-latent {args.command}: interrupted; run the same command again to resume "
            "from the last checkpoint",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:  # the reader went away (`keras-latent list | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def hide_framework_logs():
    """Hide the frameworks' own log lines (what ``--verbose`` shows): TensorFlow's and XLA's
    C++ logs below fatal (``TF_CPP_MIN_LOG_LEVEL=3`` where the variable is unset: read when
    they start, so before TensorFlow or JAX is imported), and :data:`FRAMEWORK_LOGGERS`'
    Python log records below errors. The lines absl prints before its logging is set up are
    dropped by :func:`import_backend`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in FRAMEWORK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def import_backend(quiet=True):
    """Import Keras and its backend, once. ``quiet``: the C++ log lines the import prints on
    stderr before ``TF_CPP_MIN_LOG_LEVEL`` is read (TensorFlow's oneDNN and CUDA notes, in
    :data:`FRAMEWORK_LOG_LINE`'s format) are dropped; anything else it prints is kept."""
    if "keras" in sys.modules or not quiet:
        import keras  # noqa: F401

        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
        finally:  # the import's other output is shown, also where it failed
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(True)
            sys.stderr.write("".join(x for x in lines if not FRAMEWORK_LOG_LINE.match(x.rstrip())))
            sys.stderr.flush()


def run_campaign(args):
    from keras_latent import campaign

    return campaign.main(args.folder, data_dir=args.data_dir, status_only=args.status)


def run_push(args):
    """Upload ``args.folder`` to the Hub repository ``args.handle`` (``keras_latent.zoo.push``);
    a missing ``huggingface_hub``, a refused token or an unreachable Hub exits with status 2."""
    from keras_latent import zoo

    try:
        url = zoo.push(
            args.folder, args.handle, token=args.token, private=args.private,
            commit_message=args.message,
        )  # fmt: skip
    except (ImportError, PermissionError, ConnectionError) as error:
        print(f"keras-latent push: error: {error}", file=sys.stderr)
        return 2
    print(f"pushed {args.folder} to {args.handle}: {url}")
    return 0


def run_list(args):
    from keras_latent import zoo

    listing = zoo.list_presets(details=True)
    if args.json:
        print(json.dumps(listing, indent=2))
        return
    width = max((len(name) for name in listing), default=0)
    for name, entry in listing.items():
        weights = "weights" if entry["weights"] else "no weights"
        print(f"{name:<{width}}  {weights:<10}  {entry['description']}")


def run_train(args):
    from keras_latent import presets, training

    name = presets.check_name(args.preset)
    for option in ("steps", "batch_size", "seed", "checkpoint_every", "steps_per_epoch"):
        value = getattr(args, option)
        if value is not None and value < (0 if option == "seed" else 1):
            flag = "--" + option.replace("_", "-")
            raise ValueError(f"{flag} must be >= {0 if option == 'seed' else 1}, got {value}")
    for option in ("eval_every", "log_images_every"):
        value = getattr(args, option)
        if value is not None and value < 0:
            raise ValueError(f"--{option.replace('_', '-')} must be >= 0, got {value}")
    if args.log_images_every is not None and args.log_dir is None:
        raise ValueError("--log-images-every needs --log-dir DIR, the folder of the logs")
    output = args.output or Path("runs") / name
    with training.stop_on_signals() as stop:
        state = runs.train_run(
            name,
            output,
            {key: getattr(args, key) for key in runs.DEFAULTS},
            steps=args.steps,
            data_dir=args.data_dir,
            checkpoint_every=args.checkpoint_every,
            steps_per_epoch=args.steps_per_epoch,
            evaluate_every=args.eval_every,
            eval_pairs=args.eval_pairs,
            stop=stop,
            log_dir=args.log_dir,
            log_images_every=args.log_images_every,
        )
    if stop.is_set() and not state.get("finished"):
        print(
            f"stopped at step {state['step']} with a checkpoint in {output}; run the same "
            "command again to resume",
            file=sys.stderr,
        )
        return 130
    return 0


def load_run(run):
    """``(model, folder, name, data)`` of a preset name or folder: the model with its weights,
    its own local folder (None for a shipped or downloaded preset: see :func:`output_folder`),
    the model's name and its dataset's ``keras_latent.datasets`` name (None if unknown)."""
    from keras_latent import presets, zoo
    from keras_latent.files import read_json

    folder = zoo.resolve(run)
    model = zoo.load(run, compile=False)
    meta = zoo.read_metadata(folder)
    data = (meta.get("dataset") or {}).get("data")
    if data is None and (folder / "metrics.json").is_file():
        data = read_json(folder / "metrics.json").get("dataset")
    if data is None and model.name in presets.PRESETS:
        data = presets.DATASETS[presets.PRESETS[model.name][1]]["data"]
    shipped = folder.resolve().parent == zoo.presets_dir().resolve()
    local = Path(run).is_dir() and not shipped and not str(run).startswith(("http", "file:"))
    return model, (folder if local else None), model.name, data


MODEL_FILES = ("config.json", "model.weights.h5", "metadata.json", "checkpoint.json")
"""Files of a model's own folder (a preset or a run): another model's results never go there."""


def output_folder(args, folder, name):
    """Where ``evaluate`` writes: ``--output``, else the model's own ``folder``, else (a shipped
    or downloaded preset) ``runs/NAME-preset``, never ``runs/NAME``, where ``train`` puts the
    user's own run. Checked by :func:`check_results_folder`."""
    out = getattr(args, "output", None)
    out = Path(out) if out is not None else (folder or Path("runs") / f"{name}-preset")
    check_results_folder(out, folder, name)
    return out


def output_file(args, folder, name, filename):
    """Where ``interpolate`` and ``sample`` write: ``--output`` (a file), else ``filename`` in
    :func:`output_folder`'s folder. Its folder is checked by :func:`check_results_folder`."""
    if args.output is None:
        return output_folder(args, folder, name) / filename
    check_results_folder(Path(args.output).parent, folder, name)
    return Path(args.output)


def check_results_folder(out, own, name):
    """Refuse (ValueError, naming ``out``) to write model ``name``'s results into a folder other
    than its own folder ``own`` that holds a model (:data:`MODEL_FILES`: a run or a preset,
    whose metadata.json would no longer describe its metrics.json and figures), or another
    model's ``metrics.json``, or that is a file."""
    out = Path(out)
    if own is not None and out.resolve() == Path(own).resolve():
        return
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder")
    held = [f for f in MODEL_FILES if (out / f).exists()]
    if held:
        raise ValueError(
            f"{out} holds another model ({', '.join(held)}): {name}'s results would overwrite "
            "its metrics and figures; choose another --output (a model's own folder takes only "
            "its own results: give the folder itself to evaluate that model)"
        )
    recipe = _metrics_recipe(out / "metrics.json")
    if recipe not in (None, name):
        raise ValueError(
            f"{out / 'metrics.json'} holds the results of {recipe!r}, not {name!r}: choose "
            "another --output"
        )


def _metrics_recipe(path):
    """The ``recipe`` (model name) a ``metrics.json`` records, or None."""
    from keras_latent.files import read_json

    if not path.is_file():
        return None
    record = read_json(path)
    return record.get("recipe") if isinstance(record, dict) else None


def run_evaluate(args):
    from keras_latent import evaluation

    model, folder, name, data = load_run(args.run)
    out = output_folder(args, folder, name)
    if data == "lines":
        drawing = run_drawing(args.run)
        runs.score_and_draw(model, out, name, pairs=args.pairs, method=args.method, drawing=drawing)
        print(f"wrote {out / 'metrics.json'} and {out / 'interpolation.png'}")
        return
    if data is None:
        raise ValueError(
            f"{args.run}: cannot tell the model's dataset (no metadata.json with a dataset); "
            "evaluate takes presets and folders written by keras-latent train"
        )
    settings = evaluation_settings(args)
    print(describe_evaluation(settings))
    test = evaluation.load_test_split(data, args.data_dir)
    metrics, seconds = image_metrics(model, args.run, data, args.data_dir, settings, test)
    record = runs.record_test_metrics(
        out, name, metrics, evaluation={**settings, "seconds": seconds}
    )
    runs.draw_reconstructions(model, test[0], out / "reconstruction.png", name)
    print(json.dumps({"run": str(out), **record["test"]}, indent=2))
    print(f"wrote {out / 'metrics.json'} and {out / 'reconstruction.png'}")


def evaluation_settings(args):
    """The probe epochs and K-means restarts ``evaluate`` uses on ``args.run``: per setting,
    the one given on the command line, else the one the model's metadata records under
    ``weights.evaluation`` (what its card's figures were measured with), else
    :data:`EVALUATION_DEFAULTS`. Returns ``{"probe_epochs", "kmeans_restarts", "sources":
    {setting: "given"|"recorded"|"default"}, "command"}``, the command that repeats them.
    A setting below 1 is a ValueError naming its flag."""
    recorded = recorded_evaluation(args.run)
    settings, sources = {}, {}
    for key, default in EVALUATION_DEFAULTS.items():
        given = getattr(args, key, None)
        if given is not None:
            settings[key], sources[key] = given, "given"
        elif recorded.get(key) is not None:
            settings[key], sources[key] = int(recorded[key]), "recorded"
        else:
            settings[key], sources[key] = default, "default"
        if settings[key] < 1:
            where = "recorded in the metadata" if sources[key] == "recorded" else "given"
            raise ValueError(f"{EVALUATION_FLAGS[key]} must be >= 1, got {settings[key]} ({where})")
    flags = " ".join(f"{EVALUATION_FLAGS[k]} {v}" for k, v in settings.items())
    return {**settings, "sources": sources, "command": f"keras-latent evaluate {args.run} {flags}"}


def recorded_evaluation(run):
    """The ``weights.evaluation`` entry of ``run``'s metadata (a preset name or folder): the
    settings its recorded metrics were measured with; ``{}`` where none is recorded."""
    from keras_latent import zoo

    weights = zoo.read_metadata(zoo.resolve(run)).get("weights")
    recorded = weights.get("evaluation") if isinstance(weights, dict) else None
    return recorded if isinstance(recorded, dict) else {}


def describe_evaluation(evaluation):
    """One line saying which settings :func:`evaluation_settings` chose, and why."""
    sources = {key: EVALUATION_SOURCES[source] for key, source in evaluation["sources"].items()}
    parts = [f"{flag} {evaluation[key]} ({sources[key]})" for key, flag in EVALUATION_FLAGS.items()]
    return "evaluation settings: " + ", ".join(parts)


def image_metrics(model, run, data, data_dir, settings, test):
    """:func:`keras_latent.evaluation.image_metrics` of ``model`` (loaded from ``run``) with
    ``settings`` (:func:`evaluation_settings`) and the ``test`` split already loaded; the
    preset's shipped sampler is used where its ``metadata.json`` shows it is the recipe's,
    fitted on these weights."""
    from keras_latent import evaluation, zoo

    weights = zoo.read_metadata(zoo.resolve(run)).get("weights")
    weights = weights if isinstance(weights, dict) else {}
    return evaluation.image_metrics(
        model,
        data,
        data_dir,
        probe_epochs=settings["probe_epochs"],
        kmeans_restarts=settings["kmeans_restarts"],
        sampler_record=weights.get("sampler"),
        weights_sha256=weights.get("sha256"),
        test=test,
    )


def run_interpolate(args):
    from keras_latent import plots

    model, folder, name, data = load_run(args.run)
    path = output_file(args, folder, name, "interpolation.png")
    if (args.source is None) != (args.target is None):
        raise ValueError("give both --from IMAGE and --to IMAGE (or neither, for lines models)")
    if args.source is not None:
        paths = [args.source, args.target]
        x = read_images(paths, model.image_shape, invert=args.invert)
        warn_background(x, training_data(args.run, data), paths, "interpolate")
        x_a, x_b = x[:, None]
    elif data == "lines":
        from keras_latent.datasets.lines import test_set as lines_test_set

        images, _ = lines_test_set(drawing=run_drawing(args.run))
        if not 1 <= args.pairs <= len(images) // 2:
            raise ValueError(f"--pairs must lie in [1, {len(images) // 2}]")
        x_a, x_b = images[: args.pairs], images[-args.pairs :]
    else:
        raise ValueError(f"{name} is not a lines model: give --from IMAGE and --to IMAGE")
    frames = model.interpolate(x_a, x_b, steps=args.steps, method=args.method)
    plots.save_interpolations(
        frames, path, title=runs.interpolation_title(name, args.method), endpoints=(x_a, x_b)
    )
    print(f"wrote {path}")


def read_images(paths, image_shape, invert=False):
    """Image files as ``(n, H, W, C)`` float32 in [-1, 1], decoded, converted, centre-cropped
    and resized as ``keras_latent.datasets.from_directory`` does; ``invert``: negated
    (``-x``, the image of ``255 - pixel``)."""
    from keras_latent.datasets.decode import decode_all, open_image
    from keras_latent.datasets.folder import _prepared
    from keras_latent.datasets.preprocess import scale_into

    size, width, channels = image_shape
    if size != width:
        raise ValueError(f"the model's images are not square ({image_shape})")
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"image file {path} does not exist")
    x = np.empty((len(paths), size, size, channels), dtype=np.float32)

    def work(index, path):
        scale_into(x[index], _prepared(open_image(path), channels, size, True))

    decode_all(list(paths), work, [str(p) for p in paths])
    if invert:
        np.negative(x, out=x)
    return x


def training_data(run, data):
    """What the model of ``run`` was trained on, for the background check: its metadata where
    that has a ``dataset`` entry, else the dataset name ``data`` (:func:`load_run`'s)."""
    from keras_latent import zoo

    meta = zoo.describe(run)
    return meta if isinstance(meta.get("dataset"), dict) else data


def warn_background(x, source, paths, command):
    """Print on stderr, as ``keras-latent COMMAND: warning: ...``, the warning of
    ``keras_latent.datasets.check_background`` for user images ``x`` read from ``paths``
    (images far from the training images' background, e.g. inverted digits)."""
    import warnings

    from keras_latent.datasets.background import BackgroundWarning, check_background

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BackgroundWarning)
        check_background(x, source, names=[str(p) for p in paths])
    for warning in caught:
        if issubclass(warning.category, BackgroundWarning):
            print(f"keras-latent {command}: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.warn(warning.message, warning.category, stacklevel=2)


def run_sample(args):
    """Draw ``--n`` images with ``model.sample(n, seed=--seed)`` into a PNG grid.

    A model that samples from a fitted latent sampler (no prior) and has none (a run folder, a
    preset shipped without one) gets one fitted first when ``--data-dir`` is given, on the codes
    of its dataset's training split (:data:`keras_latent.sampling.PRESET_RECIPE`, the sampler
    the shipped presets carry; lines need no folder: they are generated); it is not saved.
    Without ``--data-dir`` the command stops (exit 2), saying how to get one.
    """
    from keras_latent import plots

    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    model, folder, name, data = load_run(args.run)
    path = output_file(args, folder, name, "samples.png")
    if not model.samples_from_prior and model.latent_sampler is None:
        fit_latent_sampler(model, name, data, args.data_dir)
    try:
        images = np.asarray(model.sample(args.n, seed=args.seed), dtype="float32")
    except RuntimeError as error:  # no prior, or no fitted latent sampler
        raise ValueError(f"{name} cannot sample: {error}") from None
    cols = math.ceil(math.sqrt(args.n))
    rows = math.ceil(args.n / cols)
    pad = np.full((rows * cols - len(images), *images.shape[1:]), -1.0, dtype="float32")
    grid = np.concatenate([images, pad]).reshape(rows, cols, *images.shape[1:])
    plots.save_grid(grid, path, title=f"{name}: {args.n} samples")
    print(f"wrote {path}")


def fit_latent_sampler(model, name, data, data_dir):
    """Fit :data:`keras_latent.sampling.PRESET_RECIPE` on the codes of ``data``'s training split
    (from ``data_dir``; lines are generated) and say so; ValueError naming ``--data-dir``
    where no folder is given or the dataset is unknown."""
    from keras_latent import datasets, sampling

    if data is None:
        raise ValueError(
            f"{name} has no fitted latent sampler and its dataset is unknown (no metadata.json "
            "with a dataset): fit one in Python with model.fit_sampler(x_train) and save it "
            "with keras_latent.zoo.save_preset"
        )
    if data_dir is None and data != "lines":
        raise ValueError(
            f"{name} has no fitted latent sampler: give --data-dir DIR, the folder of its "
            f"{data} files, to fit one on the codes of its training images (not saved), or "
            f"ship one with `python -m keras_latent.zoo_samplers` (presets) or "
            "model.fit_sampler(x_train) then keras_latent.zoo.save_preset"
        )
    x, _ = datasets.load(data, "train", data_dir=data_dir)
    sampler = model.fit_sampler(x, **sampling.PRESET_RECIPE)
    source = "generated" if data == "lines" else f"from {data_dir}"
    print(
        f"{name} has no fitted latent sampler: fitted a {sampling.describe(sampler)} on the "
        f"codes of {len(x):,} {data} training images ({source}); not saved"
    )
    return sampler


def run_drawing(run):
    """The lines drawing the model of ``run`` (a preset name or folder) was trained on, from
    its metadata (:func:`keras_latent.presets.lines_drawing`); scores use the same one."""
    from keras_latent import presets, zoo

    return presets.lines_drawing(zoo.read_metadata(zoo.resolve(run)))


if __name__ == "__main__":
    sys.exit(main())
