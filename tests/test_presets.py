"""The preset table and its generator: the committed zoo/ is exactly what the tables give."""

import pytest

from keras_latent import presets, zoo
from keras_latent.architectures import count_scales


def conv(kernel, inputs, filters):
    return kernel * kernel * inputs * filters + filters


def encoder_parameters(channels, depth, latent, scales):
    count, width = conv(1, channels, depth), depth
    for s in range(scales):
        count += conv(3, width, depth << s) + conv(3, depth << s, depth << s)
        width = depth << s
    return count + conv(3, width, depth << scales) + conv(3, depth << scales, latent)


def decoder_parameters(channels, depth, latent, scales):
    count, width = 0, latent
    for s in reversed(range(scales)):
        count += conv(3, width, depth << s) + conv(3, depth << s, depth << s)
        width = depth << s
    return count + conv(3, width, depth) + conv(3, depth, channels)


def expected_parameters(model_class, arch, num_classes):
    """The paper architecture's parameter count, counted from its layer list (docs/papers.md,
    "The ACAI architecture")."""
    size, _, channels = arch["image_shape"]
    scales = count_scales(size, arch["latent_width"])
    args = (channels, arch["depth"], arch["latent"], scales)
    count = encoder_parameters(*args) + decoder_parameters(*args)
    if num_classes:
        count += presets.latent_size(arch) * num_classes + num_classes
    if model_class == "ACAI":
        count += encoder_parameters(*args)  # the critic: the encoder architecture
    return count


def test_the_tables_cover_every_model_and_paper_dataset():
    assert set(presets.DATASETS) >= {
        "lines", "mnist", "mnist_dz32", "fashion_mnist", "svhn", "svhn_dz32", "celeba32",
        "cifar10", "cifar10_dz1024",
    }  # fmt: skip
    assert {"acai", "ae"} <= set(presets.MODELS)
    assert set(presets.PRESETS) == {f"{m}_{d}" for m in presets.MODELS for d in presets.DATASETS}
    sizes = {name: presets.latent_size(entry) for name, entry in presets.DATASETS.items()}
    assert sizes["lines"] == 64 and sizes["mnist"] == 256 and sizes["mnist_dz32"] == 32
    assert sizes["svhn_dz32"] == 32 and sizes["cifar10_dz1024"] == 1024


def test_committed_zoo_equals_the_generator_output():
    stale = presets.stale_folders(presets.ZOO_DIR)
    assert stale == [], f"folders of no preset in zoo/: {stale}"
    differ = presets.build_presets(presets.ZOO_DIR, check=True)
    assert differ == [], (
        f"zoo/ differs from keras_latent.presets (never edit it by hand; regenerate with "
        f"`python -m keras_latent.zoo_build`): {differ}"
    )


def test_every_preset_loads_without_weights_with_its_shape_and_parameter_count():
    assert zoo.list_presets() == sorted(presets.PRESETS)
    for name in zoo.list_presets():
        meta = zoo.describe(name)
        model_name, dataset = presets.PRESETS[name]
        entry = presets.DATASETS[dataset]
        model = zoo.load(name, weights=False, compile=False)
        assert type(model).__name__ == presets.MODELS[model_name]["class"] == meta["model"]["class"]
        assert model.name == name
        assert model.image_shape == entry["image_shape"]
        assert meta["dataset"]["image_shape"] == list(entry["image_shape"])
        assert model.decoder.output_shape[1:] == entry["image_shape"]
        assert model.encoder.output_shape[1:] == model.latent_shape
        assert model.latent_size == meta["architecture"]["latent_size"]
        assert model.count_params() == meta["parameter_count"]
        if meta["model"]["class"] in ("Autoencoder", "ACAI"):
            expected = expected_parameters(meta["model"]["class"], entry, entry["num_classes"])
            assert model.count_params() == expected, name


