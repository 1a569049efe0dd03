"""Presets on the Hugging Face Hub: ``hf://owner/repo[@revision]`` handles, loaded and pushed.

A handle names a model repository holding a preset folder (``config.json``, ``metadata.json``,
``README.md``, ``model.weights.h5`` and the latent sampler files its metadata records), at a
branch, tag or commit (default ``main``):

    import keras_latent as kl
    model = kl.zoo.load("hf://owner/acai_mnist")              # the main branch
    model = kl.zoo.load("hf://owner/acai_mnist@v1")           # a tag or branch
    model = kl.zoo.load("hf://owner/acai_mnist@0123abcd...")  # a commit (40 hex digits)
    kl.zoo.push("runs/acai_mnist", "hf://owner/acai_mnist")   # or: keras-latent push

Files are downloaded with ``huggingface_hub`` into its own cache (``HF_HUB_CACHE``, else
``HF_HOME/hub``, else ``~/.cache/huggingface/hub``), all from the one commit the revision names
when the first file is fetched; with ``HF_HUB_OFFLINE=1`` a cached preset loads without the
network. ``HF_ENDPOINT`` points at another Hub; ``HF_TOKEN`` (or ``hf auth login``) gives the
token for private repositories and for pushing. The weights are checked against the sha256
their ``metadata.json`` records by :func:`keras_latent.zoo.load`, as for any folder.

``huggingface_hub`` is an optional dependency (``pip install "keras-latent[hub]"``), imported
only when a handle is used. Errors: ``ValueError`` (a malformed handle, a folder that is not a
preset), ``FileNotFoundError`` (no such repository, revision or file; a preset not cached while
offline), ``ConnectionError`` (the Hub unreachable and nothing cached, other HTTP errors),
``PermissionError`` (pushing without a token allowed to write), ``ImportError`` (no
``huggingface_hub``).
"""

import dataclasses
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

from keras_latent import cards, fetch, sampling, saving
from keras_latent.files import read_json, sha256_file

SCHEME = "hf://"
INSTALL = 'pip install "keras-latent[hub]"'
"""The command that installs the optional ``huggingface_hub`` dependency."""
SAMPLER_FILES = (sampling.CONFIG_FILE, sampling.ARRAYS_FILE)
PUSHED_FILES = (
    saving.CONFIG_FILE,
    fetch.METADATA_FILE,
    fetch.README_FILE,
    saving.WEIGHTS_FILE,
    *SAMPLER_FILES,
)
"""The files of a preset folder that :func:`push` uploads (where present), with the figures its
card shows (:func:`keras_latent.cards.figure_files`); a run folder's checkpoints, metrics and
other figures stay local."""
TAGS = ("keras", "keras-latent", "autoencoder")
"""The Hub tags every pushed preset gets, before its model class and dataset."""
TASK = {"type": "image-feature-extraction", "name": "Autoencoder latent space"}
"""The task of the model-index results of a pushed preset's card."""
METRIC_NAMES = {
    "reconstruction_mse": "Reconstruction MSE",
    "probe_accuracy": "In-training linear probe accuracy",
    "linear_probe_accuracy": "Frozen-latent linear probe accuracy",
    "clustering_accuracy": "Clustering accuracy",
    "frechet_classifier_distance": "Fréchet classifier distance",
    "mean_distance": "Mean Distance",
    "smoothness": "Smoothness",
}
"""Readable names of the metrics a model card may record (others: the key, spaced)."""
NOT_METRICS = ("test_images",)
"""Numbers of ``metadata["weights"]["metrics"]`` that count things rather than score them."""
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_HANDLE = re.compile(rf"hf://(?P<repo>{_PART}/{_PART})(?:@(?P<revision>[^\s@]+))?")
_TRUE = ("1", "ON", "YES", "TRUE")


@dataclasses.dataclass(frozen=True)
class Handle:
    """A parsed ``hf://owner/repo[@revision]``: the repository id and revision (None: main)."""

    repo_id: str
    revision: str | None = None

    def __str__(self):
        return SCHEME + self.repo_id + (f"@{self.revision}" if self.revision else "")


