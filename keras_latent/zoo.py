"""The model zoo: list, load and save presets.

A preset is a folder (the keras-hub layout): ``config.json`` (the model serialised by Keras),
``metadata.json`` (dataset, architecture, training recipe, the paper's figures and, once
trained, how its weights were trained and their sha256), a ``README.md`` model card,
``model.weights.h5`` where trained, and, for a trained model that samples from a fitted latent
sampler (no prior), that sampler: ``latent_sampler.json`` and ``latent_sampler.npz``
(:func:`keras_latent.sampling.save_sampler`; recorded with their sha256 under
``metadata["weights"]["sampler"]`` with what it was fitted on), and the figures its card shows
(``in_training.png``, ``interpolation.png``: :func:`add_figure`). The shipped presets are
generated from :mod:`keras_latent.presets` into the top-level ``zoo/``, installed as
``keras_latent/presets_data/``.

    import keras_latent as kl
    kl.zoo.list_presets()                       # ["acai_celeba32", ..., "ae_svhn_dz32"]
    kl.zoo.list_presets(details=True)           # {name: {"description", "weights", ...}}
    model = kl.zoo.load("acai_mnist", weights=False)   # compiled with the preset's recipe
    kl.zoo.save_preset(model, "my_preset", data="mnist", metadata={"weights": {"images_seen": 640}})
    model = kl.zoo.load("my_preset")            # a folder; or an http(s)/file URL
    model = kl.zoo.load("hf://owner/repo@v1")   # a Hugging Face Hub repo (see keras_latent.hub)
    kl.zoo.push("my_preset", "hf://owner/repo") # upload a preset folder (or a model)
"""

import copy
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from keras_latent import cards, fetch, hub, presets, sampling, saving
from keras_latent.files import (
    atomic_folder,
    atomic_path,
    check_replaceable,
    read_json,
    sha256_file,
    write_json,
)

