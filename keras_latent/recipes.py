"""Named model + architecture pairs the CLI trains (the zoo's presets will grow from these).

``lines``: the paper's lines configuration, 32x32x1 images, latent 2x2x16 (d_z 64), depth 16.
"""

from keras_latent.models import ACAI, IRMAE, RAE, Autoencoder, EccentricAutoencoder

ARCHITECTURES = {
    "lines": dict(image_shape=(32, 32, 1), depth=16, latent=16, latent_width=2),
}

MODELS = {"acai": ACAI, "ae": Autoencoder}
MODELS.update(eccentric=EccentricAutoencoder, irmae=IRMAE, rae=RAE)

RECIPES = {f"{model}_{dataset}": (model, dataset) for model in MODELS for dataset in ARCHITECTURES}


def build(name, seed=None):
    """A fresh model for recipe ``name`` (such as ``"acai_lines"``), compiled with the paper's
    optimizer."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    model_name, dataset = RECIPES[name]
    model = MODELS[model_name](**ARCHITECTURES[dataset], seed=seed, name=name)
    model.compile()
    return model
