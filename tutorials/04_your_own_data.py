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
# # 4. Your own data: a folder of images to a saved preset
#
# Train ACAI on your own images: read a folder of PNG files, take a preset's architecture with
# fresh weights, `fit`, interpolate, save the result as a preset folder and load it back.
# We first write the folder ourselves (circles, squares and triangles drawn with Pillow);
# point `DATA` at your own folder instead.
#
# **Quick mode** (`KERAS_LATENT_TUTORIAL_QUICK=1`): few images and steps. Files go to
# `KERAS_LATENT_TUTORIAL_OUTPUT` (default `figures/`): the figures, the image folder
# (`shapes/`) and the saved preset (`acai_shapes/`).

# %%
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import keras_latent as kl
from keras_latent import plots

QUICK = os.environ.get("KERAS_LATENT_TUTORIAL_QUICK") == "1"
FIGURES = Path(os.environ.get("KERAS_LATENT_TUTORIAL_OUTPUT", "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
DATA = FIGURES / "shapes"  # your own folder of images here
PER_CLASS = 96 if QUICK else 1000  # images drawn per shape
EPOCHS = 3 if QUICK else 30

# %% [markdown]
# ## Write a folder of images
#
# One sub-folder per class: `shapes/circle/`, `shapes/square/`, `shapes/triangle/`, each shape
# at a random position and size, in white on black, saved as 64x64 greyscale PNG (larger
# than the model's 32x32: `from_directory` resizes).

# %%
rng = np.random.default_rng(0)


def draw_shape(kind, size=64):
    image = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(image)
    radius = rng.uniform(0.15, 0.35) * size
    cx, cy = rng.uniform(radius, size - radius, 2)
    if kind == "circle":
        pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    elif kind == "square":
        pen.rectangle((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    else:
        turn = rng.uniform(0, 2 * np.pi)
        corners = [
            (
                cx + radius * np.cos(turn + k * 2 * np.pi / 3),
                cy + radius * np.sin(turn + k * 2 * np.pi / 3),
            )
            for k in range(3)
        ]
        pen.polygon(corners, fill=255)
    return image


for kind in ("circle", "square", "triangle"):
    folder = DATA / kind
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(PER_CLASS):
        draw_shape(kind).save(folder / f"{i:04d}.png")
print(f"wrote {3 * PER_CLASS} images under {DATA}")

# %% [markdown]
# ## Read it with `from_directory`
#
# `kl.datasets.from_directory(path)` decodes every PNG/JPEG, converts to greyscale (here every
# image is greyscale) or RGB, centre-crops to a square, resizes to 32x32 and scales to
# [-1, 1]: the format of every model. With class sub-folders it also returns labels.

# %%
x, y, class_names = kl.datasets.from_directory(DATA, image_size=32)
print(x.shape, x.dtype, f"[{x.min():.1f}, {x.max():.1f}]", class_names, np.bincount(y))
order = rng.permutation(len(x))
x, y = x[order], y[order]
split = len(x) - len(x) // 8
x_train, x_test = x[:split], x[split:]
y_train = y[:split]
path = plots.save_grid(x[:24].reshape(3, 8, 32, 32, 1), FIGURES / "04_shapes.png")
plots.show(path)

# %% [markdown]
# ## A preset's architecture with fresh weights, then `fit`
#
# `kl.zoo.load("acai_mnist", weights=False)` is ACAI in the paper's MNIST configuration
# (32x32x1 images, d_z = 256), with fresh weights, compiled with the paper's optimizer. Any
# image size and channel count works with the model classes directly, e.g.
# `kl.ACAI(image_shape=(64, 64, 3), depth=32, latent=16, latent_width=4)`.
#
# The preset has the paper's linear probe (`num_classes=10`): given labels, `fit` trains one
# dense layer on the stop-gradient latent alongside the autoencoder and logs
# `probe_accuracy`, a first sign of what the codes know about the shape. (Without labels it
# logs a probe accuracy of 0.)

# %%
model = kl.zoo.load("acai_mnist", weights=False)
start = time.perf_counter()
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=2)
seconds = time.perf_counter() - start
print(f"{EPOCHS} epochs of {len(x_train)} images in {seconds:.0f} s")
error = np.mean((model.reconstruct(x_test) - x_test) ** 2)
print(f"test reconstruction MSE: {error:.4f}")

# %% [markdown]
# ## Interpolate between shapes

# %%
x_a, x_b = x_test[:6], x_test[6:12]
frames = model.interpolate(x_a, x_b, steps=10)
path = plots.save_interpolations(
    frames, FIGURES / "04_interpolations.png", title="ACAI on shapes", endpoints=(x_a, x_b)
)
plots.show(path)

# %% [markdown]
# ## Save as a preset, load it back
#
# `kl.zoo.save_preset(model, folder, metadata)` writes the preset layout atomically:
# `config.json`, `model.weights.h5`, `metadata.json` (ours, merged into the zoo's, with how
# the weights were trained under `"weights"`) and a `README.md` model card. `kl.zoo.load`
# takes the folder like a shipped name; the CLI too (`keras-latent interpolate FOLDER ...`).

# %%
preset = kl.zoo.save_preset(
    model,
    FIGURES / "acai_shapes",
    metadata={
        "description": "ACAI on circles, squares and triangles (tutorial 4)",
        "dataset": {"name": "shapes", "classes": class_names, "image_shape": [32, 32, 1]},
        "weights": {"images_seen": EPOCHS * len(x_train), "fit_time_s": round(seconds, 1)},
    },
)
print(sorted(p.name for p in preset.iterdir()))
loaded = kl.zoo.load(preset)
same = np.allclose(loaded.reconstruct(x_test), model.reconstruct(x_test), atol=1e-5)
print("loaded preset reconstructs exactly as the trained model:", same)
assert same
print(kl.zoo.describe(preset)["weights"]["images_seen"], "images seen")
