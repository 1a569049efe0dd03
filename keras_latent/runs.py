"""Training runs: a zoo preset trained into a run folder, resumed from its checkpoint, and
finished into a preset folder with its scores and figures.

:func:`train_run` is what ``keras-latent train`` and each ``keras-latent campaign`` segment run:
it locks the folder (:func:`run_lock`), resumes its checkpoint with the same settings
(:func:`resume_settings`), trains through :func:`keras_latent.training.train` on the preset's
data (:func:`make_stream`), evaluating on the test split every :data:`EVALUATE_EVERY` steps
where the data are labelled images (:func:`test_evaluation`), and, at the last step,
:func:`finish_run` writes the preset files, ``metrics.json`` and a figure. The scoring helpers
(:func:`score_images`, :func:`score_and_draw` for lines) serve ``keras-latent evaluate`` too.
"""

import contextlib
import fcntl
import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

LINES_EPOCH = 1000
"""Batches per epoch of the lines stream (its seed, epoch and index fix each batch)."""


DEFAULTS = {"batch_size": 64, "seed": 0, "dtype_policy": "float32"}


EVALUATE_EVERY = 1024
"""Steps between in-training test evaluations (65,536 images at batch 64: the official code's
64 kimg report interval, at which the paper's Table 2 probe accuracies were logged)."""


def train_run(name, output, given, steps=None, data_dir=None, checkpoint_every=1000,
              steps_per_epoch=250, evaluate_every=EVALUATE_EVERY, eval_pairs=256, stop=None,
              callbacks=(), verbose="auto", log_dir=None, log_images_every=None):  # fmt: skip
    """Train preset ``name`` into the run folder ``output`` (resuming its checkpoint), and
    finish it (:func:`finish_run`) once it reaches ``steps``. Returns the last checkpoint.

    ``given``: ``batch_size``, ``seed``, ``dtype_policy`` asked for (None: the checkpoint's, else
    :data:`DEFAULTS`); a value that differs from the checkpoint's is a ValueError. ``steps``:
    None for the checkpoint's, else the recipe's. The folder is locked (:func:`run_lock`) while
    training: a second process on it is refused. ``stop``: see :func:`training.train`.
    ``output`` is checked before anything trains (:func:`zoo.check_output`): a file, the
    current folder or one above it, or a non-empty folder keras-latent did not write (not a
    preset, run or model folder) is a ValueError: the finished run replaces the folder whole.
    ``log_dir``: write TensorBoard logs there (:func:`keras_latent.tensorboard.run_logs`), with
    image summaries every ``log_images_every`` steps (None: ``checkpoint_every``; 0: none).
    """
    import keras

    from keras_latent import presets, tensorboard, training, zoo

    output = Path(output)
    zoo.check_output(output)
    if log_dir is not None:
        tensorboard.check_log_dir(log_dir, output)
    with run_lock(output):
        state = training.read_checkpoint(output)
        settings = resume_settings(output, name, state, given)
        steps = steps or (state or {}).get("steps") or presets.RECIPE["steps"]
        if state is not None and state["step"] > steps:
            raise ValueError(
                f"{output} is already trained for {state['step']} steps, more than --steps {steps}"
            )
        if state is not None and state.get("finished") and state["step"] == steps:
            print(
                f"{output} is a finished run of {name} ({steps} steps): nothing to train (pass "
                "a larger --steps to train it further)"
            )
            return state
        dataset = presets.DATASETS[presets.PRESETS[name][1]]
        keras.utils.set_random_seed(settings["seed"])
        previous_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(settings["dtype_policy"])
        try:
            model = presets.build(name, seed=settings["seed"])
        finally:  # the model keeps its policy; the process's default is left as it was
            keras.config.set_dtype_policy(previous_policy)
        stream = make_stream(dataset, model, settings, data_dir)
        evaluate = None
        if evaluate_every and dataset["data"] != "lines":
            evaluate = test_evaluation(dataset["data"], data_dir)
        if state is None:
            print(
                f"Training {name} ({type(model).__name__}, {model.count_params():,} parameters) "
                f"for {steps} steps of {settings['batch_size']} images on "
                f"{keras.backend.backend()}, checkpoints in {output}"
            )
        else:
            print(
                f"Resuming {name} from its checkpoint in {output} at step {state['step']} of "
                f"{steps}: training the remaining {steps - state['step']} steps"
            )
        record = {"preset": name, "steps": steps, **settings, "dataset": dataset["data"]}
        images_every = checkpoint_every if log_images_every is None else log_images_every
        logs = tensorboard.run_logs(
            log_dir, model, stream, settings["batch_size"], images_every, evaluate
        )
        with logs as (board, evaluate):
            final = training.train(
                model,
                stream,
                output,
                steps,
                steps_per_epoch=steps_per_epoch,
                checkpoint_every=checkpoint_every,
                state=state,
                record=record,
                callbacks=[*callbacks, *board],
                verbose=verbose,
                evaluate=evaluate,
                evaluate_every=evaluate_every or None,
                stop=stop,
            )
        if final["step"] < steps:
            return final
        finish_run(model, output, name, dataset, final, eval_pairs, data_dir)
        return training.read_checkpoint(output)


