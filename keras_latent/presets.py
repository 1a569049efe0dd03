"""The zoo's preset table and the generator of the top-level ``zoo/`` folder.

A preset ``{model}_{dataset}`` pairs a model of :data:`MODELS` with a dataset configuration of
:data:`DATASETS` (the paper's architecture for that dataset and latent size). This module is
the only place that states them; ``zoo/<preset>/`` holds the generated files:

- ``config.json``: the model serialised by Keras (``keras.saving.serialize_keras_object``,
  without ``compile_config``/``build_config``, as keras-hub's presets);
- ``metadata.json``: dataset, image shape, architecture, training recipe, parameter count, the
  paper's figures (:data:`PAPER`, each with its table and provenance) and ``weights`` (null
  until trained; :func:`keras_latent.zoo.save_preset` fills it);
- ``README.md``: the model card, rendered from the metadata by
  :func:`keras_latent.cards.model_card`.

Regenerate after editing a table (adding a model or a dataset is one entry)::

    python -m keras_latent.zoo_build            # rewrite zoo/
    python -m keras_latent.zoo_build --check    # exit 1 if zoo/ differs from the tables

Trained weights survive regeneration: a preset whose ``metadata.json`` has a ``weights`` entry
keeps it (and its ``model.weights.h5``); if its architecture changed, the generator refuses.

Choices the papers do not fix: ``num_classes=10`` where the dataset has 10 classes (so
``fit(x, labels)`` trains the paper's linear probe alongside; lines and CelebA have none); the
model's Keras name is the preset name; ``seed`` is left unset (random).
"""

import copy
import difflib
import json
from pathlib import Path

from keras_latent import cards

FORMAT = "keras-latent-preset/1"

# Training recipe shared by every preset (Berthelot et al. 2019, official code).
RECIPE = {
    "optimizer": {"class_name": "Adam", "config": {"learning_rate": 1e-4, "epsilon": 1e-8}},
    "batch_size": 64,
    "images": 2**24,
    "steps": 2**24 // 64,
}

MODELS = {
    # name: the class in keras_latent.models, its title, a one-line summary, constructor kwargs.
    "ae": {
        "class": "Autoencoder",
        "title": "Plain autoencoder",
        "summary": "the paper's baseline: ACAI's encoder and decoder trained on the "
        "reconstruction MSE alone",
        "kwargs": {},
    },
    "acai": {
        "class": "ACAI",
        "title": "ACAI",
        "summary": "adversarially constrained autoencoder interpolation (Berthelot et al., "
        "ICLR 2019): a critic regresses the mixing coefficient of decoded latent "
        "interpolations and the autoencoder learns to fool it",
        "kwargs": {},
    },
    "dropout": {
        "class": "DropoutAutoencoder",
        "title": "Dropout autoencoder",
        "summary": "the paper's baseline with dropout (keep probability 0.5) on the latent",
        "kwargs": {},
    },
    "denoising": {
        "class": "DenoisingAutoencoder",
        "title": "Denoising autoencoder",
        "summary": "the paper's baseline trained to reconstruct clean images from inputs with "
        "Gaussian noise of standard deviation 1.0",
        "kwargs": {},
    },
    "vae": {
        "class": "VAE",
        "title": "VAE",
        "summary": "variational autoencoder (Kingma and Welling 2014): dense Gaussian posterior "
        "heads, Bernoulli likelihood, N(0, I) prior; its codes are posterior samples, as the "
        "official code's (latent_mode='sample')",
        "kwargs": {"latent_mode": "sample"},
    },
    "aae": {
        "class": "AAE",
        "title": "AAE",
        "summary": "adversarial autoencoder (Makhzani et al. 2016): a 100-100 MLP discriminator "
        "matches the latent to an N(0, I) prior",
        "kwargs": {},
    },
    "vqvae": {
        "class": "VQVAE",
        "title": "VQ-VAE",
        "summary": "vector-quantised autoencoder (van den Oord et al. 2017): EMA codebook, "
        "commitment 10, straight-through gradients",
        "kwargs": {},
    },
    "wae": {
        "class": "WAE",
        "title": "WAE-MMD",
        "summary": "Wasserstein autoencoder (Tolstikhin et al. 2018): inverse multiquadric MMD "
        "between the latents and an N(0, I) prior",
        "kwargs": {},
    },
    "eccentric": {
        "class": "EccentricAutoencoder",
        "title": "Eccentric autoencoder",
        "summary": "eccentric regularization (Li and Blair, IJCNN 2022): pairwise repulsion "
        "between latent codes and attraction toward the origin",
        "kwargs": {},
    },
    "rae": {
        "class": "RAE",
        "title": "RAE-L2",
        "summary": "regularised autoencoder (Ghosh et al., ICLR 2020): an L2 penalty on the "
        "latent codes and weight decay on the decoder",
        "kwargs": {},
    },
    "irmae": {
        "class": "IRMAE",
        "title": "IRMAE",
        "summary": "implicit rank-minimising autoencoder (Jing et al., NeurIPS 2020): extra "
        "bias-free linear layers between encoder and decoder",
        "kwargs": {},
    },
}

