"""Recipes: every model of the zoo builds on the lines architecture, compiled."""

import keras
import pytest

from keras_latent import recipes


def test_every_baseline_of_the_paper_has_a_lines_recipe():
    for name in ("ae", "dropout", "denoising", "vae", "aae", "vqvae", "acai", "wae"):
        assert f"{name}_lines" in recipes.RECIPES


@pytest.mark.parametrize("name", sorted(recipes.RECIPES))
def test_recipes_build_compiled_models(name):
    model = recipes.build(name, seed=0)
    assert isinstance(model, recipes.MODELS[name.split("_")[0]])
    assert model.name == name and model.compiled
    assert model.latent_shape == (2, 2, 16)
    assert isinstance(model.optimizer, keras.optimizers.Adam)


def test_unknown_recipes_are_refused():
    with pytest.raises(ValueError, match="unknown recipe 'gan_lines'"):
        recipes.build("gan_lines")
