"""Presets from URLs, cached under ``$KERAS_LATENT_HOME`` (default ``~/.keras_latent``).

A URL (``http``, ``https`` or ``file``) names either a preset archive (``.tar.gz``, ``.tgz``,
``.tar`` or ``.zip`` holding the preset's files, at its top or in one folder) or a preset
folder (its files are fetched as ``URL/config.json``, ``URL/metadata.json``, ``URL/README.md``
and ``URL/model.weights.h5``). Every download is streamed to a temporary file, its length
checked against ``Content-Length`` and its sha256 against the expected one, and the preset is
assembled in a temporary folder that is renamed into the cache only when complete: a failed,
truncated or mismatched download leaves nothing in the cache.

Checksums: ``sha256`` given by the caller is the archive's (archive URL) or the weights' (folder
URL). Weights are also checked against the sha256 their ``metadata.json`` records; weights with
no sha256 to check against are refused.

Errors: ``FileNotFoundError`` (HTTP 404, missing file), ``ConnectionError`` (unreachable host,
other HTTP errors, a connection lost mid-way), ``ValueError`` (truncated download, checksum
mismatch, unreadable archive), ``OSError`` with ``errno.ENOSPC`` (disk full while caching).
"""

import errno
import hashlib
import http.client
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from keras_latent.files import atomic_folder, atomic_path, read_json, sha256_file
from keras_latent.saving import CONFIG_FILE, WEIGHTS_FILE

HOME_ENV = "KERAS_LATENT_HOME"
METADATA_FILE = "metadata.json"
README_FILE = "README.md"
SCHEMES = ("http", "https", "file")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
CHUNK_SIZE = 1 << 20
TIMEOUT_S = 60


def home():
    """The keras-latent cache folder: ``$KERAS_LATENT_HOME``, else ``~/.keras_latent``."""
    return Path(os.environ.get(HOME_ENV) or "~/.keras_latent").expanduser()


def is_url(text):
    """Whether ``text`` is an ``http``, ``https`` or ``file`` URL."""
    return isinstance(text, str) and urllib.parse.urlsplit(text).scheme.lower() in SCHEMES


def fetch_preset(url, sha256=None, timeout=TIMEOUT_S):
    """The local folder of the preset at ``url``, downloaded into the cache if not there yet.

    The cache entry is ``home()/presets/<name>-<hash of url and sha256>``.
    """
    if not is_url(url):
        raise ValueError(f"not an http(s) or file URL: {url!r}")
    sha256 = _check_sha256(sha256)
    name = _preset_name(url)
    key = hashlib.sha256(f"{url}\n{sha256 or ''}".encode()).hexdigest()[:16]
    root = home() / "presets"
    final = root / f"{name}-{key}"
    if (final / CONFIG_FILE).is_file():
        return final
    try:
        with atomic_folder(final) as staging:
            if _is_archive(url):
                _fetch_archive(url, staging, sha256, timeout)
            else:
                _fetch_folder(url, staging, sha256, timeout)
            _check_weights(staging, url, checked=sha256 is not None)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise OSError(
                errno.ENOSPC,
                f"no space left on the device while caching {url} in {root}; nothing was kept. "
                f"Free some space or point {HOME_ENV} to another disk",
            ) from error
        raise
    return final


def download(url, path, sha256=None, timeout=TIMEOUT_S):
    """Stream ``url`` to ``path`` (written under a temporary name, renamed when complete and
    checked); returns its sha256."""
    with atomic_path(path) as tmp:
        response = _open(url, timeout)
        with response, open(tmp, "wb") as out:
            size, digest = _copy(response, out, url)
            expected = response.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and size != int(expected):
            raise ValueError(f"download of {url} is truncated: {size} of {expected} bytes")
        if sha256 and digest != sha256:
            raise ValueError(
                f"checksum mismatch for {url}: sha256 {digest}, expected {sha256} (corrupt or "
                "truncated download, or another file)"
            )
    return digest