DATASETS = {
    # name: `data` is the keras_latent.datasets name; architecture per docs/papers.md,
    # "Paper configurations" (all 32x32).
    "lines": {
        "data": "lines",
        "title": "lines",
        "summary": "the paper's synthetic lines, generated in process (the official drawing)",
        "drawing": "official",
        "image_shape": (32, 32, 1),
        "depth": 16,
        "latent": 16,
        "latent_width": 2,
        "num_classes": None,
    },
    "mnist": {
        "data": "mnist",
        "title": "MNIST",
        "summary": "MNIST digits, 28x28 padded to 32x32 with -1",
        "image_shape": (32, 32, 1),
        "depth": 16,
        "latent": 16,
        "latent_width": 4,
        "num_classes": 10,
    },
    "mnist_dz32": {
        "data": "mnist",
        "title": "MNIST",
        "summary": "MNIST digits, 28x28 padded to 32x32 with -1",
        "image_shape": (32, 32, 1),
        "depth": 16,
        "latent": 2,
        "latent_width": 4,
        "num_classes": 10,
    },
    "fashion_mnist": {
        "data": "fashion_mnist",
        "title": "Fashion-MNIST",
        "summary": "Fashion-MNIST, 28x28 padded to 32x32 with -1 (as MNIST)",
        "image_shape": (32, 32, 1),
        "depth": 16,
        "latent": 16,
        "latent_width": 4,
        "num_classes": 10,
    },
    "svhn": {
        "data": "svhn",
        "title": "SVHN",
        "summary": "SVHN digits (train + extra), 32x32 colour",
        "image_shape": (32, 32, 3),
        "depth": 64,
        "latent": 16,
        "latent_width": 4,
        "num_classes": 10,
    },
    "svhn_dz32": {
        "data": "svhn",
        "title": "SVHN",
        "summary": "SVHN digits (train + extra), 32x32 colour",
        "image_shape": (32, 32, 3),
        "depth": 64,
        "latent": 2,
        "latent_width": 4,
        "num_classes": 10,
    },
    "celeba32": {
        "data": "celeba32",
        "title": "CelebA 32x32",
        "summary": "CelebA faces cropped [36:-36, 16:-16] and resized to 32x32 colour; trained "
        "and scored on all 202,599 images, as the official code",
        "image_shape": (32, 32, 3),
        "depth": 64,
        "latent": 16,
        "latent_width": 4,
        "num_classes": None,
    },
    "cifar10": {
        "data": "cifar10",
        "title": "CIFAR-10",
        "summary": "CIFAR-10, 32x32 colour",
        "image_shape": (32, 32, 3),
        "depth": 64,
        "latent": 16,
        "latent_width": 4,
        "num_classes": 10,
    },
    "cifar10_dz1024": {
        "data": "cifar10",
        "title": "CIFAR-10",
        "summary": "CIFAR-10, 32x32 colour",
        "image_shape": (32, 32, 3),
        "depth": 64,
        "latent": 64,
        "latent_width": 4,
        "num_classes": 10,
    },
}

_TABLE_1 = "Berthelot et al. 2019, Table 1 (lines)"
_TABLE_2 = "Berthelot et al. 2019, Table 2 (single-layer classifier on the latent, MNIST)"
_NOTES = "the project's design notes, restated in docs/papers.md (Paper figures)"
_ISSUE = "the project's issue on the MNIST campaign"
_RECALLED = "a transcription made without the paper's text at hand"


def _figures(source, quoted_from, **values):
    return {"source": source, "quoted_from": quoted_from, "checked": False, **values}