def test_metadata_holds_the_recipe_and_only_the_papers_figures():
    meta = zoo.describe("acai_mnist_dz32")
    assert meta["recipe"]["optimizer"] == {
        "class_name": "Adam", "config": {"learning_rate": 1e-4, "epsilon": 1e-8},
    }  # fmt: skip
    assert meta["recipe"]["batch_size"] == 64 and meta["recipe"]["images"] == 2**24
    assert meta["recipe"]["command"] == "keras-latent train acai_mnist_dz32"
    assert meta["paper"]["probe_accuracy"] == 0.9825 and meta["weights"] is None
    assert zoo.describe("ae_lines")["paper"]["mean_distance"] == 6.88e-3
    assert zoo.describe("ae_cifar10")["paper"] is None
    card = (zoo.presets_dir() / "acai_mnist_dz32" / "README.md").read_text()
    assert (
        "keras-latent train acai_mnist_dz32" in card and "| probe_accuracy | - | 0.9825 |" in card
    )


def test_the_generator_keeps_trained_weights(tmp_path):
    model = presets.build("ae_lines", seed=1)
    zoo.save_preset(model, tmp_path / "ae_lines", metadata={"weights": {"images_seen": 64}})
    weights = (tmp_path / "ae_lines" / "model.weights.h5").read_bytes()
    saved = (tmp_path / "ae_lines" / "README.md").read_text()
    assert "do not edit by hand" not in saved and "| paper |" not in saved
    presets.build_presets(tmp_path, names=["ae_lines"])
    card = (tmp_path / "ae_lines" / "README.md").read_text()
    assert card.endswith("(`python -m keras_latent.zoo_build`); do not edit by hand.\n")
    assert "| smoothness | - | 0.44 |" in card
    meta = zoo.describe(tmp_path / "ae_lines")
    assert meta["name"] == "ae_lines" and "origin" not in meta and meta["paper"]
    assert meta["weights"]["images_seen"] == 64 and len(meta["weights"]["sha256"]) == 64
    assert meta["weights"]["seed"] == 1 and zoo.load(tmp_path / "ae_lines").seed is None
    assert (tmp_path / "ae_lines" / "model.weights.h5").read_bytes() == weights
    assert "| images seen | 64 |" in (tmp_path / "ae_lines" / "README.md").read_text()
    assert presets.build_presets(tmp_path, names=["ae_lines"], check=True) == []
    config = tmp_path / "ae_lines" / "config.json"
    config.write_text(config.read_text().replace('"depth": 16', '"depth": 8'))
    with pytest.raises(ValueError, match="has trained weights"):
        presets.build_presets(tmp_path, names=["ae_lines"])


def test_bad_names():
    with pytest.raises(ValueError, match="did you mean acai_mnist"):
        presets.check_name("acai_mnst")
    with pytest.raises(TypeError, match="must be a string"):
        presets.check_name(3)


def test_official_run_settings_of_the_baselines():
    """VQ-VAE on lines has latent_width 4 (d_z 256) as in the official runs/vqvae.sh; the VAE
    presets give out posterior samples, as the official vae.py; lines record their drawing."""
    assert presets.preset_architecture("vqvae_lines")["latent_width"] == 4
    assert presets.preset_architecture("ae_lines")["latent_width"] == 2
    model = presets.build("vqvae_lines")
    assert model.latent_size == 256 and model.latent_shape == (4, 4, 16)
    meta = zoo.describe("vqvae_lines")
    assert meta["architecture"]["latent_size"] == 256 and "d_z 256" in meta["description"]
    assert presets.build("vae_mnist").latent_mode == "sample"
    assert zoo.describe("acai_lines")["dataset"]["drawing"] == "official"
    assert presets.lines_drawing(zoo.describe("acai_lines")) == "centred"  # trained before
    assert presets.lines_drawing(zoo.describe("vae_lines")) == "official"
    card = (presets.ZOO_DIR / "acai_lines" / "README.md").read_text()
    assert "| drawing | centred: these weights were trained and are scored on the centred" in card


def test_celeba_is_trained_and_scored_on_all_its_images():
    """The official code reads celeba-train.tfrecord (all 202,599 images) for both."""
    assert presets.splits("celeba32") == ("all", "all")
    assert presets.splits("mnist") == ("train", "test") == presets.splits("lines")
