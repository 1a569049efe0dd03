"""The model zoo: list, load and save presets.

A preset is a folder (the keras-hub layout): ``config.json`` (the model serialised by Keras),
``metadata.json`` (dataset, architecture, training recipe, the paper's figures and, once
trained, how its weights were trained and their sha256), a ``README.md`` model card, and
``model.weights.h5`` where trained. The shipped presets are generated from
:mod:`keras_latent.presets` into the top-level ``zoo/``, installed as
``keras_latent/presets_data/``.

    import keras_latent as kl
    kl.zoo.list_presets()                       # ["acai_celeba32", ..., "ae_svhn_dz32"]
    kl.zoo.list_presets(details=True)           # {name: {"description", "weights", ...}}
    model = kl.zoo.load("acai_mnist", weights=False)   # compiled with the preset's recipe
    kl.zoo.save_preset(model, "my_preset", metadata={"weights": {"images_seen": 640}})
    model = kl.zoo.load("my_preset")            # a folder; or an http(s)/file URL
"""

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from keras_latent import fetch, presets, saving
from keras_latent.files import (
    atomic_folder,
    check_replaceable,
    read_json,
    sha256_file,
    write_json,
)
from keras_latent.training import CHECKPOINT_FILE

METADATA_FILE = fetch.METADATA_FILE
README_FILE = fetch.README_FILE
CONFIG_FILE = saving.CONFIG_FILE
WEIGHTS_FILE = saving.WEIGHTS_FILE
OWN_FOLDERS = ((CONFIG_FILE, METADATA_FILE), (CHECKPOINT_FILE,), (CONFIG_FILE, WEIGHTS_FILE))
"""The files of the folders keras-latent writes and may replace: a preset, a run (its
checkpoint), a model folder of :func:`keras_latent.saving.save_model`."""

_PACKAGED = Path(__file__).resolve().parent / "presets_data"  # in an installed wheel
_SOURCE = presets.ZOO_DIR  # the top-level zoo/ of a source checkout (or editable install)


def presets_dir():
    """The folder of the shipped presets: ``keras_latent/presets_data`` in an installed wheel,
    else the top-level ``zoo/`` of the source checkout."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


def list_presets(details=False):
    """The names of the shipped presets, sorted.

    ``details=True``: a dict ``{name: {"description", "weights", "model", "dataset"}}`` where
    ``weights`` tells whether trained weights ship with the preset.
    """
    root = presets_dir()
    if not root.is_dir():
        return {} if details else []
    names = sorted(p.name for p in root.iterdir() if (p / CONFIG_FILE).is_file())
    if not details:
        return names
    listing = {}
    for name in names:
        meta = read_metadata(root / name)
        listing[name] = {
            "description": meta.get("description", ""),
            "weights": (root / name / WEIGHTS_FILE).is_file(),
            "model": (meta.get("model") or {}).get("class"),
            "dataset": (meta.get("dataset") or {}).get("name"),
        }
    return listing


def describe(name_or_path, sha256=None):
    """The ``metadata.json`` of a preset (name, folder or URL) as a dict (``{}`` if absent)."""
    return read_metadata(resolve(name_or_path, sha256))


def load(name_or_path, weights=True, compile=True, sha256=None):
    """The model of a preset, with its trained weights, compiled with its training recipe.

    Args:
        name_or_path: a shipped preset name (see :func:`list_presets`; names win over folders
            of the same name, write ``./name`` for those), a local preset folder, or an
            ``http``/``https``/``file`` URL to a preset archive or folder (cached under
            ``$KERAS_LATENT_HOME``, see :mod:`keras_latent.fetch`).
        weights: load ``model.weights.h5`` (checked against the sha256 of the metadata, or
            ``sha256``); ``False``: the architecture with fresh weights.
        compile: compile with the recipe's optimizer (``metadata["recipe"]["optimizer"]``, the
            paper's Adam by default), so ``fit`` works at once.
        sha256: expected sha256 of the archive (archive URL) or of the weights (folder URL or
            local folder).

    Raises ``ValueError`` for an unknown name (listing close matches), a malformed preset,
    weights of another architecture or a checksum mismatch; ``FileNotFoundError`` for a missing
    folder or, with ``weights=True``, missing weights (the message gives the command that
    trains them); see :mod:`keras_latent.fetch` for download errors.
    """
    folder = resolve(name_or_path, sha256)
    meta = read_metadata(folder)
    model = saving.model_from_folder(folder)
    if weights:
        # A URL's sha256 (archive or weights) was checked by the download; a folder's is here.
        _check_weights(folder, meta, None if fetch.is_url(name_or_path) else sha256)
        saving.load_weights(model, folder, missing=_missing_weights(name_or_path, folder, meta))
    if compile:
        model.compile(optimizer=_optimizer(folder, meta))
    return model


def save_preset(model, path, metadata=None):
    """Write ``model`` as a preset folder at ``path``, atomically; returns ``path``.

    The folder is assembled beside ``path`` and renamed into place when complete (an existing
    preset or run folder there is replaced; a failure leaves it untouched). Any other ``path``
    is refused with a ValueError before anything is written (see :func:`check_output`). The
    metadata starts from the zoo's for a model named and built as a shipped preset (else a
    generic one), is updated with ``metadata``'s top-level keys, and gets ``weights``:
    ``metadata["weights"]`` (how they were trained: ``images_seen``, ``device``,
    ``wall_time_s``, ``metrics``, ...) plus the file's ``sha256`` and ``bytes``, and, unless
    given, ``backend``, ``keras_version`` and ``date``. Only ``weights`` survives a
    regeneration of the shipped ``zoo/`` (``python -m keras_latent.zoo_build``): record
    training information there. The model's ``seed`` moves from ``config.json`` (saved as
    None: fresh randomness for whoever loads the preset) to ``weights["seed"]``. The
    optimizer's state is not saved: a loaded preset is compiled afresh with its recipe.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    metadata = copy.deepcopy(metadata or {})
    training = metadata.pop("weights", None) or {}
    if not isinstance(training, dict):
        raise TypeError(f"metadata['weights'] must be a dict, got {type(training).__name__}")
    try:
        json.dumps(metadata), json.dumps(training)
    except (TypeError, ValueError) as error:
        raise TypeError(f"metadata must be JSON-serialisable: {error}") from error
    meta = {**_base_metadata(model), **metadata}
    config = saving.model_config(model)
    seed = config["config"].get("seed")
    if seed is not None:  # the training's seed is history: it goes with the weights
        config["config"]["seed"] = None
        training.setdefault("seed", seed)
    with atomic_folder(path, OWN_FOLDERS) as tmp:
        saving.save_model(model, tmp, config=config, optimizer=False)
        weights_path = tmp / WEIGHTS_FILE
        meta["weights"] = {
            "backend": keras.backend.backend(),
            "keras_version": keras.__version__,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            **training,
            "file": WEIGHTS_FILE,
            "sha256": sha256_file(weights_path),
            "bytes": weights_path.stat().st_size,
        }
        write_json(tmp / METADATA_FILE, meta)
        (tmp / README_FILE).write_text(presets.model_card(meta))
    return Path(path)