PAPER = {
    # preset: {"source": table, "quoted_from": where the figure was taken from, "checked":
    # whether it was checked against the paper's text (arXiv 1807.07543), metric: value}.
    # The paper's text could not be reached from the development machines, so no figure is
    # checked yet; the cards say so. Table 2's other rows (dropout, denoising, VAE, AAE,
    # VQ-VAE; SVHN and CIFAR-10; the standard deviations) are left out until they can be read
    # from the paper rather than recalled.
    "acai_lines": _figures(_TABLE_1, _NOTES, mean_distance=0.24e-3, smoothness=0.10),
    "ae_lines": _figures(_TABLE_1, _NOTES, mean_distance=6.88e-3, smoothness=0.44),
    "dropout_lines": _figures(_TABLE_1, _RECALLED, mean_distance=2.85e-3, smoothness=0.74),
    "denoising_lines": _figures(_TABLE_1, _RECALLED, mean_distance=4.21e-3, smoothness=0.66),
    "vae_lines": _figures(_TABLE_1, _RECALLED, mean_distance=1.21e-3, smoothness=0.49),
    "aae_lines": _figures(_TABLE_1, _RECALLED, mean_distance=3.26e-3, smoothness=0.14),
    "vqvae_lines": _figures(_TABLE_1, _RECALLED, mean_distance=5.41e-3, smoothness=0.77),
    "acai_mnist": _figures(_TABLE_2, _NOTES, probe_accuracy=0.99),
    "acai_mnist_dz32": _figures(_TABLE_2, _NOTES, probe_accuracy=0.9825),
    "ae_mnist": _figures(_TABLE_2, _ISSUE, probe_accuracy=0.9394),
    "ae_mnist_dz32": _figures(_TABLE_2, _ISSUE, probe_accuracy=0.9490),
}
"""The paper's figures for a preset, each with its table and provenance (see the comment)."""
PAPER_KEYS = ("source", "quoted_from", "checked")
"""The keys of a :data:`PAPER` entry that describe its figures rather than being one."""

PRESETS = {f"{model}_{dataset}": (model, dataset) for model in MODELS for dataset in DATASETS}
"""Every preset name -> ``(model, dataset)``."""

ARCHITECTURE_KEYS = ("image_shape", "depth", "latent", "latent_width")
ARCHITECTURE_OVERRIDES = {
    # The official runs/vqvae.sh trains VQ-VAE on lines with latent_width 4 (d_z 256), unlike
    # every other model there (2, d_z 64).
    "vqvae_lines": {"latent_width": 4},
}
"""Presets whose architecture departs from their dataset's, as the official run scripts do."""
ZOO_DIR = Path(__file__).resolve().parents[1] / "zoo"
"""The top-level ``zoo/`` of a source checkout: where the generator writes by default."""


def check_name(name):
    """``name`` if it is a preset; else a ValueError listing the closest names."""
    if not isinstance(name, str):
        raise TypeError(f"a preset name must be a string, got {type(name).__name__}")
    if name not in PRESETS:
        raise ValueError(unknown_message(name, PRESETS))
    return name


