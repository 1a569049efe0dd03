"""Model cards (``keras_latent.cards``): what a preset's README.md says, from its metadata."""

import pytest

from keras_latent import cards, presets, zoo


def test_model_card_puts_measured_metrics_beside_the_papers():
    meta = presets.metadata("acai_lines", parameter_count=10)
    meta["weights"] = {"images_seen": 128000, "metrics": {"mean_distance": 5.74e-3}}
    card = cards.model_card(meta, generated=True)
    assert "| images seen | 128,000 |" in card
    assert "| mean_distance | 0.00574 | 0.00024 |" in card
    assert "| smoothness | - | 0.1 |" in card
    # Not written by zoo_build (a saved preset, a run): measured only, no generated footer.
    card = cards.model_card(meta, location="runs/acai_lines")
    assert "| metric | measured |\n" in card and "| mean_distance | 0.00574 |\n" in card
    assert "0.00024" not in card and "smoothness" not in card
    assert "Paper figures" not in card and "do not edit" not in card
    assert 'kl.zoo.load("runs/acai_lines")' in card


def test_training_statistic_is_the_median_of_the_last_20_evaluations():
    accuracies = [0.5] * 5 + [0.9 + i / 1000 for i in range(20)]
    assert cards.training_statistic({"probe_accuracy": accuracies}) == {
        "probe_accuracy_median_last_20": pytest.approx(0.9095)
    }
    assert cards.training_statistic({"probe_accuracy": accuracies[:19]}) == {}
    assert cards.training_statistic(None) == {}


def test_model_card_shows_the_evaluations_during_training():
    """Issue 24 (2): the paper's probe figure sits beside its statistic (the median of the last
    20 in-training evaluations), not the final value; the card's section gives both and shows
    the figure the folder holds."""
    accuracies = [0.5] * 5 + [0.9 + i / 1000 for i in range(20)]
    evaluations = {
        "images_seen": [65536 * (i + 1) for i in range(25)],
        "step": [1024 * (i + 1) for i in range(25)],
        "probe_accuracy": accuracies,
        "reconstruction_mse": [0.02] * 25,
    }
    meta = presets.metadata("acai_mnist", parameter_count=10)
    meta["weights"] = {
        "images_seen": 25 * 65536,
        "metrics": {"probe_accuracy": 0.919, **cards.training_statistic(evaluations)},
        "evaluations": evaluations,
        "evaluations_figure": "in_training.png",
    }
    card = cards.model_card(meta, generated=True)
    assert "| probe_accuracy | 0.919 | - |" in card
    assert "| probe_accuracy_median_last_20 | 0.9095 | 0.99 |" in card
    assert "the median test accuracy of that probe over its last 20 evaluations" in card
    assert "## During training" in card
    assert "scored on the test split 25 times during training, every 65,536 images" in card
    assert "the last, at 1,638,400 images: probe accuracy 0.919, test MSE 0.02." in card
    assert "median of the last 20 probe accuracies: here 0.9095." in card
    assert "](in_training.png)" in card
    # Fewer than 20 evaluations: no statistic, the paper's figure beside the final value.
    short = {key: values[:3] for key, values in evaluations.items()}
    meta["weights"].update(evaluations=short, metrics={"probe_accuracy": 0.5})
    del meta["weights"]["evaluations_figure"]
    card = cards.model_card(meta, generated=True)
    assert "| probe_accuracy | 0.5 | 0.99 |" in card and "3 times during training" in card
    assert "median of the last" not in card and "in_training.png" not in card
    del meta["weights"]["evaluations"]
    assert "## During training" not in cards.model_card(meta, generated=True)


def test_cards_state_the_settings_their_metrics_were_measured_with():
    """Issue 29 (2): a card renders ``weights.evaluation`` (probe epochs, K-means restarts, the
    command) and how to repeat it; every shipped image preset with weights records one."""
    meta = presets.metadata("acai_mnist", parameter_count=10)
    meta["weights"] = {
        "images_seen": 64,
        "metrics": {"linear_probe_accuracy": 0.9},
        "evaluation": {"probe_epochs": 50, "kmeans_restarts": 100, "command": "keras-latent x"},
    }
    card = cards.model_card(meta, generated=True)
    assert "| frozen-latent probe epochs | 50 |" in card and "| K-means restarts | 100 |" in card
    assert "| measured with | `keras-latent x` |" in card
    assert "`keras-latent evaluate acai_mnist --data-dir DIR` repeats this evaluation" in card
    saved = cards.model_card(meta, location="runs/mine")
    assert "`keras-latent evaluate runs/mine --data-dir DIR`" in saved
    del meta["weights"]["evaluation"]
    assert "Evaluation settings" not in cards.model_card(meta, generated=True)
    for name, entry in zoo.list_presets(details=True).items():
        weights = zoo.describe(name)["weights"]
        if not entry["weights"] or zoo.describe(name)["dataset"]["data"] == "lines":
            continue
        settings = weights["evaluation"]
        assert settings["probe_epochs"] == 50, name
        assert settings["kmeans_restarts"] in (100, 1000), name  # 1000: the paper's
        card = (zoo.presets_dir() / name / "README.md").read_text()
        assert "| frozen-latent probe epochs | 50 |" in card, name
        assert f"| K-means restarts | {settings['kmeans_restarts']:,} |" in card, name


def test_model_card_shows_the_interpolation_figure():
    """Issue 24 (3): a card shows the interpolation grid its weights record, with its pairs,
    steps and command; a card without one has no such section."""
    meta = presets.metadata("acai_mnist", parameter_count=10)
    meta["weights"] = {
        "images_seen": 64,
        "interpolation_figure": {
            "dataset": "mnist", "split": "test", "pairs": [[0, 8], [1, 9]], "steps": 16,
            "method": "linear", "command": "python -m keras_latent.zoo_figures acai_mnist",
            "file": "interpolation.png", "sha256": "0" * 64,
        },
    }  # fmt: skip
    card = cards.model_card(meta, generated=True)
    assert "## Interpolations" in card
    assert (
        "between 2 fixed pairs of mnist test items (by index: 0 to 8, 1 to 9), 16 decoded" in card
    )
    assert "Drawn by `python -m keras_latent.zoo_figures acai_mnist`." in card
    assert "](interpolation.png)" in card and card.endswith(cards.GENERATED_FOOTER + "\n")
    del meta["weights"]["interpolation_figure"]
    assert "## Interpolations" not in cards.model_card(meta, generated=True)