METADATA_FILE = fetch.METADATA_FILE
README_FILE = fetch.README_FILE
CONFIG_FILE = saving.CONFIG_FILE
WEIGHTS_FILE = saving.WEIGHTS_FILE
CHECKPOINT_FILE = "checkpoint.json"
"""A run's checkpoint, ``keras_latent.training.CHECKPOINT_FILE`` (named here: importing
training imports Keras, which listing the zoo does not need)."""
SAMPLER_FILES = (sampling.CONFIG_FILE, sampling.ARRAYS_FILE)
"""The files of a preset's fitted latent sampler (optional)."""
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
            ``$KERAS_LATENT_HOME``, see :mod:`keras_latent.fetch`), or a Hugging Face Hub
            handle ``hf://owner/repo`` or ``hf://owner/repo@revision`` (a branch, tag or
            commit; downloaded into huggingface_hub's cache, also usable offline with
            ``HF_HUB_OFFLINE=1`` once cached; needs ``pip install "keras-latent[hub]"``, see
            :mod:`keras_latent.hub`).
        weights: load ``model.weights.h5`` (checked against the sha256 of the metadata, or
            ``sha256``) and the preset's fitted latent sampler where it has one (its files
            checked against the sha256s of ``metadata["weights"]["sampler"]``, its latent
            shape against the model's); ``False``: the architecture with fresh weights and
            no sampler.
        compile: compile with the recipe's optimizer (``metadata["recipe"]["optimizer"]``, the
            paper's Adam by default), so ``fit`` works at once.
        sha256: expected sha256 of the archive (archive URL) or of the weights (folder URL,
            ``hf://`` handle or local folder).

    Raises ``ValueError`` for an unknown name (listing close matches), a malformed preset,
    weights of another architecture or a checksum mismatch; ``FileNotFoundError`` for a missing
    folder or, with ``weights=True``, missing weights (the message gives the command that
    trains them); see :mod:`keras_latent.fetch` and :mod:`keras_latent.hub` for download
    errors.
    """
    folder = resolve(name_or_path, sha256)
    meta = read_metadata(folder)
    model = saving.model_from_folder(folder)
    if weights:
        # A URL's sha256 (archive or weights) was checked by the download; a folder's is here.
        _check_weights(folder, meta, None if fetch.is_url(name_or_path) else sha256)
        saving.load_weights(model, folder, missing=_missing_weights(name_or_path, folder, meta))
        _load_sampler(model, folder, meta)
    presets.mark_origin(model, _origin_of(name_or_path, meta, weights))
    if compile:
        model.compile(optimizer=_optimizer(folder, meta))
    return model


def save_preset(model, path, metadata=None, *, data=None, location=None, files=None):
    """Write ``model`` as a preset folder at ``path``, atomically; returns ``path``.

    The folder is assembled beside ``path`` and renamed into place when complete (an existing
    preset or run folder there is replaced; a failure leaves it untouched). Any other ``path``
    is refused with a ValueError before anything is written (see :func:`check_output`). The
    metadata describes what is saved (:func:`saved_metadata`): ``name``, the folder's name;
    the model's class, architecture and parameter count; ``dataset``, the data ``data`` names
    (a ``keras_latent.datasets`` name such as ``"mnist"``, or any description; None: unknown,
    the model does not know what it was trained on); ``origin``, the shipped preset it was
    built as (``presets.build`` or ``load`` of a preset records it on the model, with whether
    its weights started trained or fresh). It is updated with ``metadata``'s top-level keys,
    and gets ``weights``:
    ``metadata["weights"]`` (how they were trained: ``images_seen``, ``device``,
    ``wall_time_s``, ``metrics``, ...) plus the file's ``sha256`` and ``bytes``, and, unless
    given, ``backend``, ``keras_version`` and ``date``. Only ``weights`` survives a
    regeneration of the shipped ``zoo/`` (``python -m keras_latent.zoo_build``): record
    training information there. The model's ``seed`` moves from ``config.json`` (saved as
    None: fresh randomness for whoever loads the preset) to ``weights["seed"]``. The
    optimizer's state is not saved: a loaded preset is compiled afresh with its recipe.
    ``location``: where the folder will finally live, when ``path`` is a staging folder (its
    name and the card's ``kl.zoo.load`` line; default ``path``). The ``README.md`` model card
    (:func:`keras_latent.cards.model_card`) shows the measured metrics, not the paper's: only
    the shipped presets, rewritten by ``python -m keras_latent.zoo_build``, quote the paper.

    A fitted latent sampler (``model.fit_sampler``) is saved too (:data:`SAMPLER_FILES`) and
    recorded as ``weights["sampler"]``: its kind and settings, ``images`` (the codes it was
    fitted on), the files' sha256, plus what ``metadata["weights"]["sampler"]`` gives (say
    ``{"dataset": "mnist", "split": "train"}``).

    ``files``: ``{name: source path}`` of further files to copy into the folder in the same
    atomic write (a figure the card shows, say); a name may not be one of the preset's own.
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
    sampler_given = training.pop("sampler", None)
    sampler = getattr(model, "latent_sampler", None)
    if sampler_given is not None and (sampler is None or not isinstance(sampler_given, dict)):
        raise ValueError(
            "metadata['weights']['sampler'] describes a latent sampler: it must be a dict and "
            "the model must have one (model.fit_sampler(...))"
        )
    files = {name: Path(source) for name, source in (files or {}).items()}
    reserved = {CONFIG_FILE, METADATA_FILE, README_FILE, WEIGHTS_FILE, *SAMPLER_FILES}
    for name, source in files.items():
        if name in reserved or Path(name).name != name:
            raise ValueError(f"files: {name!r} is not a free file name of a preset folder")
        if not source.is_file():
            raise FileNotFoundError(f"files: {source} (for {name}) does not exist")
    location = path if location is None else location
    meta = {**saved_metadata(model, Path(location).name, data), **metadata}
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
        if sampler is not None:
            meta["weights"]["sampler"] = _write_sampler(sampler, tmp, sampler_given)
        for name, source in files.items():
            shutil.copyfile(source, tmp / name)
        write_json(tmp / METADATA_FILE, meta)
        (tmp / README_FILE).write_text(cards.model_card(meta, location=location))
    return Path(path)


def push(folder_or_model, handle, *, token=None, private=False, commit_message=None,
         metadata=None, data=None):  # fmt: skip
    """Upload a preset to the Hugging Face Hub repository ``handle`` (``hf://owner/repo``,
    created if needed); returns the URL of the commit. See :func:`keras_latent.hub.push`.

    ``folder_or_model``: a preset folder (a finished run folder of ``keras-latent train``, one
    :func:`save_preset` wrote), or a ``keras.Model``, first saved with :func:`save_preset` (with
    ``metadata`` and ``data``, named after the repository, its card loading ``handle``) into a
    temporary folder. ``token``: default ``HF_TOKEN``, else the one ``hf auth login`` saved;
    ``private``: create the repository private; ``commit_message``: default "Upload NAME with
    keras-latent". Needs ``pip install "keras-latent[hub]"``.
    """
    parsed = hub.parse(handle)
    options = {"token": token, "private": private, "commit_message": commit_message}
    if isinstance(folder_or_model, (str, os.PathLike)):
        if metadata is not None or data is not None:
            raise TypeError("metadata= and data= describe a model: a folder is pushed as it is")
        return hub.push(folder_or_model, parsed, **options)
    hub.require_hub()  # before saving anything
    with tempfile.TemporaryDirectory(prefix="keras-latent-push-") as tmp:
        name = parsed.repo_id.split("/")[-1]
        folder = save_preset(
            folder_or_model, Path(tmp) / name, metadata, data=data, location=str(parsed)
        )
        return hub.push(folder, parsed, **options)


