"""The wheel ships the zoo: built from a copy of the repository holding a trained preset,
installed into a fresh virtual environment, loaded from another directory. Offline: the venv
sees the test run's keras/TensorFlow (the running interpreter's site-packages, appended to its
path, whether that interpreter is a system one or itself in a venv), pip installs
``--no-deps --no-index``."""

import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from keras_latent import presets, zoo
from keras_latent.datasets.lines import draw
from tests.helpers import REPO

IGNORED = shutil.ignore_patterns(
    ".git", "runs", "build", "dist", "*.egg-info", "__pycache__", ".venv*", ".pytest_cache"
)


def run(command, cwd, env=None):
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_built_wheel_loads_a_shipped_preset_with_weights(tmp_path):
    source = shutil.copytree(REPO, tmp_path / "source", ignore=IGNORED)
    # Train ae_lines a little and save it into the copy's zoo/ as the lead would.
    model = presets.build("ae_lines", seed=0)
    images = draw(np.linspace(0.0, 6.0, 8))
    model.fit(images, epochs=1, batch_size=8, verbose=0)
    zoo.save_preset(model, source / "zoo" / "ae_lines", metadata={"weights": {"images_seen": 8}})
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "expected.npy", model.reconstruct(images))

    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", "."],
        cwd=source)  # fmt: skip
    wheels = list((tmp_path / "dist").glob("keras_latent-*.whl"))
    assert len(wheels) == 1
    run([sys.executable, "-m", "venv", "--system-site-packages", tmp_path / "venv"], cwd=tmp_path)
    python = tmp_path / "venv" / "bin" / "python"
    # --system-site-packages reaches only the base interpreter's packages; when pytest runs in a
    # venv, its packages are added as plain path lines, after the wheel's, so a .pth hook there
    # (an editable install of keras-latent) is not run.
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    own = run([python, "-c", purelib], cwd=tmp_path)
    parents = [p for p in site.getsitepackages() if os.path.isdir(p)]
    (Path(own.strip()) / "test_run_packages.pth").write_text("\n".join(parents) + "\n")
    run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheels[0]], cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_LATENT_HOME")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1")
    code = textwrap.dedent(
        f"""
        import numpy as np
        import keras_latent as kl
        assert kl.__file__.startswith({str(tmp_path / "venv")!r}), kl.__file__
        assert kl.zoo.presets_dir().name == "presets_data", kl.zoo.presets_dir()
        listing = kl.zoo.list_presets(details=True)
        assert listing["ae_lines"]["weights"], listing
        assert not listing["vqvae_cifar10_dz1024"]["weights"], listing
        assert len(listing) == {len(zoo.list_presets())}
        model = kl.zoo.load("ae_lines")
        got = model.reconstruct(np.load({str(tmp_path / "images.npy")!r}))
        np.testing.assert_allclose(got, np.load({str(tmp_path / "expected.npy")!r}), atol=1e-5)
        print("loaded", model.name, kl.zoo.describe("ae_lines")["weights"]["images_seen"])
        shipped = kl.zoo.load("eccentric_mnist", compile=False)  # its latent sampler ships too
        assert shipped.sample(2, seed=0).shape == (2, 32, 32, 1)
        """
    )
    out = run([python, "-c", code], cwd=elsewhere, env=env)
    assert "loaded ae_lines 8" in out