def resume_settings(output, name, state, given):
    """The run's ``batch_size``, ``seed`` and ``dtype_policy``: the checkpoint's (``state``), or
    those ``given``, or :data:`DEFAULTS`. ValueError where the checkpoint is of another preset
    or ``given`` differs from it."""
    if state is not None and state.get("preset") != name:
        raise ValueError(
            f"{output} holds a checkpoint of {state.get('preset')!r}, not {name!r}: choose "
            "another --output"
        )
    settings = {}
    for key, default in DEFAULTS.items():
        saved = (state or {}).get(key)
        if state is not None and key == "dtype_policy" and saved is None:
            saved = "float32"  # checkpoints from before the option were float32
        value = given.get(key)
        if state is not None and value is not None and value != saved:
            raise ValueError(
                f"{output} holds a checkpoint trained with {key.replace('_', ' ')} {saved}; "
                f"resume it with the same value (or leave --{key.replace('_', '-')} out), or "
                "choose another --output"
            )
        settings[key] = saved if saved is not None else (default if value is None else value)
    return settings


@contextlib.contextmanager
def run_lock(output):
    """Hold an exclusive lock on the run folder ``output`` (the file ``.NAME.lock`` beside it)
    while training: a second process training into the same folder gets a ValueError naming
    the first one's pid, and neither checkpoint is touched by the other."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    path = output.parent / f".{output.name}.lock"
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise ValueError(
                f"{output} is being trained by another process (pid {holder}, lock {path}); "
                "stop it first (kill -INT pid: it checkpoints and exits)"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock, fcntl.LOCK_UN)


def test_evaluation(data, data_dir):
    """``f(model) -> {"probe_accuracy", "reconstruction_mse"}`` on ``data``'s test split: the
    in-training linear probe's test accuracy (where the model has one and the split labels)
    and the test reconstruction MSE, for :func:`training.train`'s ``evaluate``."""
    from keras_latent import evaluation

    x, y = evaluation.load_test_split(data, data_dir)

    def evaluate(model):
        return evaluation.test_scores(model, x, y)[0]

    return evaluate


def make_stream(dataset, model, settings, data_dir):
    """The training stream of a preset's dataset: ``LinesStream`` for lines, else the
    training split of ``keras_latent.datasets.load`` (``presets.splits``: CelebA's all) in an
    ``ArrayStream`` (with labels when the model has a linear probe)."""
    from keras_latent import datasets, presets

    if dataset["data"] == "lines":
        return datasets.lines.LinesStream(
            batch_size=settings["batch_size"],
            steps_per_epoch=LINES_EPOCH,
            seed=settings["seed"],
            drawing=dataset.get("drawing", "official"),
        )
    x, y = datasets.load(dataset["data"], presets.splits(dataset["data"])[0], data_dir=data_dir)
    labels = y if getattr(model, "num_classes", None) and y is not None else None
    return datasets.ArrayStream(x, labels, batch_size=settings["batch_size"], seed=settings["seed"])


