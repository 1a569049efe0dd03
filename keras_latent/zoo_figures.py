"""Draw the interpolation grid that a trained preset's model card shows: ``interpolation.png``.

python -m keras_latent.zoo_figures --data-dir ../shared/data/mnist   # every preset that can
python -m keras_latent.zoo_figures acai_mnist ae_mnist --data-dir DIR  # only these presets

The grid decodes linear interpolations in latent space (``model.interpolate``, :data:`STEPS`
steps, ``t = 0 ... 1``) between :data:`PAIRS` fixed pairs of test items, one pair a row, the
inputs A and B in the outer columns. The pairs depend on the dataset only, so every preset of
one dataset shows the same ones: for lines, test lines ``i`` and ``256 + i`` (those a lines
run draws, :func:`keras_latent.runs.figure_pairs`); for image data, images ``i`` and
``PAIRS + i`` of the test split (those tutorial 1 draws), ``i < PAIRS``. The pairs are this
project's choice: the paper does not list the ones in its figures.

The figure is added to the preset folder in place (:func:`keras_latent.zoo.add_figure`),
recorded as ``metadata["weights"]["interpolation_figure"]`` (the pairs, steps, method, the
sha256 of the weights drawn, this command) and shown by the card, which is rewritten. A preset
whose test data are not found (image data: ``--data-dir`` or ``$KERAS_LATENT_DATA``) is
skipped and reported; the exit status is 1 when one named on the command line got no figure.
"""

import sys
import tempfile
from pathlib import Path

from keras_latent import runs, zoo, zoo_commands

FILE = "interpolation.png"
KEY = "interpolation_figure"
PAIRS = 8
STEPS = 16
METHOD = "linear"
MODULE = "keras_latent.zoo_figures"  # run as python -m MODULE
SPLIT = "test"


def candidates(root):
    """The presets under ``root`` that have trained weights."""
    return list(zoo_commands.trained_presets(root))


def figure_pairs(data, data_dir=None, drawing="official"):
    """``(x_a, x_b, pairs)``: the dataset's fixed test pairs (see the module docstring), with
    their test indices ``[[a, b], ...]``."""
    if data == "lines":
        x_a, x_b = runs.figure_pairs(256, drawing)
        return x_a, x_b, [[i, 256 + i] for i in range(len(x_a))]
    from keras_latent import datasets

    x, _ = datasets.load(data, SPLIT, data_dir=data_dir)
    if len(x) < 2 * PAIRS:
        raise ValueError(f"the {data} test split holds {len(x)} images, fewer than {2 * PAIRS}")
    return x[:PAIRS], x[PAIRS : 2 * PAIRS], [[i, PAIRS + i] for i in range(PAIRS)]


def draw_preset_figure(folder, data_dir=None):
    """Draw ``interpolation.png`` through the weights of preset ``folder`` (checked against
    their sha256) and add it to the folder. Returns the metadata record. Raises
    FileNotFoundError or ValueError where the preset or its test data cannot be read."""
    from keras_latent import plots

    folder = Path(folder)
    meta = zoo.read_metadata(folder)
    data = zoo_commands.preset_dataset(folder, meta, "draw test pairs of")
    drawing = meta["weights"].get("drawing", "official")
    x_a, x_b, pairs = figure_pairs(data, data_dir, drawing)
    model = zoo.load(folder, compile=False)
    frames = model.interpolate(x_a, x_b, steps=STEPS, method=METHOD)
    record = {
        "dataset": data,
        "split": SPLIT,
        "pairs": pairs,
        "steps": STEPS,
        "method": METHOD,
        "weights_sha256": meta["weights"]["sha256"],  # the weights drawn
        "command": zoo_commands.command_line(MODULE, folder, data),
    }
    if data == "lines":
        record["drawing"] = drawing
    with tempfile.TemporaryDirectory(prefix="zoo-figure-") as tmp:
        path = plots.save_interpolations(
            frames,
            Path(tmp) / FILE,
            title=runs.interpolation_title(folder.name, METHOD),
            endpoints=(x_a, x_b),
        )
        return zoo.add_figure(folder, KEY, path, record)


def main(argv=None):
    args = zoo_commands.parser(MODULE, __doc__).parse_args(argv)

    def add(folder):
        record = draw_preset_figure(folder, args.data_dir)
        return (
            f"wrote {record['file']}: {len(record['pairs'])} {record['dataset']} "
            f"{record['split']} pairs, {record['steps']} steps of {record['method']} "
            "interpolation"
        )

    unable = f"not a trained preset under {args.root}"
    return zoo_commands.each_preset(args, candidates, unable, add, "no figure drawn")


if __name__ == "__main__":
    sys.exit(main())
