"""Wall time of shell commands, written to a JSON record: the quickstart's and the tutorials' times.

    python benchmarks/time_commands.py --output benchmarks/results/quickstart.json \\
        --attach runs/acai_lines/metadata.json \\
        -- "pip install ." "keras-latent train acai_lines --steps 200"
    KERAS_LATENT_TUTORIAL_QUICK=1 python benchmarks/time_commands.py --repeats 2 \\
        --output benchmarks/results/tutorials_quick.json -- \\
        "python tutorials/01_quickstart.py" "python tutorials/02_lines_benchmark.py"

Runs each command (a shell command line, run by ``bash -c`` in the current folder) ``--repeats``
times in turn, and times each run by the wall clock. The record keeps, per command, each run's
seconds, exit status and the last ``--keep-lines`` lines of its output (stdout and stderr
together: what a tutorial prints, such as tutorial 2's scores), beside the command line of this
script, the machine (CPU model, cores, load average before and after), the environment
variables that change what the commands do, Python and package versions and the dates. Each
``--attach`` JSON file (e.g. the ``metadata.json`` that ``keras-latent train`` writes, with its
fit time and images/s) is read after the last command and embedded whole. The record is written
atomically after every run, so an interrupted timing keeps the runs done. The script exits with
the first non-zero exit status of a command, after writing the record.
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# The caller's environment, taken before anything imports keras_latent (whose import sets
# TF_ENABLE_ONEDNN_OPTS where unset): the commands run in it and the record describes it.
CALLER_ENVIRONMENT = dict(os.environ)

# Variables that change what the timed commands do; the record keeps those set.
RECORDED_ENVIRONMENT = (
    "KERAS_BACKEND",
    "KERAS_LATENT_TUTORIAL_QUICK",
    "KERAS_LATENT_DATA",
    "KERAS_LATENT_MNIST",
    "TF_ENABLE_ONEDNN_OPTS",
    "OMP_WAIT_POLICY",
    "OMP_NUM_THREADS",
    "XLA_FLAGS",
)
PACKAGES = ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy", "keras-latent")


def parse_args(argv=None):
    """The options, and the commands after them (``--`` ends the options)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("commands", nargs="+", help="shell command lines, each one argument")
    parser.add_argument("--output", type=Path, required=True, help="JSON record to write")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each command")
    parser.add_argument("--keep-lines", type=int, default=40, help="output lines kept per run")
    parser.add_argument(
        "--attach", type=Path, action="append", default=[], help="JSON file to embed"
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds per run")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def versions():
    """Python's version and those of the packages installed (None where absent)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def machine():
    """The CPU model and core count, as the other benchmark records name them."""
    try:
        from keras_latent.hardware import cpu_model
    except ImportError:  # keras-latent not installed: still time the commands
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return f"{cpu_model()}, {os.cpu_count()} cores"


def time_command(command, keep_lines, timeout):
    """Run one shell command line; its wall seconds, exit status and last output lines."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            ["bash", "-c", command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=timeout,
            env=CALLER_ENVIRONMENT,
        )
        status, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as expired:
        status = "timeout"
        output = expired.stdout or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
    seconds = time.perf_counter() - start
    lines = output.splitlines()[-keep_lines:] if keep_lines > 0 else []
    return {"seconds": round(seconds, 2), "exit_status": status, "output_tail": lines}


def attachments(paths):
    """The JSON files to embed, by path; a missing or invalid one is recorded as such."""
    found = {}
    for path in paths:
        try:
            found[str(path)] = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            found[str(path)] = {"error": f"{type(error).__name__}: {error}"}
    return found


def main(argv=None):
    from keras_latent.files import write_json

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    record = {
        "command": shlex.join(["python", "benchmarks/time_commands.py", *argv]),
        "machine": machine(),
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
        "environment": {
            k: CALLER_ENVIRONMENT[k] for k in RECORDED_ENVIRONMENT if k in CALLER_ENVIRONMENT
        },
        "versions": versions(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "repeats": args.repeats,
        "commands": [{"command": c, "runs": []} for c in args.commands],
    }
    first_failure = 0
    for repeat in range(args.repeats):
        for entry in record["commands"]:
            run = time_command(entry["command"], args.keep_lines, args.timeout)
            entry["runs"].append(run)
            print(f"[{repeat + 1}/{args.repeats}] {run['seconds']:.1f} s, exit "
                  f"{run['exit_status']}: {entry['command']}", flush=True)  # fmt: skip
            if run["exit_status"] != 0 and not first_failure:
                first_failure = run["exit_status"] if isinstance(run["exit_status"], int) else 1
            record["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
            record["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            write_json(args.output, record)
    record["attached"] = attachments(args.attach)
    write_json(args.output, record)
    print(f"wrote {args.output}")
    return first_failure


if __name__ == "__main__":
    sys.exit(main())
