"""``import keras_latent``: light (no Keras, backend or matplotlib), its names imported on use."""

import subprocess
import sys
import textwrap

import pytest

import keras_latent as kl
from tests.helpers import REPO

HEAVY = ("keras", "tensorflow", "jax", "torch", "matplotlib")


def imported_after(code):
    """The modules of :data:`HEAVY` imported by a fresh interpreter once it has run ``code``."""
    check = f"import sys\n{textwrap.dedent(code)}\nprint(sorted(set({HEAVY}) & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_import_keras_latent_imports_no_framework():
    assert imported_after("import keras_latent") == "[]"


def test_plots_is_an_attribute_imported_on_first_use():
    assert imported_after("import keras_latent as kl; kl.plots.save_grid") == "['matplotlib']"
    assert kl.plots.save_grid is sys.modules["keras_latent.plots"].save_grid


def test_model_classes_and_submodules_are_attributes():
    from keras_latent import models

    assert kl.ACAI is models.ACAI and kl.Autoencoder is models.Autoencoder
    assert kl.zoo is sys.modules["keras_latent.zoo"]
    assert {"ACAI", "plots", "zoo", "hardware"} <= set(dir(kl)) and "plots" in kl.__all__
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        kl.nothing  # noqa: B018


def test_a_fresh_process_loads_a_preset_without_importing_the_models_first():
    # Keras finds the classes of config.json only once keras_latent.models is imported:
    # keras_latent.saving imports it itself.
    code = """
        from keras_latent import zoo
        print(type(zoo.load("ae_lines", weights=False, compile=False)).__name__)
    """
    script = "import os\nos.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')\n"
    result = subprocess.run(
        [sys.executable, "-c", script + textwrap.dedent(code)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "Autoencoder"