def unknown_message(name, known):
    """``unknown preset 'x'; did you mean ...?`` with the closest of ``known``."""
    close = difflib.get_close_matches(name, list(known), n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return (
        f"unknown preset {name!r}{hint} ({len(known)} presets: "
        "keras_latent.zoo.list_presets() lists them)"
    )


def architecture(dataset):
    """The constructor arguments of ``dataset``'s architecture."""
    entry = DATASETS[dataset]
    return {key: entry[key] for key in ARCHITECTURE_KEYS}


def preset_architecture(name):
    """The constructor arguments of preset ``name``'s architecture: its dataset's, with
    :data:`ARCHITECTURE_OVERRIDES` applied."""
    return {**architecture(PRESETS[name][1]), **ARCHITECTURE_OVERRIDES.get(name, {})}


PAPER_SPLITS = {"celeba32": ("all", "all")}
"""``data -> (training split, test split)`` where the paper's runs depart from train/test: the
official code trains and evaluates CelebA on all 202,599 images (``celeba-train.tfrecord`` for
both ``celeba32_train`` and ``celeba32_test``)."""


def splits(data):
    """``(training split, test split)`` of ``keras_latent.datasets`` name ``data`` in the
    paper's runs: :data:`PAPER_SPLITS`, else ``("train", "test")``."""
    return PAPER_SPLITS.get(data, ("train", "test"))


def lines_drawing(meta):
    """The lines drawing (``keras_latent.datasets.lines.DRAWINGS``) a lines model's weights
    were trained on, from its metadata: ``weights["drawing"]``, else ``dataset["drawing"]``,
    else ``"official"``, the default drawing."""
    recorded = (meta.get("weights") or {}).get("drawing")
    return recorded or (meta.get("dataset") or {}).get("drawing") or "official"


def build(name, seed=None):
    """A fresh model for preset ``name``, compiled with the recipe's optimizer."""
    import keras

    model = _instantiate(check_name(name), seed=seed)
    model.compile(optimizer=keras.optimizers.deserialize(copy.deepcopy(RECIPE["optimizer"])))
    mark_origin(model, {"preset": name, "weights": "fresh"})
    return model


_ORIGIN = "_keras_latent_origin"


def mark_origin(model, origin):
    """Record on ``model`` where it came from (``{"preset", "weights": "trained"|"fresh",
    "sha256"}``), for the metadata of :func:`keras_latent.zoo.save_preset`. Set by
    :func:`build` and ``keras_latent.zoo.load``; a plain attribute, outside Keras's tracking."""
    object.__setattr__(model, _ORIGIN, dict(origin))


def origin(model):
    """A copy of what :func:`mark_origin` recorded on ``model``, or None."""
    found = getattr(model, _ORIGIN, None)
    return dict(found) if isinstance(found, dict) else None


def _instantiate(name, seed=None):
    from keras_latent import models

    model_name, dataset = PRESETS[name]
    entry = DATASETS[dataset]
    model_class = getattr(models, MODELS[model_name]["class"])
    return model_class(
        **preset_architecture(name),
        num_classes=entry["num_classes"],
        seed=seed,
        name=name,
        **MODELS[model_name]["kwargs"],
    )


def latent_size(arch):
    return int(arch["latent"]) * int(arch["latent_width"]) ** 2


def description(name):
    """One line: ``"ACAI on MNIST (d_z 256): ..."``."""
    model_name, dataset = PRESETS[name]
    d_z = latent_size(preset_architecture(name))
    return f"{MODELS[model_name]['title']} on {DATASETS[dataset]['title']} (d_z {d_z})"


def train_command(name):
    """The CLI command that trains preset ``name``'s weights."""
    return f"keras-latent train {name}"


def metadata(name, parameter_count):
    """The generated ``metadata.json`` of preset ``name`` (``weights`` null)."""
    model_name, dataset = PRESETS[check_name(name)]
    data = DATASETS[dataset]
    arch = preset_architecture(name)
    return {
        "format": FORMAT,
        "name": name,
        "description": description(name),
        "model": {
            "name": model_name,
            "class": MODELS[model_name]["class"],
            "summary": MODELS[model_name]["summary"],
        },
        "dataset": {
            "name": dataset,
            "data": data["data"],
            "summary": data["summary"],
            "image_shape": list(data["image_shape"]),
            "num_classes": data["num_classes"],
            **({"drawing": data["drawing"]} if "drawing" in data else {}),
        },
        "architecture": {
            **{k: list(v) if isinstance(v, tuple) else v for k, v in arch.items()},
            "latent_shape": [arch["latent_width"], arch["latent_width"], arch["latent"]],
            "latent_size": latent_size(arch),
        },
        "parameter_count": int(parameter_count),
        "recipe": {**copy.deepcopy(RECIPE), "command": train_command(name)},
        "paper": copy.deepcopy(PAPER.get(name)),
        "weights": None,
    }


def model_config(model):
    """``model`` serialised by Keras, without ``compile_config``/``build_config``."""
    from keras_latent.saving import model_config as config

    return config(model)


def render(name, weights=None):
    """The generated files of preset ``name``: ``{file name: text}``.

    ``weights``: the ``weights`` entry to keep (from an existing, trained preset).
    """
    model = _instantiate(check_name(name))
    meta = metadata(name, model.count_params())
    meta["weights"] = weights
    return {
        "config.json": to_json(model_config(model)),
        "metadata.json": to_json(meta),
        "README.md": cards.model_card(meta, generated=True),
    }


def to_json(data):
    """The JSON text every preset file uses: 2-space indent, sorted keys, final newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


# ------------------------------------------------------------------------------- generator
def build_presets(root=ZOO_DIR, names=None, check=False):
    """Write (or with ``check=True`` only compare) the generated presets under ``root``.

    Returns the list of files that differ (``check``) or were rewritten. A preset whose
    ``metadata.json`` records weights keeps them; its ``config.json`` may not change.
    """
    from keras_latent.files import atomic_path, read_json

    root = Path(root)
    names = sorted(PRESETS) if names is None else [check_name(n) for n in names]
    changed = []
    for name in names:
        folder = root / name
        weights = None
        if (folder / "metadata.json").exists():
            weights = read_json(folder / "metadata.json").get("weights")
        files = render(name, weights=weights)
        if weights and (folder / "config.json").read_text() != files["config.json"]:
            raise ValueError(
                f"{folder / 'config.json'} would change but {name} has trained weights: "
                "retrain it, or remove its weights entry and model.weights.h5 first"
            )
        for file, text in files.items():
            path = folder / file
            if path.exists() and path.read_text() == text:
                continue
            changed.append(path)
            if not check:
                with atomic_path(path) as tmp:
                    tmp.write_text(text)
    return changed


def stale_folders(root=ZOO_DIR):
    """Folders under ``root`` that are no preset of the tables (left there by hand)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return [p for p in sorted(root.iterdir()) if p.is_dir() and p.name not in PRESETS]