def is_handle(text):
    """Whether ``text`` is a string starting with ``hf://`` (well formed or not)."""
    return isinstance(text, str) and text.strip().lower().startswith(SCHEME)


def parse(handle):
    """The :class:`Handle` of ``"hf://owner/repo"`` or ``"hf://owner/repo@revision"``; a
    ``ValueError`` naming the text and the expected form otherwise."""
    if isinstance(handle, Handle):
        return handle
    text = handle.strip() if isinstance(handle, str) else handle
    match = _HANDLE.fullmatch(text) if isinstance(text, str) else None
    if match is None or ".." in match["repo"] or "--" in match["repo"]:
        raise ValueError(
            f"malformed Hugging Face Hub handle {handle!r}: expected hf://owner/repo or "
            "hf://owner/repo@revision (a branch, tag or commit), e.g. hf://me/acai_mnist@main"
        )
    return Handle(match["repo"], match["revision"])


def require_hub():
    """The ``huggingface_hub`` module; an ``ImportError`` giving :data:`INSTALL` without it."""
    try:
        import huggingface_hub
    except ImportError as error:
        raise ImportError(
            f"hf:// presets need the huggingface_hub package: {INSTALL} (or pip install "
            f"huggingface_hub) ({error})"
        ) from error
    return huggingface_hub


def resolve(handle):
    """The local folder of the preset at ``handle``: the snapshot folder of its commit in
    ``huggingface_hub``'s cache, holding ``config.json``, ``metadata.json``, the ``README.md``
    (if any), and the weights and sampler files the metadata records, downloaded if missing."""
    handle = parse(handle)
    hf = require_hub()
    folder = _download(hf, handle, saving.CONFIG_FILE, handle.revision).parent
    commit = folder.name  # .../snapshots/<commit>/config.json: the others come from that commit
    metadata_path = _download(hf, handle, fetch.METADATA_FILE, commit)
    _download(hf, handle, fetch.README_FILE, commit, optional=True)
    metadata = read_json(metadata_path)
    if not isinstance(metadata, dict):
        raise ValueError(f"{handle}: {fetch.METADATA_FILE} must hold a JSON object")
    weights = metadata.get("weights")
    if isinstance(weights, dict):
        _download(hf, handle, saving.WEIGHTS_FILE, commit)
        sampler = weights.get("sampler") if isinstance(weights.get("sampler"), dict) else {}
        for name in sampler.get("files") or {}:
            if name in SAMPLER_FILES:
                _download(hf, handle, name, commit)
    return folder


def _download(hf, handle, filename, revision, optional=False):
    """The cached path of ``filename`` of ``handle`` at ``revision`` (downloaded if needed);
    None for a missing ``optional`` file. Hub errors become clear errors naming the handle."""
    from huggingface_hub import constants, errors

    offline = _offline()
    try:
        path = hf.hf_hub_download(
            handle.repo_id,
            filename,
            revision=revision,
            cache_dir=_cache_dir(),
            endpoint=_endpoint(),
            local_files_only=offline,
            library_name="keras-latent",
        )
    except errors.EntryNotFoundError as error:
        if optional:
            return None
        if isinstance(error, errors.LocalEntryNotFoundError):
            raise _not_cached(handle, filename, offline, error) from None
        raise FileNotFoundError(
            f"{handle} has no {filename}: not a complete keras-latent preset (push one with "
            "`keras-latent push FOLDER hf://owner/repo`)"
        ) from None
    except errors.RevisionNotFoundError:
        raise FileNotFoundError(
            f"{handle}: the repository has no revision {handle.revision!r} (a branch, tag or "
            "commit)"
        ) from None
    except errors.RepositoryNotFoundError:
        raise FileNotFoundError(
            f"{handle}: no such model repository on {_endpoint() or constants.ENDPOINT}, or "
            "it is private or gated and no token with access was given (HF_TOKEN or "
            "`hf auth login`)"
        ) from None
    except errors.HfHubHTTPError as error:
        raise ConnectionError(f"could not download {filename} of {handle}: {error}") from None
    except ValueError as error:  # huggingface_hub's validation of ids and revisions
        raise ValueError(f"{handle}: {error}") from None
    return Path(path)