def finish_run(model, output, name, dataset, state, eval_pairs=256, data_dir=None):
    """Score the trained model and turn ``output`` into a preset folder, atomically: the
    preset files (``zoo.save_preset``), ``metrics.json``, the figure, and the checkpoint
    (marked finished)."""
    import keras

    from keras_latent import cards, training, zoo
    from keras_latent.files import atomic_folder, write_json
    from keras_latent.hardware import describe_device

    steps, batch_size = state["step"], state["batch_size"]
    record = {
        "recipe": name,
        "model": type(model).__name__,
        "dataset": dataset["data"],
        "training": {
            "steps": steps,
            "batch_size": batch_size,
            "images_seen": steps * batch_size,
            "seed": state["seed"],
            "optimizer": "Adam(learning_rate=1e-4, epsilon=1e-8)",
            "dtype_policy": model.dtype_policy.name,
            "backend": keras.backend.backend(),
            "keras_version": keras.__version__,
            "device": describe_device(),
            "fit_time_s": round(state["fit_time_s"], 2),
            "wall_time_s": round(state["wall_time_s"], 2),
            "images_per_second": round(steps * batch_size / max(state["fit_time_s"], 1e-9), 1),
            "history": state["history"],
            "evaluations": state.get("evaluations") or {},
            "segments": state.get("segments") or [],
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }
    output = Path(output)
    with atomic_folder(output, zoo.OWN_FOLDERS) as tmp:
        write_json(tmp / "metrics.json", record)
        drawing = dataset.get("drawing", "official") if dataset["data"] == "lines" else None
        if drawing:
            scored = score_and_draw(
                model, tmp, name, pairs=eval_pairs, shown=output, drawing=drawing
            )
            metrics = {k: scored["lines"][k] for k in ("mean_distance", "smoothness")}
            compare_with_shipped(model, tmp, name, steps, metrics, pairs=eval_pairs, shown=output)
        else:
            metrics = score_images(model, tmp, name, dataset["data"], data_dir, output)
            metrics.update(cards.training_statistic(state.get("evaluations")))
        weights = {
            key: record["training"][key]
            for key in ("steps", "batch_size", "images_seen", "seed", "dtype_policy", "device",
                        "fit_time_s", "wall_time_s", "images_per_second")
        }  # fmt: skip
        weights["metrics"] = metrics
        if drawing:
            weights["drawing"] = drawing
        weights["command"] = (
            f"keras-latent train {name} --steps {steps} --batch-size {batch_size} "
            f"--seed {state['seed']}"
        )
        if model.dtype_policy.name != "float32":
            weights["command"] += f" --dtype-policy {model.dtype_policy.name}"
        staged = zoo.save_preset(
            model, tmp / ".preset", metadata={"weights": weights}, data=dataset["data"],
            location=output,
        )  # fmt: skip
        for path in staged.iterdir():
            os.replace(path, tmp / path.name)
        staged.rmdir()
        shutil.copy2(output / state["weights"], tmp / state["weights"])
        training.mark_finished(tmp, state)
    print(f"wrote {output} (kl.zoo.load({str(output)!r}) loads it)")


def score_images(model, folder, name, data, data_dir, shown=None):
    """Test reconstruction MSE and, with a probe, the in-fit probe's test accuracy; recorded
    in ``metrics.json`` under ``test``; ``reconstruction.png`` drawn. Returns the metrics."""
    from keras_latent import evaluation

    x, y = evaluation.load_test_split(data, data_dir)
    metrics = {"test_images": int(len(x)), **evaluation.test_scores(model, x, y)[0]}
    record_test_metrics(folder, name, metrics)
    draw_reconstructions(model, x, Path(folder) / "reconstruction.png", name)
    print(json.dumps({"run": str(shown or folder), **metrics}, indent=2))
    return metrics


def record_test_metrics(folder, name, metrics, **entries):
    """Merge ``metrics`` into the ``test`` entry of ``folder``'s ``metrics.json`` (made with
    ``recipe`` ``name`` where there is none) and set ``entries``; returns the record."""
    from keras_latent.files import read_json, write_json

    path = Path(folder) / "metrics.json"
    record = read_json(path) if path.exists() else {"recipe": name}
    record["test"] = {**record.get("test", {}), **metrics}
    record.update(entries)
    write_json(path, record)
    return record


def draw_reconstructions(model, x, path, name, n=8):
    from keras_latent import plots

    x = x[:n]
    plots.save_grid(
        np.stack([x, model.reconstruct(x)]),
        path,
        title=f"{name}: test images and their reconstructions",
        row_labels=["test image", "reconstruction"],
    )


def score_and_draw(model, folder, name, pairs=256, method="linear", shown=None, drawing="official"):
    """Score ``model`` on the lines metrics with test and reference lines of ``drawing`` (the
    one it was trained on), record them in ``metrics.json``, draw a grid."""
    from keras_latent import plots
    from keras_latent.files import read_json, write_json
    from keras_latent.metrics import lines

    folder = Path(folder)
    result = lines.evaluate(model, n_pairs=pairs, steps=16, method=method, drawing=drawing)
    metrics_path = folder / "metrics.json"
    record = read_json(metrics_path) if metrics_path.exists() else {"recipe": name}
    record["lines"] = {**result, "pairs": pairs, "steps": 16, "method": method, "drawing": drawing}
    paper = paper_lines(name)
    if paper:
        record["paper_lines"] = paper
    write_json(metrics_path, record)

    x_a, x_b = figure_pairs(pairs, drawing)
    frames = model.interpolate(x_a, x_b, steps=16, method=method)
    plots.save_interpolations(
        frames,
        folder / "interpolation.png",
        title=interpolation_title(name, method),
        endpoints=(x_a, x_b),
    )
    print(json.dumps({"run": str(shown or folder), **record["lines"]}, indent=2))
    if paper:
        print(f"paper ({name}): {json.dumps(paper)}")
    return record


FIGURE_PAIRS = 8
"""Test pairs drawn in a lines run's figures."""


SHIPPED_FIGURE = "interpolation_vs_shipped.png"
"""The figure of a lines run beside the shipped preset of the same name (see
:func:`compare_with_shipped`)."""


def figure_pairs(pairs, drawing="official"):
    """The lines test pairs a run's figures draw: test lines ``i`` and ``pairs + i`` for ``i <
    FIGURE_PAIRS``, the first pairs :func:`keras_latent.metrics.lines.evaluate` scores."""
    from keras_latent.datasets.lines import test_set as lines_test_set

    images, _ = lines_test_set(drawing=drawing)
    return images[:FIGURE_PAIRS], images[pairs : pairs + FIGURE_PAIRS]


def compare_with_shipped(model, folder, name, steps, metrics, pairs=256, shown=None):
    """Draw :data:`SHIPPED_FIGURE` in ``folder``: the pairs of ``interpolation.png``
    (:func:`figure_pairs`) through ``model``, trained ``steps`` steps and scoring ``metrics``,
    above the same pairs through the shipped preset ``name`` (its weights from the package's
    zoo, never downloaded) with the metrics its metadata records; say so. Returns the path, or
    None (nothing drawn) where ``name`` ships without weights. A shipped preset that does not
    load is reported on stderr and skipped: the run itself is complete without the figure."""
    from keras_latent import plots, zoo

    if not zoo.list_presets(details=True).get(name, {}).get("weights"):
        return None
    try:
        shipped = zoo.load(zoo.presets_dir() / name, compile=False)
    except (OSError, ValueError) as error:
        print(f"not comparing with the shipped {name}: {error}", file=sys.stderr)
        return None
    record = zoo.read_metadata(zoo.presets_dir() / name).get("weights") or {}
    x_a, x_b = figure_pairs(pairs)  # the drawing this run is trained and scored on
    rows = (
        ("this run", model, steps, metrics),
        (f"shipped {name}", shipped, record.get("steps"), record.get("metrics") or {}),
    )
    panels, steps_of = [], {}
    for who, net, trained, scores in rows:
        steps_of[who] = f"{trained:,} steps" if trained else "steps unknown"
        heading = f"{who}: {steps_of[who]}"
        if who != "this run" and record.get("drawing", "official") != "official":
            heading += f", trained on the {record['drawing']} drawing"
        if {"mean_distance", "smoothness"} <= set(scores):
            heading += (
                f" (Mean Distance {scores['mean_distance']:.2g}, "
                f"Smoothness {scores['smoothness']:.2f})"
            )
        frames = net.interpolate(x_a, x_b, steps=16)
        panels += plots.interpolation_blocks(frames, (x_a, x_b), heading=heading)
    path = Path(folder) / SHIPPED_FIGURE
    title = f"The same {len(x_a)} test pairs through this run and through the shipped {name}"
    plots.save_panels(panels, path, title=title)
    print(
        f"wrote {Path(shown or folder) / SHIPPED_FIGURE}: the same {len(x_a)} test pairs as "
        f"interpolation.png through this run ({steps_of['this run']}, top) and through the "
        f"shipped {name} ({steps_of[f'shipped {name}']}, bottom), to show where training leads"
    )
    return path


def paper_lines(name):
    """The paper's Table 1 figures for the lines preset of ``name``'s model, or None."""
    from keras_latent import presets

    figures = presets.PAPER.get(f"{name.split('_')[0]}_lines") or {}
    return {k: figures[k] for k in ("mean_distance", "smoothness") if k in figures} or None


def interpolation_title(name, method):
    return f"{name}: {method} interpolation in latent space"
