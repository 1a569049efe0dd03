"""Fit the latent samplers that trained presets ship, so ``sample`` works on them at once.

python -m keras_latent.zoo_samplers --data-dir ../shared/data/mnist   # every preset that can
python -m keras_latent.zoo_samplers eccentric_mnist --data-dir DIR    # only these presets
python -m keras_latent.zoo_samplers --refit --data-dir DIR            # refit those that have one

A preset can ship a sampler when it has trained weights and its model samples from a fitted
latent sampler rather than a prior (``samples_from_prior`` False: every deterministic
autoencoder; VAE, AAE and WAE sample their prior and need none). Its sampler is
:data:`keras_latent.sampling.PRESET_RECIPE` (a 10-component Gaussian mixture, seed 0) fitted on
the codes of its dataset's whole training split, loaded with ``keras_latent.datasets.load``
(lines: the fixed generated training set; image data: from ``--data-dir`` or
``$KERAS_LATENT_DATA``), and added to the preset folder with
:func:`keras_latent.zoo.add_sampler`, which records in ``metadata["weights"]["sampler"]`` the
dataset, split, number of images, the sha256 of the weights whose codes it was fitted on
(``weights_sha256``: ``keras-latent evaluate`` uses the sampler as is only for those weights),
kind, components, seed and this command. A preset whose
training data are not found is skipped and reported; the exit status is 1 when one named on
the command line could not be given a sampler.
"""

import sys
from pathlib import Path

from keras_latent import sampling, saving, zoo, zoo_commands

MODULE = "keras_latent.zoo_samplers"  # run as python -m MODULE
SPLIT = "train"


def candidates(root):
    """The presets under ``root`` that have trained weights and sample from a fitted sampler."""
    trained = zoo_commands.trained_presets(root)
    return [name for name, meta in trained.items() if not _prior(meta)]


def _prior(meta):
    from keras_latent import models

    model_class = getattr(models, (meta.get("model") or {}).get("class") or "", None)
    return bool(getattr(model_class, "samples_from_prior", False))


def fit_preset_sampler(folder, data_dir=None, recipe=None):
    """Fit ``recipe`` (default :data:`~keras_latent.sampling.PRESET_RECIPE`) on the codes of the
    training split of preset ``folder``'s dataset and add it to the folder. Returns the
    metadata record. Raises FileNotFoundError or ValueError where the data are not found."""
    from keras_latent import datasets

    folder = Path(folder)
    meta = zoo.read_metadata(folder)
    data = zoo_commands.preset_dataset(folder, meta, "fit a sampler on")
    # The weights (checked against their sha256), not a sampler the folder may hold already.
    model = saving.model_from_folder(folder)
    zoo._check_weights(folder, meta, None)
    saving.load_weights(model, folder, missing=f"{folder / zoo.WEIGHTS_FILE} does not exist")
    if getattr(model, "samples_from_prior", True):
        raise ValueError(f"{folder.name} samples from its prior: it needs no fitted sampler")
    x, _ = datasets.load(data, SPLIT, data_dir=data_dir)
    recipe = dict(sampling.PRESET_RECIPE if recipe is None else recipe)
    sampler = model.fit_sampler(x, **recipe)
    record = {
        "dataset": data,
        "split": SPLIT,
        "images": int(len(x)),
        "weights_sha256": meta["weights"]["sha256"],  # the codes of these weights
        "command": zoo_commands.command_line(MODULE, folder, data),
    }
    return zoo.add_sampler(folder, sampler, record)


def main(argv=None):
    parser = zoo_commands.parser(MODULE, __doc__)
    parser.add_argument("--refit", action="store_true", help="refit presets that have one")
    args = parser.parse_args(argv)

    def add(folder):
        if not args.refit and (folder / sampling.CONFIG_FILE).is_file():
            return "has a sampler already (--refit to fit it again)"
        record = fit_preset_sampler(folder, args.data_dir)
        return (
            f"fitted a {record['kind']} sampler ({record['n_components']} components, "
            f"seed {record['seed']}) on the codes of {record['images']:,} {record['dataset']} "
            f"{record['split']} images: wrote {', '.join(record['files'])}"
        )

    unable = "not a trained preset that samples from a fitted sampler"
    return zoo_commands.each_preset(args, candidates, unable, add, "no sampler fitted")


if __name__ == "__main__":
    sys.exit(main())
