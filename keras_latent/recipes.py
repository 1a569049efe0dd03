"""The recipes ``keras-latent train`` trains: the zoo's lines presets.

The models and architectures live in one table, :mod:`keras_latent.presets`; this module only
selects the presets the lines commands support.
"""

from keras_latent import presets

RECIPES = {name: pair for name, pair in presets.PRESETS.items() if pair[1] == "lines"}


def build(name, seed=None):
    """A fresh model for recipe ``name`` (such as ``"acai_lines"``), compiled with the paper's
    optimizer."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    return presets.build(name, seed=seed)