def add_sampler(folder, sampler, record=None):
    """Add a fitted latent ``sampler`` to the trained preset ``folder`` in place: write its
    files (each atomically; the weights, config and model card are untouched) and record it as
    ``metadata["weights"]["sampler"]`` (``record`` added, as in :func:`save_preset`). A
    regeneration of the shipped ``zoo/`` keeps both. Returns the record."""
    folder = Path(folder)
    meta = read_metadata(folder)
    if not isinstance(meta.get("weights"), dict) or not (folder / WEIGHTS_FILE).is_file():
        raise ValueError(f"{folder} is not a trained preset: a sampler needs trained weights")
    shape = (meta.get("architecture") or {}).get("latent_shape")
    if shape is not None and tuple(shape) != tuple(sampler.latent_shape):
        raise ValueError(
            f"the sampler draws codes of shape {sampler.latent_shape}, {folder / METADATA_FILE} "
            f"gives the latent shape {tuple(shape)}"
        )
    meta["weights"]["sampler"] = _write_sampler(sampler, folder, record)
    write_json(folder / METADATA_FILE, meta)
    return meta["weights"]["sampler"]


def add_figure(folder, key, source, record=None):
    """Add the figure file ``source`` to the trained preset ``folder`` in place, under its
    own name (written atomically; the weights and config are untouched), record it as
    ``metadata["weights"][key]`` (``record`` plus the file's name and sha256; a regeneration
    of the shipped ``zoo/`` keeps it) and rewrite the model card, which shows it: a shipped
    preset's generated card with :func:`keras_latent.presets.build_presets`, a saved preset's
    as :func:`save_preset` writes it. Returns the record."""
    folder, source = Path(folder), Path(source)
    meta = read_metadata(folder)
    if not isinstance(meta.get("weights"), dict) or not (folder / WEIGHTS_FILE).is_file():
        raise ValueError(f"{folder} is not a trained preset: a figure shows trained weights")
    with atomic_path(folder / source.name) as tmp:
        shutil.copyfile(source, tmp)
    meta["weights"][key] = {
        **(record or {}),
        "file": source.name,
        "sha256": sha256_file(folder / source.name),
    }
    write_json(folder / METADATA_FILE, meta)
    card = folder / README_FILE
    if card.is_file() and cards.GENERATED_FOOTER in card.read_text():
        presets.build_presets(folder.parent, names=[folder.name])
    else:
        with atomic_path(card) as tmp:
            tmp.write_text(cards.model_card(meta, location=folder))
    return meta["weights"][key]


def _write_sampler(sampler, folder, given=None):
    """Write ``sampler``'s files into ``folder``; returns its metadata record."""
    paths = sampling.save_sampler(sampler, folder)
    config, _ = sampler.state()
    record = {k: v for k, v in config.items() if k not in ("latent_shape", "fitted_codes")}
    record["images"] = config.get("fitted_codes")
    record.update(given or {})
    record["files"] = {path.name: sha256_file(path) for path in paths}
    return record


def _load_sampler(model, folder, meta):
    """Set ``model.latent_sampler`` from the preset's sampler files, if any: each checked
    against the sha256 ``metadata["weights"]["sampler"]["files"]`` records (a recorded file
    that is missing or differs is refused, naming it), then read and validated."""
    if not hasattr(model, "latent_sampler"):
        return
    record = (meta.get("weights") or {}).get("sampler") if isinstance(meta, dict) else None
    files = record.get("files") if isinstance(record, dict) else None
    for name, expected in (files or {}).items():
        path = Path(folder) / name
        if name not in SAMPLER_FILES:
            raise ValueError(f"{Path(folder) / METADATA_FILE}: unknown sampler file {name!r}")
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} does not exist but {METADATA_FILE} records it: the preset's latent "
                "sampler is incomplete (copy the whole preset folder)"
            )
        _check_sha256(path, expected)
    sampler = sampling.load_sampler(folder, latent_shape=model.latent_shape)
    if sampler is not None:
        model.latent_sampler = sampler


def check_output(path):
    """Refuse (ValueError, naming it) an output folder that keras-latent must not replace: a
    file, the current folder or one above it, or a folder that is neither empty nor one it
    wrote (:data:`OWN_FOLDERS`: ``config.json`` and ``metadata.json``, a preset;
    ``checkpoint.json``, a run; ``config.json`` and ``model.weights.h5``, a model folder)."""
    check_replaceable(path, OWN_FOLDERS)


