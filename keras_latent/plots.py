"""PNG grids of images in [-1, 1], and training curves, drawn with matplotlib (no display
needed).

Every figure is laid out for reading at a glance: each image is scaled up by a whole factor
(to about :data:`CELL_PIXELS` pixels a side), cells are separated by white gaps, the title is
:data:`TITLE_POINTS` pt (wrapped to the figure's width) and row, column and cell labels are
:data:`LABEL_POINTS` and :data:`CAPTION_POINTS` pt, at :data:`DPI` dots per inch.
"""

import math
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from keras_latent.files import atomic_path  # noqa: E402

DPI = 100
"""Dots per inch of the saved PNGs."""
CELL_PIXELS = 64
"""About how many PNG pixels a cell's side takes (images are scaled up by a whole factor)."""
TITLE_POINTS = 13
LABEL_POINTS = 11
"""Row and column labels, and panel headings."""
CAPTION_POINTS = 10
"""The label under each cell of a wrapped one-pair interpolation."""
WRAP_CELLS = 8
"""A one-pair interpolation of more cells than this is wrapped into rows (see
:func:`save_interpolations`)."""
_PAD = 0.12  # inches of margin around everything
_CHAR = 0.6  # a character's width in ems, generous for matplotlib's default sans-serif font
_LINE = 1.35  # a text line's height in ems