def _open(url, timeout):
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise FileNotFoundError(f"{url} was not found (HTTP 404)") from None
        message = f"could not download {url}: HTTP {error.code} {error.reason}"
        raise ConnectionError(message) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, FileNotFoundError):
            raise FileNotFoundError(f"{url}: no such file") from None
        raise ConnectionError(f"could not reach {url}: {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:
        raise ConnectionError(f"could not reach {url}: {error}") from None


def _copy(response, out, url):
    digest, size = hashlib.sha256(), 0
    while True:
        try:
            chunk = response.read(CHUNK_SIZE)
        except http.client.IncompleteRead as error:
            raise ValueError(f"download of {url} is truncated: {error}") from None
        except (OSError, http.client.HTTPException) as error:
            raise ConnectionError(f"connection lost while downloading {url}: {error}") from None
        if not chunk:
            return size, digest.hexdigest()
        _write(out, chunk)
        digest.update(chunk)
        size += len(chunk)


def _write(out, chunk):
    out.write(chunk)


def _fetch_archive(url, staging, sha256, timeout):
    archive = staging / ".download"
    download(url, archive, sha256, timeout)
    unpacked = staging / ".unpacked"
    try:
        if url.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(unpacked)  # ZipFile drops absolute and '..' parts
        else:
            with tarfile.open(archive) as tarred:
                tarred.extractall(unpacked, filter="data")  # refuses paths outside `unpacked`
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{url} is not a readable preset archive: {error}") from None
    preset = _find_preset(unpacked, url)
    for item in preset.iterdir():
        os.replace(item, staging / item.name)
    shutil.rmtree(unpacked)
    archive.unlink()


def _find_preset(unpacked, url):
    if (unpacked / CONFIG_FILE).is_file():
        return unpacked
    folders = [p for p in unpacked.iterdir() if (p / CONFIG_FILE).is_file()]
    if len(folders) != 1:
        raise ValueError(
            f"{url} holds no preset: expected {CONFIG_FILE} at its top or in exactly one folder"
        )
    return folders[0]


def _fetch_folder(url, staging, sha256, timeout):
    base = url if url.endswith("/") else url + "/"
    download(base + CONFIG_FILE, staging / CONFIG_FILE, timeout=timeout)
    for optional in (METADATA_FILE, README_FILE):
        try:
            download(base + optional, staging / optional, timeout=timeout)
        except FileNotFoundError:
            pass
    metadata = _metadata(staging)
    weights = metadata.get("weights")
    if METADATA_FILE in os.listdir(staging) and not weights:
        return  # the metadata says: no weights
    expected = sha256 or (weights or {}).get("sha256")
    if expected is None:
        raise ValueError(
            f"no sha256 to check the weights of {url} against: its {METADATA_FILE} records "
            "none; pass sha256= (the weights' sha256)"
        )
    try:
        download(base + WEIGHTS_FILE, staging / WEIGHTS_FILE, expected, timeout)
    except FileNotFoundError:
        if weights:
            raise


def _check_weights(folder, url, checked):
    """Weights against their metadata's sha256; ``checked``: the caller's sha256 matched."""
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        return
    expected = (_metadata(folder).get("weights") or {}).get("sha256")
    if expected is None and checked:
        return
    if expected is None:
        raise ValueError(
            f"the weights of {url} cannot be checked: its {METADATA_FILE} records no sha256"
        )
    actual = sha256_file(weights)
    if actual != expected:
        raise ValueError(
            f"checksum mismatch for the weights of {url}: sha256 {actual}, its "
            f"{METADATA_FILE} records {expected}"
        )


def _metadata(folder):
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    metadata = read_json(path)
    if not isinstance(metadata, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return metadata


def _check_sha256(sha256):
    if sha256 is None:
        return None
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    return sha256.lower()


def _is_archive(url):
    return urllib.parse.urlsplit(url).path.lower().endswith(ARCHIVE_SUFFIXES)


def _preset_name(url):
    name = urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip(".") or "preset"
