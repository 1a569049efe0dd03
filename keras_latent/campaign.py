"""Training campaigns: runs too long for one sitting, trained a segment at a time.

A campaign folder holds ``plan.json`` and one run folder per planned run (``FOLDER/PRESET``,
the checkpoint files of :mod:`keras_latent.training`; once finished, a preset folder too)::

    {"description": "...",
     "data_dir": "../../shared/data/mnist",      (relative to the campaign folder)
     "checkpoint_every": 1024, "evaluate_every": 1024, "steps_per_epoch": 256,
     "runs": [{"preset": "acai_mnist", "steps": 262144, "batch_size": 64, "seed": 0,
               "dtype_policy": "float32"}, ...]}

``keras-latent campaign FOLDER`` trains the runs in order, each from its checkpoint, through the
same :func:`keras_latent.runs.train_run` as ``keras-latent train`` (so a run is exactly
``keras-latent train PRESET --output FOLDER/PRESET`` with the plan's settings). After every
``steps_per_epoch`` steps it prints the images done, the images/s of this segment (wall clock,
evaluations and checkpoints included) and the time left at that rate. SIGINT or SIGTERM stops
it after the current step with a checkpoint. Each call is one segment of the run, recorded in
its ``checkpoint.json`` (steps, device, backend, dates, times).
"""

import time
from pathlib import Path

import keras

PLAN_FILE = "plan.json"
RUN_KEYS = {"preset", "steps", "batch_size", "seed", "dtype_policy"}
PLAN_DEFAULTS = {"checkpoint_every": 1024, "evaluate_every": 1024, "steps_per_epoch": 256}


def read_plan(folder):
    """``FOLDER/plan.json``, checked: a dict with its ``runs`` and every default filled in."""
    from keras_latent import presets
    from keras_latent.files import read_json

    path = Path(folder) / PLAN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: {folder} is not a campaign folder")
    plan = read_json(path)
    runs = plan.get("runs") if isinstance(plan, dict) else None
    if not runs or not isinstance(runs, list):
        raise ValueError(f"{path} has no list of 'runs'")
    plan = {**PLAN_DEFAULTS, **plan}
    for key in PLAN_DEFAULTS:
        if not isinstance(plan[key], int) or plan[key] < 1:
            raise ValueError(f"{path}: {key} must be a positive integer, got {plan[key]!r}")
    for run in runs:
        unknown = set(run) - RUN_KEYS if isinstance(run, dict) else {"(not an object)"}
        if unknown or "preset" not in run:
            raise ValueError(f"{path}: a run must name its 'preset' and may set only "
                             f"{sorted(RUN_KEYS)}; got {run!r}")  # fmt: skip
        presets.check_name(run["preset"])
        if not isinstance(run.get("steps"), int) or run["steps"] < 1:
            raise ValueError(f"{path}: run {run['preset']} needs a positive integer 'steps'")
    if len({run["preset"] for run in runs}) != len(runs):
        raise ValueError(f"{path}: a preset appears twice in 'runs'")
    return plan


def run_states(folder, plan):
    """``[(run, checkpoint or None), ...]`` for the plan's runs, in order."""
    from keras_latent import training

    return [(run, training.read_checkpoint(Path(folder) / run["preset"])) for run in plan["runs"]]


def is_finished(run, state):
    return state is not None and bool(state.get("finished")) and state["step"] == run["steps"]


def measured_rate(state):
    """Images/s of a run's last segment (its fit time), or None where none is recorded."""
    segments = (state or {}).get("segments") or []
    if not segments:
        return None
    last = segments[-1]
    steps = last["step"] - last["start_step"]
    seconds = last.get("fit_time_s") or 0.0
    return steps * state["batch_size"] / seconds if steps > 0 and seconds > 0 else None


def describe(folder, plan):
    """One line per run: images done of the total, finished or not, last measured rate."""
    lines = []
    for run, state in run_states(folder, plan):
        batch = (state or {}).get("batch_size") or run.get("batch_size", 64)
        done, total = (state or {}).get("step", 0) * batch, run["steps"] * batch
        rate = measured_rate(state)
        where = ((state or {}).get("segments") or [{}])[-1].get("device", "-")
        lines.append(
            f"{run['preset']}: {done:,} / {total:,} images ({100 * done / total:.1f}%), "
            + ("finished" if is_finished(run, state) else "unfinished")
            + (f"; last segment {rate:.0f} images/s on {where}" if rate else "")
        )
    return "\n".join(lines)


class Progress(keras.callbacks.Callback):
    """Prints, at each epoch's end, the images done, this segment's images/s (wall clock) and
    the time left at that rate."""

    def __init__(self, name, start_step, steps, batch_size, later=""):
        super().__init__()
        self.name, self.step, self.steps, self.batch_size = name, start_step, steps, batch_size
        self.start_step, self.later = start_step, later
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        rate = (self.step - self.start_step) * self.batch_size / max(seconds, 1e-9)
        left = (self.steps - self.step) * self.batch_size / max(rate, 1e-9)
        print(
            f"[campaign] {self.name}: {self.step * self.batch_size:,} / "
            f"{self.steps * self.batch_size:,} images ({100 * self.step / self.steps:.2f}%), "
            f"{rate:.0f} images/s this segment, {format_duration(left)} left for this run"
            f"{self.later}",
            flush=True,
        )


def format_duration(seconds):
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def main(folder, data_dir=None, status_only=False):
    """Train the campaign in ``folder`` from where it stands (see the module). Returns the
    exit code: 0 when every run is finished or ``status_only``, 130 when stopped by a signal."""
    from keras_latent import runs, training

    folder = Path(folder)
    plan = read_plan(folder)
    print(describe(folder, plan), flush=True)
    if status_only:
        return 0
    if data_dir is None and plan.get("data_dir"):
        data_dir = folder / plan["data_dir"]
    with training.stop_on_signals() as stop:
        for index, (run, state) in enumerate(run_states(folder, plan)):
            if is_finished(run, state):
                continue
            if stop.is_set():
                return 130
            later = [r["preset"] for r in plan["runs"][index + 1 :]]
            batch = (state or {}).get("batch_size") or run.get("batch_size", 64)
            progress = Progress(
                run["preset"],
                (state or {}).get("step", 0),
                run["steps"],
                batch,
                later=f"; then {', '.join(later)}" if later else "",
            )
            state = runs.train_run(
                run["preset"],
                folder / run["preset"],
                {key: run.get(key) for key in runs.DEFAULTS},
                steps=run["steps"],
                data_dir=data_dir,
                checkpoint_every=plan["checkpoint_every"],
                steps_per_epoch=plan["steps_per_epoch"],
                evaluate_every=plan["evaluate_every"],
                stop=stop,
                callbacks=[progress],
                verbose=2,
            )
            if not is_finished(run, state):
                print(
                    f"[campaign] stopped: {run['preset']} at step {state['step']:,} "
                    f"({state['images_seen']:,} images), checkpoint in {folder / run['preset']}; "
                    f"run the same command to resume",
                    flush=True,
                )
                return 130
    print(f"[campaign] every run of {folder} is finished", flush=True)
    return 0
