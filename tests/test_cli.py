"""The keras-latent command, end to end on a few steps (in process, the session's backend)."""

import json

import matplotlib.image
import pytest

from keras_latent import cli


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "ae_lines"
    code = cli.main(
        ["train", "ae_lines", "--steps", "4", "--steps-per-epoch", "2", "--output", str(run),
         "--eval-pairs", "8"]
    )  # fmt: skip
    assert code == 0
    return run


def test_train_writes_a_complete_run_folder(trained_run, capsys):
    assert {p.name for p in trained_run.iterdir()} >= {
        "config.json", "model.weights.h5", "metrics.json", "interpolation.png",
    }  # fmt: skip
    record = json.loads((trained_run / "metrics.json").read_text())
    training = record["training"]
    assert training["steps"] == 4 and training["images_seen"] == 4 * 64
    assert training["backend"] and training["fit_time_s"] > 0
    assert len(training["history"]["loss"]) == 2
    assert set(record["lines"]) >= {"mean_distance", "smoothness", "pairs", "steps"}
    assert record["paper_lines"] == {"mean_distance": 6.88e-3, "smoothness": 0.44}
    image = matplotlib.image.imread(trained_run / "interpolation.png")
    assert image.shape[0] > 100 and image[..., :3].std() > 0.05  # drawn, not blank


def test_evaluate_and_interpolate_a_run(trained_run, tmp_path, capsys):
    assert cli.main(["evaluate", str(trained_run), "--pairs", "4"]) == 0
    printed = capsys.readouterr().out
    assert '"mean_distance"' in printed and '"pairs": 4' in printed
    png = tmp_path / "grid.png"
    code = cli.main(
        ["interpolate", str(trained_run), "--pairs", "3", "--steps", "5", "--method", "slerp",
         "--output", str(png)]
    )  # fmt: skip
    assert code == 0 and png.stat().st_size > 1000


def test_bad_requests_fail_cleanly(tmp_path, capsys):
    assert cli.main(["train", "gan_lines", "--steps", "1", "--output", str(tmp_path / "x")]) == 2
    assert "unknown recipe 'gan_lines'" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["train", "ae_lines", "--steps", "0"]) == 2
