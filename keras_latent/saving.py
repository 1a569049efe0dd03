"""Model folders: ``config.json`` (the Keras-serialised model) and ``model.weights.h5``.

The layout of a keras-latent run and of a zoo preset. Every file is written atomically.
"""

import tempfile
from pathlib import Path

from keras_latent.files import atomic_path, read_json, write_json

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"


def model_config(model):
    """``model`` serialised by Keras, without ``compile_config`` and ``build_config`` (the
    models build themselves and ``load_model`` compiles them), as keras-hub's presets."""
    import keras

    config = keras.saving.serialize_keras_object(model)
    for key in ("compile_config", "build_config"):
        config.pop(key, None)
    return config


def save_model(model, folder, config=None, optimizer=True):
    """Write ``model``'s config (or ``config``) and weights into ``folder`` (created if
    needed).

    ``optimizer=False`` leaves the optimizer's state (Adam's two moments: twice the model's
    size) out of the weights file, as a shipped preset does.
    """
    folder = Path(folder)
    write_json(folder / CONFIG_FILE, model_config(model) if config is None else config)
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        if optimizer or getattr(model, "optimizer", None) is None:
            model.save_weights(tmp)
        else:
            from keras.src.saving import saving_lib  # no public API skips the optimizer

            saving_lib.save_weights_only(model, tmp, objects_to_skip=[model.optimizer])
    return folder


def load_model(folder, weights=True, compile=True):
    """Rebuild the model saved in ``folder``; load its weights unless ``weights=False``."""
    model = model_from_folder(folder)
    if weights:
        load_weights(model, folder)
    if compile:
        model.compile()
    return model


def model_from_folder(folder):
    """The model described by ``folder/config.json``, with fresh weights."""
    import keras

    from keras_latent import models  # noqa: F401  (registers the classes Keras deserialises)

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"model folder {folder} does not exist")
    config_path = folder / CONFIG_FILE
    config = read_json(config_path)
    try:
        model = keras.saving.deserialize_keras_object(config)
    except Exception as error:
        raise ValueError(f"{config_path} does not describe a Keras model: {error}") from error
    if not isinstance(model, keras.Model):
        raise ValueError(f"{config_path} describes a {type(model).__name__}, not a Keras model")
    return model


def load_weights(model, folder, missing=None):
    """Load ``folder/model.weights.h5`` into ``model``; ``missing``: the message if absent.

    The file must hold exactly the model's variables (see :func:`check_weights`): weights of
    another architecture are a ValueError, never loaded in part."""
    weights_path = Path(folder) / WEIGHTS_FILE
    if not weights_path.exists():
        raise FileNotFoundError(
            missing
            or f"{weights_path} does not exist: train the model first "
            f"(keras-latent train ... --output {folder}) or load with weights=False"
        )
    check_weights(model, weights_path, Path(folder) / CONFIG_FILE)
    try:
        model.load_weights(weights_path)
    except Exception as error:
        raise ValueError(
            f"{weights_path} could not be loaded into the model of "
            f"{Path(folder) / CONFIG_FILE} (corrupt file or weights of another architecture): "
            f"{error}"
        ) from error


def check_weights(model, weights_path, config_path):
    """Refuse (ValueError, naming both files) a weights file whose variables are not exactly
    ``model``'s: the same paths (``encoder/layers/conv2d/vars/0``, ...) with the same shapes.
    Keras would load the overlap and skip the rest silently (an ACAI's critic into an
    Autoencoder). The optimizer's state, if the file has one, is not compared."""
    try:
        held = weight_shapes(weights_path)
    except Exception as error:
        raise ValueError(
            f"{weights_path} could not be read (corrupt file, or not a Keras weights file): {error}"
        ) from error
    with tempfile.TemporaryDirectory() as tmp:
        own = Path(tmp) / WEIGHTS_FILE
        model.save_weights(own)
        expected = weight_shapes(own)
    extra = sorted(set(held) - set(expected))
    missing = sorted(set(expected) - set(held))
    reshaped = sorted(k for k in set(held) & set(expected) if held[k] != expected[k])
    if not (extra or missing or reshaped):
        return
    problems = [
        f"{what}: {len(names)} under {', '.join(sorted({n.split('/')[0] + '/' for n in names}))} "
        f"(first: {names[0]})"
        for what, names in (
            ("extra variables in the file", extra),
            ("variables of the model missing from the file", missing),
            ("variables of another shape", reshaped),
        )
        if names
    ]
    raise ValueError(
        f"{weights_path} holds the weights of another architecture than {config_path} "
        f"({type(model).__name__}): {'; '.join(problems)}. Nothing was loaded"
    )


def weight_shapes(path):
    """``{variable path: shape}`` of a Keras ``.weights.h5`` file, without the optimizer's."""
    import h5py

    shapes = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset) and not name.startswith("optimizer/"):
            shapes[name] = tuple(item.shape)

    with h5py.File(path, "r") as file:
        file.visititems(visit)
    return shapes
