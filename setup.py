"""Packages of the wheel: ``keras_latent*`` and the top-level ``zoo/`` installed as the data
package ``keras_latent.presets_data`` (pyproject.toml cannot map a folder outside the package
tree while also finding packages automatically). Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["keras_latent*"]), "keras_latent.presets_data"],
    package_dir={"keras_latent.presets_data": "zoo"},
    package_data={
        "keras_latent.presets_data": ["*/*.json", "*/*.md", "*/*.h5", "*/*.npz", "*/*.png"],
        "keras_latent.metrics": ["weights/*.weights.h5", "weights/*.json"],  # MNIST classifier
    },
)
