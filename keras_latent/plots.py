"""PNG grids of images in [-1, 1], drawn with matplotlib (no display needed)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from keras_latent.files import atomic_path  # noqa: E402


def tile(images):
    """``(rows, cols, H, W, C)`` in [-1, 1] -> one ``(rows*H, cols*W, C)`` array in [0, 1]."""
    images = np.asarray(images, dtype="float32")
    if images.ndim != 5:
        raise ValueError(f"expected (rows, cols, H, W, C) images, got shape {images.shape}")
    rows, cols, h, w, c = images.shape
    grid = images.transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)
    return np.clip((grid + 1.0) / 2.0, 0.0, 1.0)


def save_grid(images, path, title=None, pixels_per_inch=32):
    """Save ``(rows, cols, H, W, C)`` images as a PNG grid (greyscale for one channel)."""
    grid = tile(images)
    height, width = grid.shape[:2]
    figure = plt.figure(figsize=(width / pixels_per_inch, height / pixels_per_inch + 0.4))
    axes = figure.add_axes((0, 0, 1, height / (height + 0.4 * pixels_per_inch)))
    if grid.shape[-1] == 1:
        axes.imshow(grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        axes.imshow(grid, interpolation="nearest")
    axes.set_axis_off()
    if title:
        figure.suptitle(title, fontsize=9, y=0.995, va="top")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=pixels_per_inch * 2)
    plt.close(figure)
    return path


def save_interpolations(frames, path, title=None, endpoints=None):
    """``(pairs, steps, H, W, C)`` interpolations, one pair per row, as a PNG.

    ``endpoints=(x_a, x_b)``, each ``(pairs, H, W, C)``: the input images, drawn as the first
    and last columns so that the decoded steps can be compared with what they interpolate.
    """
    frames = np.asarray(frames, dtype="float32")
    if endpoints is not None:
        x_a, x_b = (np.asarray(x, dtype="float32") for x in endpoints)
        if x_a.shape != frames[:, 0].shape or x_b.shape != frames[:, 0].shape:
            raise ValueError(
                f"endpoints must each have shape {frames[:, 0].shape}, got {x_a.shape} and "
                f"{x_b.shape}"
            )
        frames = np.concatenate([x_a[:, None], frames, x_b[:, None]], axis=1)
    return save_grid(frames, path, title=title)


def save_component_traversals(model, x, path, components=8, steps=9, extent=2.0, title=None):
    """PNG grid of decoded traversals along the top principal components of ``model``'s codes.

    Row ``k`` decodes ``mean + t sqrt(variance_k) v_k`` for ``steps`` values of ``t`` from
    ``-extent`` to ``extent``, with ``v_k`` the ``k``-th principal component of the codes of
    images ``x`` (largest variance first). Zero-variance components are allowed (their rows
    are constant). Returns ``path``.
    """
    pcs = model.principal_components(x, allow_singular=True)
    components = int(components)
    if not 1 <= components <= len(pcs.variances):
        raise ValueError(f"components must lie in [1, {len(pcs.variances)}], got {components}")
    codes = np.concatenate([pcs.traverse(k, steps, extent) for k in range(components)])
    images = model.decode(codes).reshape((components, int(steps), *model.image_shape))
    if title is None:
        title = f"principal components 1-{components}, t in [-{extent:g}, {extent:g}] std"
    return save_grid(images, path, title=title)


def show(path):
    """Display a saved figure inline under IPython/Jupyter; elsewhere print its path."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Image(filename=str(path)))
    else:
        print(f"figure: {path}")