def tile(images, gap=0, fill=1.0):
    """``(rows, cols, H, W, C)`` in [-1, 1] -> one array in [0, 1] of the cells side by side.

    ``gap``: pixels of ``fill`` (in [0, 1]; 1 is white) between neighbouring cells, an int or
    ``(between rows, between columns)``. The result is ``(rows*H + (rows-1)*gap_rows,
    cols*W + (cols-1)*gap_cols, C)``.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 5:
        raise ValueError(f"expected (rows, cols, H, W, C) images, got shape {images.shape}")
    row_gap, col_gap = (gap, gap) if np.isscalar(gap) else gap
    rows, cols, h, w, c = images.shape
    grid = np.full(
        (rows * h + (rows - 1) * row_gap, cols * w + (cols - 1) * col_gap, c),
        fill,
        dtype="float32",
    )
    for r in range(rows):
        for k in range(cols):
            y, x = r * (h + row_gap), k * (w + col_gap)
            grid[y : y + h, x : x + w] = np.clip((images[r, k] + 1.0) / 2.0, 0.0, 1.0)
    return grid


def _em(points):
    return points / 72.0


def _text_width(text, points):
    return len(str(text)) * _CHAR * _em(points)


def _check_labels(labels, count, what):
    if labels is None:
        return None
    labels = [str(label) for label in labels]
    if len(labels) != count:
        raise ValueError(f"{what} must have {count} entries, got {len(labels)}")
    return labels


def grid_figure(blocks, title=None):
    """The matplotlib figure that :func:`save_grid` and :func:`save_panels` save.

    ``blocks``: a list of dicts, drawn top to bottom, each with ``images`` (``(rows, cols, H,
    W, C)`` in [-1, 1]; every block the same ``cols``, ``H``, ``W`` and ``C``) and optionally
    ``heading`` (a line above the block), ``row_labels`` (``rows`` strings, left of the rows),
    ``col_labels`` (``cols`` strings, above the columns) and ``captions`` (``rows`` lists of
    ``cols`` strings, one under each cell; ``""`` for none). Each block is one axes holding the
    tiled images (:func:`tile`, white gaps of about a tenth of a cell). Close it with
    ``matplotlib.pyplot.close``.
    """
    if not blocks:
        raise ValueError("a figure needs at least one block of images")
    prepared = []
    for block in blocks:
        images = np.asarray(block["images"], dtype="float32")
        if images.ndim != 5:
            raise ValueError(f"expected (rows, cols, H, W, C) images, got shape {images.shape}")
        rows, cols = images.shape[:2]
        captions = block.get("captions")
        if captions is not None:
            captions = [_check_labels(row, cols, "each row of captions") for row in captions]
            _check_labels(captions, rows, "captions")
        prepared.append(
            {
                "images": images,
                "heading": block.get("heading"),
                "row_labels": _check_labels(block.get("row_labels"), rows, "row_labels"),
                "col_labels": _check_labels(block.get("col_labels"), cols, "col_labels"),
                "captions": captions,
            }
        )
    shape = prepared[0]["images"].shape[1:]
    for block in prepared[1:]:
        if block["images"].shape[1:] != shape:
            raise ValueError(
                f"every block must have the same (cols, H, W, C) {shape}, got "
                f"{block['images'].shape[1:]}"
            )
    cols, h, w, channels = shape
    scale = max(1, round(CELL_PIXELS / max(h, w)))  # screen pixels per image pixel
    gap = max(2, math.ceil(max(h, w) / 10))  # image pixels between cells
    inch = scale / DPI  # inches per image pixel
    caption_gap = math.ceil(_LINE * _em(CAPTION_POINTS) / inch) + 2  # room for a caption

    grid_width = (cols * w + (cols - 1) * gap) * inch
    labels = [label for b in prepared for label in (b["row_labels"] or [])]
    label_width = max((_text_width(label, LABEL_POINTS) for label in labels), default=0.0)
    left = _PAD + (label_width + 0.1 if labels else 0.0)
    width = max(
        left + grid_width + _PAD,
        2 * _PAD + max(_text_width(b["heading"] or "", LABEL_POINTS) for b in prepared),
    )
    title_lines = []
    if title:
        per_line = max(12, int((width - 2 * _PAD) / (_CHAR * _em(TITLE_POINTS))))
        title_lines = textwrap.wrap(str(title), per_line)

    # Lay out from the top, in inches.
    items, y = [], _PAD
    if title_lines:
        items.append(("title", y, "\n".join(title_lines)))
        y += len(title_lines) * _LINE * _em(TITLE_POINTS) + 0.08
    for index, block in enumerate(prepared):
        if index:
            y += 0.25  # between panels
        if block["heading"]:
            items.append(("heading", y, block["heading"]))
            y += _LINE * _em(LABEL_POINTS) + 0.04
        if block["col_labels"]:
            y += _LINE * _em(LABEL_POINTS)
        rows = block["images"].shape[0]
        row_gap = gap + (caption_gap if block["captions"] else 0)
        grid_height = (rows * h + (rows - 1) * row_gap) * inch
        items.append(("block", y, (block, row_gap, grid_height)))
        y += grid_height + (caption_gap * inch if block["captions"] else 0.0)
    height = y + _PAD

    figure = plt.figure(figsize=(width, height), dpi=DPI)
    for kind, top, content in items:
        if kind == "title":
            figure.text(
                width / 2, height - top, content, ha="center", va="top",
                fontsize=TITLE_POINTS, transform=figure.dpi_scale_trans,
            )  # fmt: skip
        elif kind == "heading":
            figure.text(
                left, height - top, content, ha="left", va="top", fontsize=LABEL_POINTS,
                fontweight="bold", transform=figure.dpi_scale_trans,
            )  # fmt: skip
        else:
            block, row_gap, grid_height = content
            _draw_block(figure, block, (left, height - top - grid_height), grid_width,
                        grid_height, (width, height), gap, row_gap)  # fmt: skip
    return figure


def _draw_block(figure, block, corner, grid_width, grid_height, size, gap, row_gap):
    """One block's axes (its bottom-left ``corner`` in inches) and its labels."""
    width, height = size
    axes = figure.add_axes(
        (corner[0] / width, corner[1] / height, grid_width / width, grid_height / height)
    )
    grid = tile(block["images"], gap=(row_gap, gap))
    if grid.shape[-1] == 1:
        axes.imshow(grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        axes.imshow(grid, interpolation="nearest")
    axes.set_axis_off()
    rows, cols, h, w = block["images"].shape[:4]
    for r, label in enumerate(block["row_labels"] or []):
        y = r * (h + row_gap) + h / 2 - 0.5
        axes.text(-gap - 0.5, y, label, ha="right", va="center", fontsize=LABEL_POINTS)
    for k, label in enumerate(block["col_labels"] or []):
        x = k * (w + gap) + w / 2 - 0.5
        axes.text(x, -gap / 2 - 0.5, label, ha="center", va="bottom", fontsize=LABEL_POINTS)
    for r, row in enumerate(block["captions"] or []):
        for k, caption in enumerate(row):
            x, y = k * (w + gap) + w / 2 - 0.5, r * (h + row_gap) + h + 0.5
            axes.text(x, y, caption, ha="center", va="top", fontsize=CAPTION_POINTS)
    return axes


def _save(figure, path):
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=DPI, facecolor="white")
    plt.close(figure)
    return path