def resolve(name_or_path, sha256=None):
    """The local folder of a preset name, folder, URL (fetched into the cache) or ``hf://``
    handle (fetched into huggingface_hub's cache: :func:`keras_latent.hub.resolve`; ``sha256``,
    the weights', is checked by :func:`load`)."""
    if isinstance(name_or_path, os.PathLike):
        name_or_path = os.fspath(name_or_path)
    if not isinstance(name_or_path, str):
        raise TypeError(
            f"name_or_path must be a preset name, a folder or a URL, got "
            f"{type(name_or_path).__name__}"
        )
    if not name_or_path.strip():
        raise ValueError("name_or_path is empty: give a preset name, a folder or a URL")
    if hub.is_handle(name_or_path):
        return hub.resolve(name_or_path)
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
    built = (meta.get("origin") or {}).get("preset")  # a saved preset: the one it was built as
    name = built if built in presets.PRESETS else name
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
        _check_sha256(path, expected)


def _check_sha256(path, expected):
    """Refuse (ValueError, naming it) a file whose sha256 is not ``expected``."""
    actual = sha256_file(path)
    if actual != str(expected).lower():
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


def saved_metadata(model, name, data=None):
    """The metadata :func:`save_preset` starts from: what the model itself tells.

    ``name``: the preset's (its folder's) name. ``data``: what it was trained on (see
    :func:`save_preset`). ``origin``: the model's record (:func:`keras_latent.presets.origin`),
    else, for a model named and built as a shipped preset, that preset (weights unknown). A
    model of a shipped preset's architecture gets the model's summary and the preset's
    optimizer as ``recipe`` (what ``load`` compiles with); another, its own optimizer's.
    """
    import keras

    config = model.get_config()
    arch = {k: _plain(config[k]) for k in presets.ARCHITECTURE_KEYS if k in config}
    if "latent" in arch and "latent_width" in arch:
        width = arch["latent_width"]
        arch["latent_shape"] = [width, width, arch["latent"]]
        arch["latent_size"] = presets.latent_size(arch)
    meta = {
        "format": presets.FORMAT,
        "name": name,
        "description": f"{type(model).__name__} saved with keras_latent.zoo.save_preset",
        "model": {"class": type(model).__name__},
        "dataset": _saved_dataset(data, arch, config),
        "architecture": arch,
        "parameter_count": int(model.count_params()),
    }
    origin = presets.origin(model) or _named_preset(model, config)
    preset = (origin or {}).get("preset")
    if preset in presets.PRESETS and _is_preset(model, config, preset):
        model_name = presets.PRESETS[preset][0]
        meta["model"].update(name=model_name, summary=presets.MODELS[model_name]["summary"])
        meta["recipe"] = {"optimizer": copy.deepcopy(presets.RECIPE["optimizer"])}
    elif getattr(model, "optimizer", None) is not None:
        meta["recipe"] = {"optimizer": keras.optimizers.serialize(model.optimizer)}
    if origin:
        meta["origin"] = origin
    return meta


def _saved_dataset(data, arch, config):
    """``metadata["dataset"]`` of a saved model: ``data`` (None: unknown)."""
    from keras_latent.datasets import NAMES

    entry = {"image_shape": arch.get("image_shape"), "num_classes": config.get("num_classes")}
    if data is None:
        return {"name": None, "data": None, **entry}
    if not isinstance(data, str) or not data.strip():
        raise TypeError(
            f"data must name what the model was trained on (a keras_latent.datasets name such "
            f"as 'mnist', or a description), got {data!r}"
        )
    if data in NAMES:
        summaries = [d["summary"] for d in presets.DATASETS.values() if d["data"] == data]
        return {"name": data, "data": data, "summary": summaries[0], **entry}
    return {"name": data, "data": None, **entry}


def _named_preset(model, config):
    """``{"preset": name}`` for a model named and built as a shipped preset; else None."""
    if model.name in presets.PRESETS and _is_preset(model, config, model.name):
        return {"preset": model.name}
    return None


def _is_preset(model, config, name):
    """Whether ``model`` (with ``config``) has shipped preset ``name``'s class and architecture."""
    model_name = presets.PRESETS[name][0]
    return type(model).__name__ == presets.MODELS[model_name]["class"] and all(
        _plain(config.get(key)) == _plain(value)
        for key, value in presets.preset_architecture(name).items()
    )


def _origin_of(name_or_path, meta, weights):
    """What :func:`load` records on its model: where it came from and its weights."""
    origin = {"preset": os.fspath(name_or_path), "weights": "trained" if weights else "fresh"}
    digest = (meta.get("weights") or {}).get("sha256") if weights else None
    if digest:
        origin["sha256"] = digest
    return origin


def _plain(value):
    return list(value) if isinstance(value, (tuple, list)) else value
