# ---
# jupyter:
#   jupytext:
#     formats: py:percent,ipynb
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Quickstart: a pretrained ACAI on MNIST
#
# Load a pretrained model from the zoo, reconstruct test digits, interpolate between two of
# them in latent space, and compare ACAI (Berthelot et al., ICLR 2019) with the plain
# autoencoder trained the same way.
#
# **Data.** MNIST is read from local files, never downloaded: set `KERAS_LATENT_DATA` to the
# folder holding `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz` (or pass
# `data_dir=` to `kl.datasets.load`; a prepared TensorFlow Datasets copy also works).
#
# **Quick mode.** `KERAS_LATENT_TUTORIAL_QUICK=1` shrinks every budget so the tutorial runs in
# a minute (that is how CI runs it); figures go to `KERAS_LATENT_TUTORIAL_OUTPUT` (default
# `figures/` in the working folder, which git ignores in this repository).

# %%
import os
from pathlib import Path

import numpy as np

import keras_latent as kl
from keras_latent import plots

QUICK = os.environ.get("KERAS_LATENT_TUTORIAL_QUICK") == "1"
FIGURES = Path(os.environ.get("KERAS_LATENT_TUTORIAL_OUTPUT", "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Load two presets
#
# A preset is a folder in the zoo: the architecture (`config.json`), how it was trained and
# what it scored (`metadata.json`) and its weights. `acai_mnist` and `ae_mnist` are the
# paper's MNIST configuration (32x32 inputs, a 4x4x16 latent: d_z = 256), trained with the
# same recipe; only ACAI's critic differs.

# %%
acai = kl.zoo.load("acai_mnist")
ae = kl.zoo.load("ae_mnist")
for name in ("acai_mnist", "ae_mnist"):
    trained = kl.zoo.describe(name).get("weights") or {}
    print(name, "- images seen:", trained.get("images_seen"), "- backend:", trained.get("backend"))
print("latent shape:", acai.latent_shape, "d_z =", acai.latent_size)

# %% [markdown]
# ## Reconstruct test digits
#
# `kl.datasets.load` returns NHWC float32 images in [-1, 1], padded from 28x28 to 32x32 as
# in the paper. Every model has `encode`, `decode` and `reconstruct`, numpy in, numpy out.

# %%
x_test, y_test = kl.datasets.load("mnist", "test")
n_score = 500 if QUICK else len(x_test)
for name, model in (("ACAI", acai), ("AE", ae)):
    error = np.mean((model.reconstruct(x_test[:n_score]) - x_test[:n_score]) ** 2)
    print(f"{name}: reconstruction MSE on {n_score} test digits = {error:.4f}")

digits = x_test[:10]
rows = np.stack([digits, acai.reconstruct(digits), ae.reconstruct(digits)])
path = plots.save_grid(
    rows,
    FIGURES / "01_reconstructions.png",
    title="Ten test digits and their reconstructions",
    row_labels=["test digit", "ACAI", "autoencoder"],
)
plots.show(path)

# %% [markdown]
# ## Interpolate between two digits
#
# `interpolate(x_a, x_b, steps)` encodes both images, mixes the codes linearly,
# `z_t = (1 - t) z_a + t z_b` for `t = k / (steps - 1)`, and decodes every mix. The
# endpoints are reconstructions; what matters is the middle. A pixel-space cross-fade is
# drawn for reference: it passes through images that are no digit at all. ACAI's critic
# was trained to tell decoded mixes from reconstructions, so its decoder learned to make
# the middle of an interpolation look like data.

# %%
pick = [int(np.flatnonzero(y_test == digit)[0]) for digit in (2, 7)]
x_a, x_b = x_test[pick[0]][None], x_test[pick[1]][None]
steps = 10
t = np.linspace(0.0, 1.0, steps, dtype="float32")[None, :, None, None, None]
cross_fade = (1 - t) * x_a[:, None] + t * x_b[:, None]
rows = np.concatenate(
    [cross_fade, ae.interpolate(x_a, x_b, steps=steps), acai.interpolate(x_a, x_b, steps=steps)]
)
path = plots.save_grid(
    rows,
    FIGURES / "01_one_pair.png",
    title="From a 2 to a 7: a pixel cross-fade and two latent interpolations",
    row_labels=["pixels", "autoencoder", "ACAI"],
    col_labels=[f"t={v:.2f}" for v in t.ravel()],
)
plots.show(path)

# %% [markdown]
# The same for several pairs, one pair a row (column A: input `x_a`, column B: input `x_b`;
# between them the decoded mixes at `t`):

# %%
pairs = 4 if QUICK else 8
x_a, x_b = x_test[:pairs], x_test[pairs : 2 * pairs]
for name, model in (("acai", acai), ("ae", ae)):
    frames = model.interpolate(x_a, x_b, steps=12)
    path = plots.save_interpolations(
        frames,
        FIGURES / f"01_interpolation_{name}.png",
        title=f"{name}_mnist: {pairs} test pairs",
        endpoints=(x_a, x_b),
    )
    plots.show(path)

# %% [markdown]
# ## Where next
#
# - Train a model of your own: `keras-latent train acai_lines --steps 200` trains ACAI on the
#   paper's synthetic lines for a few minutes, then draws the same test pairs through your run
#   and through the shipped `acai_lines` (`runs/acai_lines/interpolation_vs_shipped.png`):
#   200 steps still decode about the mean image; the shipped 8,000 steps rotate the line.
# - Tutorial 2 measures interpolation quality on the paper's synthetic lines benchmark.
# - Tutorial 5 compares the two latent spaces as representations (linear probe, clustering).
# - From the shell: `keras-latent interpolate acai_mnist --from a.png --to b.png`.