def _not_cached(handle, filename, offline, error):
    """The error for a file neither downloaded nor cached."""
    if offline:
        return FileNotFoundError(
            f"{handle} is not in the Hugging Face cache ({filename} missing) and the Hub is "
            "offline (HF_HUB_OFFLINE): load it once online first"
        )
    return ConnectionError(
        f"could not reach the Hub for {handle}, and its {filename} is not in the Hugging Face "
        f"cache: {error}"
    )


def _endpoint():
    """The Hub's URL from ``HF_ENDPOINT`` as set now (None: ``huggingface_hub``'s own)."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or None


def _cache_dir():
    """The Hub cache from ``HF_HUB_CACHE``, else ``HF_HOME/hub``, as set now (None:
    ``huggingface_hub``'s own default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    return None


def _offline():
    """Whether the Hub is off: ``HF_HUB_OFFLINE`` as set now, or as ``huggingface_hub`` read
    it at import."""
    from huggingface_hub import constants

    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUE or (
        constants.is_offline_mode()
    )


def push(folder, handle, *, token=None, private=False, commit_message=None):
    """Upload the preset ``folder`` to the Hub repository ``handle`` (``hf://owner/repo``),
    creating the repository if needed (``private``: as a private one; an existing one keeps its
    visibility). Returns the URL of the commit.

    The files of :data:`PUSHED_FILES` and the card's figures present in ``folder`` are copied
    to a temporary folder and uploaded from there in one commit; the copy of ``README.md`` gains
    the Hub's YAML front matter (:func:`card_front_matter`) unless it starts with ``---``
    already; ``folder`` itself is left untouched. Weights that do not match the sha256 of the
    metadata are refused before anything is sent. ``token``: default ``HF_TOKEN``, else the one
    ``hf auth login`` saved.
    """
    handle = parse(handle)
    if handle.revision is not None:
        raise ValueError(
            f"{handle}: push uploads to the repository's main branch; give hf://"
            f"{handle.repo_id} without @revision"
        )
    folder = Path(folder)
    metadata = _check_preset(folder)
    hf = require_hub()
    from huggingface_hub import errors

    api = hf.HfApi(endpoint=_endpoint(), token=token, library_name="keras-latent")
    message = commit_message or f"Upload {metadata.get('name') or folder.name} with keras-latent"
    with tempfile.TemporaryDirectory(prefix="keras-latent-push-") as staging:
        _stage(folder, Path(staging), metadata)
        try:
            api.create_repo(handle.repo_id, private=private, exist_ok=True)
            info = api.upload_folder(
                repo_id=handle.repo_id, folder_path=staging, commit_message=message
            )
        except errors.HfHubHTTPError as error:
            raise _push_error(handle, error) from None
    return str(getattr(info, "commit_url", info))


def _check_preset(folder):
    """``folder``'s metadata, once it is known to be a preset worth pushing: ``config.json``
    and ``metadata.json`` present, recorded weights present and matching their sha256."""
    if not folder.is_dir():
        raise FileNotFoundError(f"preset folder {folder} does not exist")
    missing = [n for n in (saving.CONFIG_FILE, fetch.METADATA_FILE) if not (folder / n).is_file()]
    if missing:
        raise ValueError(
            f"{folder} is not a preset folder ({', '.join(missing)} missing): push a folder "
            "written by keras_latent.zoo.save_preset or a finished `keras-latent train` run"
        )
    metadata = read_json(folder / fetch.METADATA_FILE)
    if not isinstance(metadata, dict):
        raise ValueError(f"{folder / fetch.METADATA_FILE} must hold a JSON object")
    weights = metadata.get("weights")
    path = folder / saving.WEIGHTS_FILE
    if isinstance(weights, dict) and not path.is_file():
        raise FileNotFoundError(f"{path} does not exist but {fetch.METADATA_FILE} records weights")
    expected = weights.get("sha256") if isinstance(weights, dict) else None
    if expected and path.is_file() and sha256_file(path) != str(expected).lower():
        raise ValueError(
            f"{path} does not match the sha256 its {fetch.METADATA_FILE} records: not pushed"
        )
    return metadata


def _stage(folder, staging, metadata):
    """Copy the preset's files into ``staging``, the card with its Hub front matter."""
    figures = cards.figure_files(metadata.get("weights"))
    for name in (*PUSHED_FILES, *figures):
        if (folder / name).is_file() and name != fetch.README_FILE:
            shutil.copyfile(folder / name, staging / name)
    readme = folder / fetch.README_FILE
    card = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    if not card:
        card = f"# {metadata.get('name') or folder.name}\n"
    (staging / fetch.README_FILE).write_text(card_with_front_matter(card, metadata), "utf-8")


def _push_error(handle, error):
    """The clear error of a failed push (``error``: a ``HfHubHTTPError``)."""
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status in (401, 403):
        return PermissionError(
            f"could not push to {handle} (HTTP {status}): give a token allowed to write there "
            "(HF_TOKEN, `hf auth login` or token=)"
        )
    return ConnectionError(f"could not push to {handle}: {error}")


def card_with_front_matter(card, metadata):
    """``card`` (a model card's text) with :func:`card_front_matter` ahead of it, unless it
    starts with a front matter (``---``) already."""
    if card.startswith("---"):
        return card
    return card_front_matter(metadata) + "\n" + card


def card_front_matter(metadata):
    """The Hub's YAML front matter of a preset's model card, from its ``metadata``:
    ``library_name``, ``license``, ``tags`` (:data:`TAGS`, the model class, the dataset),
    ``datasets`` and, where the weights record metrics on a known dataset, a ``model-index``
    with those metrics. Returns the text from its opening ``---`` to its closing ``---``."""
    metadata = metadata if isinstance(metadata, dict) else {}
    model_class = _entry(metadata, "model").get("class")
    dataset = _entry(metadata, "dataset")
    data = dataset.get("name") or dataset.get("data")
    tags = list(dict.fromkeys(t for t in (*TAGS, model_class, data) if isinstance(t, str) and t))
    lines = ["---", "library_name: keras", "license: apache-2.0", "tags:"]
    lines += [f"- {_yaml(tag)}" for tag in tags]
    if isinstance(data, str) and data:
        lines += ["datasets:", f"- {_yaml(data)}"]
        lines += _model_index(metadata, data, dataset)
    return "\n".join([*lines, "---"]) + "\n"


def _model_index(metadata, data, dataset):
    """The ``model-index`` lines of the front matter: one result with the measured metrics
    (none: no lines)."""
    metrics = _metrics(_entry(metadata, "weights").get("metrics"))
    if not metrics:
        return []
    lines = [
        "model-index:",
        f"- name: {_yaml(str(metadata.get('name') or 'keras-latent preset'))}",
        "  results:",
        "  - task:",
        f"      type: {_yaml(TASK['type'])}",
        f"      name: {_yaml(TASK['name'])}",
        "    dataset:",
        f"      type: {_yaml(data)}",
        f"      name: {_yaml(str(dataset.get('summary') or data))}",
        "      split: test",
        "    metrics:",
    ]
    for key, value in metrics.items():
        name = METRIC_NAMES.get(key, key.replace("_", " "))
        lines += [
            f"    - type: {_yaml(key)}",
            f"      value: {value!r}",
            f"      name: {_yaml(name)}",
        ]
    return lines


def _metrics(metrics):
    """The finite numbers of ``metrics`` (a dict) that score the model, in their order."""
    if not isinstance(metrics, dict):
        return {}
    return {
        str(key): value
        for key, value in metrics.items()
        if isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and key not in NOT_METRICS
    }


def _entry(metadata, key):
    """``metadata[key]`` where it is a dict, else ``{}``."""
    value = metadata.get(key)
    return value if isinstance(value, dict) else {}


def _yaml(text):
    """``text`` as a YAML scalar: plain where that reads back as the same string, else
    double-quoted (JSON's quoting is YAML's)."""
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", text)
    reserved = text.lower() in ("true", "false", "yes", "no", "on", "off", "null", "y", "n")
    return text if plain and not reserved else json.dumps(text, ensure_ascii=False)