def save_grid(images, path, title=None, row_labels=None, col_labels=None, captions=None):
    """Save ``(rows, cols, H, W, C)`` images in [-1, 1] as a PNG grid (greyscale for one
    channel), with optional labels (see :func:`grid_figure`). Returns ``path``."""
    block = {"images": images, "row_labels": row_labels, "col_labels": col_labels,
             "captions": captions}  # fmt: skip
    return _save(grid_figure([block], title=title), path)


def save_panels(panels, path, title=None):
    """Save blocks of images stacked top to bottom, each a dict as in :func:`grid_figure`
    (``heading`` names a panel). Returns ``path``."""
    return _save(grid_figure(list(panels), title=title), path)


def interpolation_blocks(frames, endpoints=None, heading=None, row_labels=None):
    """The :func:`grid_figure` blocks of ``(pairs, steps, H, W, C)`` interpolations.

    ``endpoints=(x_a, x_b)``, each ``(pairs, H, W, C)``: the input images, drawn first and last
    so that the decoded steps can be compared with what they interpolate. Several pairs: one
    pair per row, the columns labelled ``A``, ``t`` (the mixing coefficient ``k / (steps -
    1)``) and ``B``. One pair of more than :data:`WRAP_CELLS` cells: wrapped into rows of about
    twice as many columns as rows, read left to right, top to bottom, each cell captioned.
    """
    frames = np.asarray(frames, dtype="float32")
    if frames.ndim != 5:
        raise ValueError(f"expected (pairs, steps, H, W, C) frames, got shape {frames.shape}")
    pairs, steps = frames.shape[:2]
    ts = [f"{t:.2f}" if 0 < t < 1 else f"{t:.0f}" for t in np.linspace(0.0, 1.0, steps)]
    names = [f"t={t}" for t in ts]  # the one-pair captions
    col_labels = [names[0], *ts[1:]]  # the columns of several pairs
    if endpoints is not None:
        x_a, x_b = (np.asarray(x, dtype="float32") for x in endpoints)
        if x_a.shape != frames[:, 0].shape or x_b.shape != frames[:, 0].shape:
            raise ValueError(
                f"endpoints must each have shape {frames[:, 0].shape}, got {x_a.shape} and "
                f"{x_b.shape}"
            )
        frames = np.concatenate([x_a[:, None], frames, x_b[:, None]], axis=1)
        names = ["input A", *names, "input B"]
        col_labels = ["A", *col_labels, "B"]
    cells = frames.shape[1]
    if pairs == 1 and cells > WRAP_CELLS and row_labels is None:
        cols = math.ceil(math.sqrt(2 * cells))
        rows = math.ceil(cells / cols)
        blank = np.ones((rows * cols - cells, *frames.shape[2:]), dtype="float32")  # white
        images = np.concatenate([frames[0], blank]).reshape(rows, cols, *frames.shape[2:])
        captions = np.array(names + [""] * len(blank)).reshape(rows, cols).tolist()
        return [{"images": images, "heading": heading, "captions": captions}]
    return [{"images": frames, "heading": heading, "row_labels": row_labels,
             "col_labels": col_labels}]  # fmt: skip


