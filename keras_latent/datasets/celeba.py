"""CelebA's aligned faces (218x178 JPEGs) from their standard files, as ``celeba32``.

Files, in a searched folder: the extracted ``img_align_celeba/`` folder (``000001.jpg`` to
``202599.jpg``) or ``img_align_celeba.zip`` itself (read in place, not extracted); with an
optional ``list_eval_partition.txt`` beside it. Splits are CelebA's standard partition: train
``000001-162770`` (162,770 images), validation ``162771-182637`` (19,867), test
``182638-202599`` (19,962), taken from ``list_eval_partition.txt`` where present, else from
the file numbers; ``all`` is every image (the official ACAI code trained and evaluated on
all of them). Images are decoded with Pillow and preprocessed by
:func:`keras_latent.datasets.preprocess.preprocess_into`. There are no class labels: y is
None.
"""

import re
import zipfile
from pathlib import Path

import numpy as np

from keras_latent.datasets.decode import BadImage, decode_all, open_image, to_array
from keras_latent.datasets.preprocess import IMAGE_SIZE, RAW_SHAPES, preprocess_into

FOLDER = "img_align_celeba"
ZIP = "img_align_celeba.zip"
PARTITION_FILE = "list_eval_partition.txt"
PARTITION = {"train": (1, 162770), "validation": (162771, 182637), "test": (182638, 202599)}
_PARTITION_CODES = {"train": "0", "validation": "1", "test": "2"}


def describe(name, split):
    return f"{FOLDER}/ (000001.jpg, ...) or {ZIP}, optionally with {PARTITION_FILE}"


def find(name, split, folder):
    """A reader of the CelebA split from ``folder``, or None if it holds neither form."""
    if (folder / FOLDER).is_dir():
        files = sorted(p for p in (folder / FOLDER).iterdir() if p.suffix.lower() == ".jpg")
        entries = [(p.name, p) for p in files]
        return lambda: read(_select(entries, split, folder), split)
    if (folder / ZIP).is_file():
        return lambda: _read_zip(folder / ZIP, split, folder)
    return None


def _read_zip(path, split, folder):
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                m for m in archive.namelist() if m.lower().endswith(".jpg") and "__MACOSX" not in m
            )
            entries = [(Path(m).name, (archive, m)) for m in members]
            return read(_select(entries, split, folder), split, label=f"{path}:")
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable zip file: {error}") from None


def _select(entries, split, folder):
    """The ``(file name, source)`` entries of ``split``, in file-name order."""
    if not entries:
        raise ValueError(f"no .jpg images in {folder / FOLDER} or {folder / ZIP}")
    if split == "all":
        return entries
    partition_file = folder / PARTITION_FILE
    if partition_file.is_file():
        code = _PARTITION_CODES[split]
        wanted = set()
        for number, line in enumerate(partition_file.read_text().splitlines(), 1):
            fields = line.split()
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                if fields:
                    raise ValueError(f"{partition_file} line {number} is not 'FILE 0|1|2'")
                continue
            if fields[1] == code:
                wanted.add(fields[0])
        return [entry for entry in entries if entry[0] in wanted]
    low, high = PARTITION[split]
    selected = []
    for file_name, source in entries:
        match = re.fullmatch(r"(\d+)\.jpg", file_name, re.IGNORECASE)
        if match is None:
            raise ValueError(
                f"{file_name} is not named like CelebA's images (000001.jpg ...), so its split "
                f"is unknown: add {PARTITION_FILE} beside the images, or load split 'all'"
            )
        if low <= int(match.group(1)) <= high:
            selected.append((file_name, source))
    return selected


def read(entries, split, label=""):
    """``(x, None)``: the entries' images decoded and preprocessed, all or none."""
    if not entries:
        raise ValueError(f"no CelebA images belong to split {split!r}")
    x = np.empty((len(entries), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)

    def work(index, entry):
        source = entry[1]
        if isinstance(source, tuple):  # (zip archive, member)
            archive, member = source
            source = archive.read(member)
        image = to_array(open_image(source), 3)
        if image.shape != RAW_SHAPES["celeba32"]:
            raise BadImage(
                f"is {image.shape[1]}x{image.shape[0]}; CelebA's aligned images are 178x218"
            )
        preprocess_into("celeba32", image[None], x[index : index + 1])

    names = [label + (entry[0] if label else str(entry[1])) for entry in entries]
    decode_all(entries, work, names, what="CelebA images")
    return x, None
