"""Atomic file writes: a file is either absent or complete, never half-written."""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path`` atomically.

    The temporary name ends with ``path``'s name, so writers that check extensions (such as
    Keras' ``.weights.h5``) accept it. On any error it is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{path.name}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make the file private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path):
    """Read a JSON file, naming the file in any error."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error


def check_replaceable(path, markers=None):
    """Refuse (ValueError, naming ``path``) what :func:`atomic_folder` must not replace: a
    file (anything but a folder), the current folder or one of its parents (a filesystem root
    included), and, given ``markers`` (tuples of file names), a folder that is not empty and
    holds no tuple of them in full: a folder keras-latent did not write, whose files would be
    deleted. Leftover temporary files (``.tmp-*``) do not count. Returns ``path`` resolved.
    """
    resolved = Path(path).resolve()
    if resolved.parent == resolved or Path.cwd().resolve().is_relative_to(resolved):
        raise ValueError(
            f"{path} ({resolved}) is the current folder or a folder above it: it would be "
            "replaced as a whole, with the folder you are working in; name a new folder "
            "inside it instead"
        )
    if resolved.exists() and not resolved.is_dir():
        raise ValueError(
            f"{path} exists and is not a folder: it is left untouched; choose another path"
        )
    if markers is None or not resolved.is_dir():
        return resolved
    held = sorted(p.name for p in resolved.iterdir() if not p.name.startswith(".tmp-"))
    if held and not any(all((resolved / name).exists() for name in kind) for kind in markers):
        shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
        raise ValueError(
            f"{path} is a folder keras-latent did not write (it holds {shown}): writing here "
            "would delete its files; choose another path, or empty the folder first"
        )
    return resolved


@contextlib.contextmanager
def atomic_folder(path, markers=None):
    """Yield a new temporary folder beside ``path``; on success it takes ``path``'s place.

    On any error the temporary folder is removed and ``path`` is untouched. An existing
    ``path`` is renamed aside, the new folder renamed in, then the old one deleted: ``path`` is
    always a complete folder, old or new (absent only between the two renames). A path that is
    not a folder, or that :func:`check_replaceable` refuses (with ``markers``), is a ValueError
    before anything is written. A symbolic link is followed: its target is replaced.
    """
    path = check_replaceable(path, markers)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", suffix=f"-{path.name}", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        old = tmp.with_name(f"{tmp.name}-old")
        if path.exists():
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old.exists():
                os.replace(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sha256_file(path, chunk_size=1 << 20):
    """The hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