def check_output(path):
    """Refuse (ValueError, naming it) an output folder that keras-latent must not replace: a
    file, the current folder or one above it, or a folder that is neither empty nor one it
    wrote (:data:`OWN_FOLDERS`: ``config.json`` and ``metadata.json``, a preset;
    ``checkpoint.json``, a run; ``config.json`` and ``model.weights.h5``, a model folder)."""
    check_replaceable(path, OWN_FOLDERS)


def resolve(name_or_path, sha256=None):
    """The local folder of a preset name, folder or URL (a URL is fetched into the cache)."""
    if isinstance(name_or_path, os.PathLike):
        name_or_path = os.fspath(name_or_path)
    if not isinstance(name_or_path, str):
        raise TypeError(
            f"name_or_path must be a preset name, a folder or a URL, got "
            f"{type(name_or_path).__name__}"
        )
    if not name_or_path.strip():
        raise ValueError("name_or_path is empty: give a preset name, a folder or a URL")
    if fetch.is_url(name_or_path):
        return fetch.fetch_preset(name_or_path, sha256)
    root = presets_dir()
    if name_or_path and (root / name_or_path / CONFIG_FILE).is_file() and "/" not in name_or_path:
        return root / name_or_path
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if os.sep in name_or_path or "/" in name_or_path or name_or_path.startswith("."):
        raise FileNotFoundError(f"preset folder {path} does not exist")
    raise ValueError(presets.unknown_message(name_or_path, list_presets()))


def read_metadata(folder):
    """``folder/metadata.json`` as a dict; ``{}`` where the folder has none (a run folder)."""
    path = Path(folder) / METADATA_FILE
    if not path.exists():
        return {}
    meta = read_json(path)
    if not isinstance(meta, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(meta).__name__}")
    return meta


def _missing_weights(name_or_path, folder, meta):
    name = meta.get("name") or Path(folder).name
    command = (meta.get("recipe") or {}).get("command") or presets.train_command(name)
    return (
        f"preset {os.fspath(name_or_path)!r} has no trained weights ({folder / WEIGHTS_FILE} "
        f"does not exist). Train them with `{command}` (then load the run folder it writes, or "
        "save the model as a preset with keras_latent.zoo.save_preset), or load the "
        "architecture with fresh weights: weights=False"
    )


def _check_weights(folder, meta, sha256):
    """Check the weights file against the caller's sha256, else the metadata's (if any)."""
    path = Path(folder) / WEIGHTS_FILE
    expected = sha256 or (meta.get("weights") or {}).get("sha256")
    if expected and path.is_file():
        actual = sha256_file(path)
        if actual != expected.lower():
            raise ValueError(
                f"{path} does not match its expected sha256 ({actual} != {expected}): a corrupt "
                "or replaced file"
            )


def _optimizer(folder, meta):
    import keras

    config = (meta.get("recipe") or {}).get("optimizer")
    if config is None:
        return None  # the model's default: the paper's Adam
    try:
        return keras.optimizers.deserialize(copy.deepcopy(config))
    except Exception as error:
        raise ValueError(
            f"{Path(folder) / METADATA_FILE}: recipe.optimizer is not a Keras optimizer: {error}"
        ) from error


def _base_metadata(model):
    """The zoo's metadata for a model named and built as a shipped preset; else generic."""
    config = model.get_config()
    name = model.name
    if name in presets.PRESETS:
        model_name, dataset = presets.PRESETS[name]
        arch = presets.architecture(dataset)
        same = type(model).__name__ == presets.MODELS[model_name]["class"] and all(
            _plain(config.get(key)) == _plain(value) for key, value in arch.items()
        )
        if same:
            return presets.metadata(name, model.count_params())
    arch = {k: _plain(config[k]) for k in presets.ARCHITECTURE_KEYS if k in config}
    meta = {
        "format": presets.FORMAT,
        "name": name,
        "description": f"{type(model).__name__} saved with keras_latent.zoo.save_preset",
        "model": {"class": type(model).__name__},
        "architecture": arch,
        "parameter_count": int(model.count_params()),
    }
    if getattr(model, "optimizer", None) is not None:
        import keras

        meta["recipe"] = {"optimizer": keras.optimizers.serialize(model.optimizer)}
    return meta


def _plain(value):
    return list(value) if isinstance(value, (tuple, list)) else value