def save_interpolations(frames, path, title=None, endpoints=None, row_labels=None):
    """``(pairs, steps, H, W, C)`` interpolations as a PNG (see :func:`interpolation_blocks`:
    one pair per row, or one pair wrapped into a captioned grid). Returns ``path``."""
    return save_panels(interpolation_blocks(frames, endpoints, row_labels=row_labels), path,
                       title=title)  # fmt: skip


def save_component_traversals(model, x, path, components=8, steps=9, extent=2.0, title=None):
    """PNG grid of decoded traversals along the top principal components of ``model``'s codes.

    Row ``k`` decodes ``mean + t sqrt(variance_k) v_k`` for ``steps`` values of ``t`` from
    ``-extent`` to ``extent``, with ``v_k`` the ``k``-th principal component of the codes of
    images ``x`` (largest variance first). Zero-variance components are allowed (their rows
    are constant). Rows are labelled ``PC k``, columns ``t``. Returns ``path``.
    """
    pcs = model.principal_components(x, allow_singular=True)
    components = int(components)
    if not 1 <= components <= len(pcs.variances):
        raise ValueError(f"components must lie in [1, {len(pcs.variances)}], got {components}")
    codes = np.concatenate([pcs.traverse(k, steps, extent) for k in range(components)])
    images = model.decode(codes).reshape((components, int(steps), *model.image_shape))
    if title is None:
        title = f"principal components 1-{components}, t in [-{extent:g}, {extent:g}] std"
    return save_grid(
        images,
        path,
        title=title,
        row_labels=[f"PC {k + 1}" for k in range(components)],
        col_labels=[f"{t:.2g}" for t in np.linspace(-extent, extent, int(steps))],
    )


def save_training_curves(runs, path, references=None, total_images=None, title=None):
    """Two panels against images seen (millions): the in-training probe's test accuracy and
    the test reconstruction MSE (log scale), one line per run.

    ``runs``: ``{label: evaluations}``, each the ``evaluations`` a training checkpoint records
    (lists ``images_seen``, ``probe_accuracy``, ``reconstruction_mse``); a run with none is
    left out. ``references``: ``{label: accuracy}`` drawn as dashed horizontal lines (the
    paper's figures), each in the colour of the run of the same position. ``total_images``:
    the x axis' end. Returns ``path``.
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (label, evaluations) in enumerate(runs.items()):
        millions = np.asarray(evaluations.get("images_seen") or [], dtype="float64") / 1e6
        if not len(millions):
            continue
        style = {"label": label, "color": colours[index % len(colours)]}
        left.plot(millions, 100 * np.asarray(evaluations["probe_accuracy"]), **style)
        right.plot(millions, evaluations["reconstruction_mse"], **style)
    for index, (label, accuracy) in enumerate((references or {}).items()):
        left.axhline(100 * accuracy, ls="--", lw=1, color=colours[index % len(colours)])
        left.annotate(f"{label}: {100 * accuracy:.2f}%", (1.0, 100 * accuracy),
                      xycoords=("axes fraction", "data"), ha="right", va="bottom",
                      fontsize=8)  # fmt: skip
    left.set(xlabel="images seen (millions)", ylabel="test accuracy (%)",
             title="in-training linear probe")  # fmt: skip
    right.set(xlabel="images seen (millions)", ylabel="test MSE", yscale="log",
              title="test reconstruction MSE")  # fmt: skip
    for axes in (left, right):
        if total_images:
            axes.set_xlim(0, total_images / 1e6)
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=8, loc="lower left" if axes is left else "upper right")
    if title:
        figure.suptitle(title, fontsize=TITLE_POINTS)
    return _save(figure, path)


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
