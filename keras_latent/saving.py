"""Model folders: ``config.json`` (the Keras-serialised model) and ``model.weights.h5``.

The layout of a keras-latent run and of a zoo preset. Every file is written atomically.
"""

from pathlib import Path

import keras

from keras_latent.files import atomic_path, read_json, write_json

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"


def save_model(model, folder):
    """Write ``model``'s config and weights into ``folder`` (created if needed)."""
    folder = Path(folder)
    write_json(folder / CONFIG_FILE, keras.saving.serialize_keras_object(model))
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        model.save_weights(tmp)
    return folder


def load_model(folder, weights=True, compile=True):
    """Rebuild the model saved in ``folder``; load its weights unless ``weights=False``."""
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
    if weights:
        weights_path = folder / WEIGHTS_FILE
        if not weights_path.exists():
            raise FileNotFoundError(
                f"{weights_path} does not exist: train the model first "
                f"(keras-latent train ... --output {folder}) or load with weights=False"
            )
        try:
            model.load_weights(weights_path)
        except Exception as error:
            raise ValueError(
                f"{weights_path} could not be loaded into the model of {config_path} (corrupt "
                f"file or weights of another architecture): {error}"
            ) from error
    if compile:
        model.compile()
    return model
