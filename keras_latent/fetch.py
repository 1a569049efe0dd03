"""Presets from URLs, cached under ``$KERAS_LATENT_HOME`` (default ``~/.keras_latent``).

A URL (``http``, ``https`` or ``file``) names either a preset archive (``.tar.gz``, ``.tgz``,
``.tar`` or ``.zip`` holding the preset's files, at its top or in one folder) or a preset
folder (its files are fetched as ``URL/config.json``, ``URL/metadata.json``, ``URL/README.md``,
``URL/model.weights.h5`` and the latent sampler files its metadata records). Every download is
streamed to a temporary file, its length checked against ``Content-Length`` and its sha256
against the expected one, and the preset is assembled in a temporary folder that is renamed
into the cache only when complete: a failed, truncated, mismatched or refused download leaves
nothing in the cache.

Checksums: ``sha256`` given by the caller is the archive's (archive URL) or the weights' (folder
URL). Weights are also checked against the sha256 their ``metadata.json`` records; weights with
no sha256 to check against are refused. A cached preset is checked again at each fetch: one
whose weights no longer match (or whose ``metadata.json`` no longer reads) is fetched again,
with a warning naming its folder.

Limits (keyword arguments of :func:`fetch_preset`, else environment variables, else defaults;
``inf`` switches off the last three, ``min_rate=0`` the rate rule):

- ``timeout`` (``KERAS_LATENT_DOWNLOAD_TIMEOUT_S``, 60 s): a connection silent this long is
  abandoned; it is also the window of the rate rule.
- ``min_rate`` (``KERAS_LATENT_MIN_DOWNLOAD_RATE``, 1024 bytes/s; 0: no rule): a download must
  bring ``min_rate`` bytes per second averaged over each ``timeout`` window, so one that stalls
  or trickles is abandoned within one to two windows (about two minutes by default).
- ``max_download_s`` (``KERAS_LATENT_MAX_DOWNLOAD_S``, 1800 s): the most one download may take.
- ``max_unpacked_bytes`` (``KERAS_LATENT_MAX_UNPACKED_BYTES``, 1 GiB): the most one download,
  or one archive unpacked, may hold (real presets hold a few MB).
- ``max_compression_ratio`` (``KERAS_LATENT_MAX_COMPRESSION_RATIO``, 100): an archive may
  unpack to at most this many times its own size (or 1 MiB, whichever is more); weights
  compress about 1.1x, JSON a few times, archive bombs a hundred to a thousand times.

An archive is checked member by member before each is written (declared sizes; a tar or zip
member unpacks to its declared size at most); one holding more than ``MAX_MEMBERS`` (1000)
members, a link, or no member at all is refused. :func:`keras_latent.zoo.load` takes the limits
from the environment.

Temporary entries: an interrupted fetch can leave ``.tmp-*`` entries in ``home()/presets``.
Each fetch removes those untouched (no file in them modified) for ``STALE_S`` seconds (an hour)
and not locked: a running fetch holds a lock (``flock``) on its temporary folders.

Errors: ``FileNotFoundError`` (HTTP 404, missing file), ``ConnectionError`` (unreachable host,
other HTTP errors, a connection lost mid-way), ``TimeoutError`` (a download that stalls,
trickles or takes too long), ``ValueError`` (truncated download, checksum mismatch, unreadable,
empty or oversized archive, a bad limit), ``OSError`` with ``errno.ENOSPC`` (disk full while
caching).
"""

import contextlib
import dataclasses
import errno
import fcntl
import functools
import hashlib
import http.client
import lzma
import math
import os
import re
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
import zlib
from pathlib import Path

from keras_latent import sampling
from keras_latent.files import atomic_folder, atomic_path, read_json, sha256_file
from keras_latent.saving import CONFIG_FILE, WEIGHTS_FILE

HOME_ENV = "KERAS_LATENT_HOME"
METADATA_FILE = "metadata.json"
README_FILE = "README.md"
SCHEMES = ("http", "https", "file")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
CHUNK_SIZE = 1 << 20
TIMEOUT_S = 60
# Each limit: its environment variable and its default (see the module's docstring).
LIMITS = {
    "timeout": ("KERAS_LATENT_DOWNLOAD_TIMEOUT_S", float(TIMEOUT_S)),
    "min_rate": ("KERAS_LATENT_MIN_DOWNLOAD_RATE", 1024.0),
    "max_download_s": ("KERAS_LATENT_MAX_DOWNLOAD_S", 1800.0),
    "max_unpacked_bytes": ("KERAS_LATENT_MAX_UNPACKED_BYTES", float(1 << 30)),
    "max_compression_ratio": ("KERAS_LATENT_MAX_COMPRESSION_RATIO", 100.0),
}
RATIO_FLOOR_BYTES = 1 << 20  # the compression ratio is not checked below this many bytes
MAX_MEMBERS = 1000  # files and folders in one archive (a preset has about five)
STALE_S = 3600  # a temporary entry of the cache untouched this long is removed, unless locked
TMP_PREFIX = ".tmp-"  # the prefix of keras_latent.files' temporary names
# What a damaged archive raises while read, besides an OSError without errno (bad gzip or bz2
# data; one with an errno, such as a full disk, is no fault of the archive's).
UNREADABLE = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
)


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one fetch may take; see the module's docstring and :func:`limits`."""

    timeout: float
    min_rate: float
    max_download_s: float
    max_unpacked_bytes: float
    max_compression_ratio: float


def limits(**given):
    """The :class:`Limits` from keyword arguments (``None``: not given), else the environment
    variables of ``LIMITS``, else their defaults; a non-positive or non-number value is a
    ``ValueError`` naming the argument or variable (``min_rate`` may be 0)."""
    unknown = set(given) - set(LIMITS)
    if unknown:
        raise TypeError(f"unknown limits: {', '.join(sorted(unknown))}")
    values = {}
    for name, (env, default) in LIMITS.items():
        value, source = given.get(name), f"{name}="
        if value is None and os.environ.get(env, "").strip():
            value, source = os.environ[env], env
        values[name] = default if value is None else _limit(name, value, source)
    return Limits(**values)


def _limit(name, value, source):
    """``value`` as a float: finite and above 0 for ``timeout``, finite and at least 0 for
    ``min_rate``, above 0 (``inf`` allowed) for the others."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if name == "min_rate":
        ok, kind = 0 <= number < math.inf, "a finite number of at least 0"
    elif name == "timeout":
        ok, kind = 0 < number < math.inf, "a finite number above 0"
    else:
        ok, kind = number > 0, "a number above 0 (or inf)"
    if not ok:
        raise ValueError(f"{source} must be {kind}, got {value!r}")
    return number


def home():
    """The keras-latent cache folder: ``$KERAS_LATENT_HOME``, else ``~/.keras_latent``."""
    return Path(os.environ.get(HOME_ENV) or "~/.keras_latent").expanduser()


def is_url(text):
    """Whether ``text`` is an ``http``, ``https`` or ``file`` URL."""
    return isinstance(text, str) and urllib.parse.urlsplit(text).scheme.lower() in SCHEMES


def fetch_preset(
    url,
    sha256=None,
    timeout=None,
    *,
    min_rate=None,
    max_download_s=None,
    max_unpacked_bytes=None,
    max_compression_ratio=None,
):
    """The local folder of the preset at ``url``, downloaded into the cache if not there yet.

    The cache entry is ``home()/presets/<name>-<hash of url and sha256>``; a cached entry whose
    weights no longer match their sha256 is fetched again (with a warning). The limits are
    described in the module's docstring.
    """
    if not is_url(url):
        raise ValueError(f"not an http(s) or file URL: {url!r}")
    sha256 = _check_sha256(sha256)
    bounds = limits(
        timeout=timeout,
        min_rate=min_rate,
        max_download_s=max_download_s,
        max_unpacked_bytes=max_unpacked_bytes,
        max_compression_ratio=max_compression_ratio,
    )
    name = _preset_name(url)
    key = hashlib.sha256(f"{url}\n{sha256 or ''}".encode()).hexdigest()[:16]
    root = home() / "presets"
    final = root / f"{name}-{key}"
    remove_stale(root)
    problem = None
    if (final / CONFIG_FILE).is_file():
        problem = _cache_problem(final, url, sha256)
        if problem is None:
            return final
        warnings.warn(
            f"the cached preset {final} is damaged ({problem}); fetching {url} again",
            stacklevel=2,
        )
    try:
        _fetch_into(final, url, sha256, bounds)
    except (OSError, ValueError) as error:
        if problem is not None and getattr(error, "errno", None) != errno.ENOSPC:
            raise ValueError(
                f"the cached preset {final} is damaged ({problem}) and fetching {url} again "
                f"failed: {error}. Delete {final} and try again once {url} is reachable"
            ) from error
        raise
    return final


def _fetch_into(final, url, sha256, bounds):
    """Fetch ``url`` into a locked temporary folder renamed to ``final`` when complete."""
    try:
        with atomic_folder(final) as staging, _locked(staging):
            if _is_archive(url):
                _fetch_archive(url, staging, sha256, bounds)
            else:
                _fetch_folder(url, staging, sha256, bounds)
            _check_weights(staging, url, checked=sha256 is not None)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise OSError(
                errno.ENOSPC,
                f"no space left on the device while caching {url} in {final.parent}; nothing "
                f"was kept. Free some space or point {HOME_ENV} to another disk",
            ) from error
        raise


def download(url, path, sha256=None, timeout=None, *, bounds=None):
    """Stream ``url`` to ``path`` (written under a temporary name, renamed when complete and
    checked); returns its sha256.

    ``bounds``: a :class:`Limits` (default: :func:`limits` with ``timeout``). A download over
    ``max_unpacked_bytes`` is a ``ValueError``; one that stalls, trickles below ``min_rate`` or
    outlasts ``max_download_s`` a ``TimeoutError`` naming ``url``.
    """
    bounds = limits(timeout=timeout) if bounds is None else bounds
    pace = _Pace(url, bounds)
    with atomic_path(path) as tmp:
        response = _open(url, bounds.timeout)
        with response, open(tmp, "wb") as out:
            expected = _content_length(response)
            if expected is not None and expected > bounds.max_unpacked_bytes:
                what = f"its Content-Length, {expected:,} bytes, is over"
                raise ValueError(_too_large(url, what, bounds.max_unpacked_bytes))
            size, digest = _copy(response, out, url, pace)
        if expected is not None and size != expected:
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


def _content_length(response):
    value = response.headers.get("Content-Length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _copy(response, out, url, pace):
    """Copy as the data comes (``read1``: one socket read each), so the pace is checked."""
    read = getattr(response, "read1", response.read)
    digest, size = hashlib.sha256(), 0
    while True:
        try:
            chunk = read(CHUNK_SIZE)
        except TimeoutError:
            raise TimeoutError(
                f"download of {url} stalled: no data for {pace.bounds.timeout:g} s "
                f"(timeout=, {LIMITS['timeout'][0]}); {size} bytes received"
            ) from None
        except http.client.IncompleteRead as error:
            raise ValueError(f"download of {url} is truncated: {error}") from None
        except (OSError, http.client.HTTPException) as error:
            raise ConnectionError(f"connection lost while downloading {url}: {error}") from None
        if not chunk:
            return size, digest.hexdigest()
        size += len(chunk)
        if size > pace.bounds.max_unpacked_bytes:
            raise ValueError(_too_large(url, "it is longer than", pace.bounds.max_unpacked_bytes))
        _write(out, chunk)
        digest.update(chunk)
        pace.check(len(chunk), size)


def _write(out, chunk):
    out.write(chunk)


def _too_large(url, what, cap):
    return (
        f"download of {url} refused: {what} the {cap:,.0f} bytes allowed "
        f"(max_unpacked_bytes=, {LIMITS['max_unpacked_bytes'][0]})"
    )


class _Pace:
    """The time rules of one download: at most ``max_download_s`` in all, and at least
    ``min_rate`` bytes/s over each window of ``timeout`` seconds (checked as data comes; a
    read returns within ``timeout`` or fails, so a window lasts less than twice that)."""

    def __init__(self, url, bounds):
        self.url, self.bounds = url, bounds
        self.start = self.window_start = time.monotonic()
        self.window_bytes = 0

    def check(self, received, total):
        now = time.monotonic()
        if now - self.start > self.bounds.max_download_s:
            raise TimeoutError(
                f"download of {self.url} abandoned after {now - self.start:.1f} s ({total} bytes "
                f"received): longer than max_download_s={self.bounds.max_download_s:g} "
                f"({LIMITS['max_download_s'][0]})"
            )
        self.window_bytes += received
        window = now - self.window_start
        if window < self.bounds.timeout:
            return
        if self.window_bytes < self.bounds.min_rate * window:
            raise TimeoutError(
                f"download of {self.url} abandoned: {self.window_bytes} bytes in the last "
                f"{window:.1f} s, below min_rate={self.bounds.min_rate:g} bytes/s "
                f"({LIMITS['min_rate'][0]})"
            )
        self.window_start, self.window_bytes = now, 0


def _fetch_archive(url, staging, sha256, bounds):
    """Download and unpack in a locked work folder beside ``staging``, then move the preset's
    files into the (empty) ``staging``: no name in the archive collides with ours."""
    with _work_folder(staging.parent) as work:
        archive = work / "archive"
        download(url, archive, sha256, bounds=bounds)
        unpacked = work / "unpacked"
        unpacked.mkdir()
        _unpack(archive, unpacked, url, bounds)
        preset = _find_preset(unpacked, url)
        for item in preset.iterdir():
            os.replace(item, staging / item.name)


def _unpack(archive, folder, url, bounds):
    """Unpack ``archive`` into ``folder``, checking each member's size before writing it."""
    size = archive.stat().st_size
    if size == 0:
        raise ValueError(f"{url} is empty (0 bytes), not a preset archive")
    count = total = 0
    try:
        with _members(archive, url) as members:
            for name, member_size, extract in members:
                count, total = count + 1, total + member_size
                _check_unpacked(url, name, count, total, size, bounds)
                extract(folder)
    except (*UNREADABLE, OSError) as error:
        if isinstance(error, OSError) and error.errno is not None:
            raise
        raise ValueError(f"{url} is not a readable preset archive: {error}") from None
    if count == 0:
        raise ValueError(f"{url} is an empty archive ({size} bytes): it holds no files")


@contextlib.contextmanager
def _members(archive, url):
    """Yield an iterator of ``(name, size, extract(folder))``, read as it goes (a tar's next
    header is read only after the previous member is written)."""
    if urllib.parse.urlsplit(url).path.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:  # ZipFile drops absolute and '..' parts
            # a zip member unpacks to its declared size at most
            yield (
                (info.filename, info.file_size, functools.partial(zipped.extract, info))
                for info in zipped.infolist()
            )
    else:
        with tarfile.open(archive) as tarred:
            yield (
                (m.name, m.size, functools.partial(_extract, tarred, m, url=url)) for m in tarred
            )


def _extract(tarred, member, folder, url):
    """Extract one tar member: plain files and folders only ("data" also refuses paths outside
    ``folder``). A folder's mode is not applied: a read-only one cannot block what follows."""
    if member.issym() or member.islnk():
        raise ValueError(f"{url} holds a link ({member.name!r}): a preset archive holds files")
    tarred.extract(member, folder, set_attrs=not member.isdir(), filter="data")


def _check_unpacked(url, name, count, total, size, bounds):
    """Refuse an archive bomb: too many members, too many bytes, or too high a ratio."""
    refused = f"{url} refused as a possible archive bomb"
    if count > MAX_MEMBERS:
        raise ValueError(f"{refused}: more than {MAX_MEMBERS} members (a preset has a few)")
    if total > bounds.max_unpacked_bytes:
        raise ValueError(
            f"{refused}: it unpacks to more than {bounds.max_unpacked_bytes:,.0f} bytes (at "
            f"{name!r}); raise max_unpacked_bytes= or {LIMITS['max_unpacked_bytes'][0]} if "
            "the archive is genuine"
        )
    if total > max(bounds.max_compression_ratio * size, RATIO_FLOOR_BYTES):
        raise ValueError(
            f"{refused}: it unpacks to more than {bounds.max_compression_ratio:g} times its "
            f"{size:,} bytes (at {name!r}); raise max_compression_ratio= or "
            f"{LIMITS['max_compression_ratio'][0]} if the archive is genuine"
        )


def _find_preset(unpacked, url):
    if (unpacked / CONFIG_FILE).is_file():
        return unpacked
    folders = [p for p in unpacked.iterdir() if (p / CONFIG_FILE).is_file()]
    if len(folders) != 1:
        raise ValueError(
            f"{url} holds no preset: expected {CONFIG_FILE} at its top or in exactly one folder"
        )
    return folders[0]


def _fetch_folder(url, staging, sha256, bounds):
    base = url if url.endswith("/") else url + "/"
    download(base + CONFIG_FILE, staging / CONFIG_FILE, bounds=bounds)
    for optional in (METADATA_FILE, README_FILE):
        try:
            download(base + optional, staging / optional, bounds=bounds)
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
        download(base + WEIGHTS_FILE, staging / WEIGHTS_FILE, expected, bounds=bounds)
    except FileNotFoundError:
        if weights:
            raise
    # The preset's fitted latent sampler (keras_latent.zoo), each file checked on its sha256.
    for name, digest in ((weights or {}).get("sampler") or {}).get("files", {}).items():
        if name in (sampling.CONFIG_FILE, sampling.ARRAYS_FILE):
            download(base + name, staging / name, digest, bounds=bounds)


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


def _cache_problem(folder, url, sha256):
    """What is wrong with the cached preset ``folder`` (None: nothing): weights that no longer
    match the sha256 of its metadata (or the caller's, for a folder URL), unreadable metadata."""
    try:
        weights = _metadata(folder).get("weights")
    except ValueError as error:
        return str(error)
    expected = weights.get("sha256") if isinstance(weights, dict) else None
    expected = expected or (None if _is_archive(url) else sha256)
    path = folder / WEIGHTS_FILE
    if expected is None or not path.is_file():
        return None
    actual = sha256_file(path)
    if actual != expected.lower():
        return f"{path} has sha256 {actual}, expected {expected}"
    return None


def _metadata(folder):
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    metadata = read_json(path)
    if not isinstance(metadata, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return metadata


def remove_stale(root):
    """Remove the ``.tmp-*`` entries of ``root`` (a cache folder) left by interrupted fetches:
    those untouched (no file in them modified) for ``STALE_S`` seconds and not locked by a
    running fetch. Returns the paths removed."""
    removed = []
    if not Path(root).is_dir():
        return removed
    for path in sorted(Path(root).glob(f"{TMP_PREFIX}*")):
        if time.time() - _last_change(path) < STALE_S:
            continue
        with _try_lock(path) as locked:
            if locked:
                _remove(path)
                removed.append(path)
    return removed


def _last_change(path):
    """The newest mtime of ``path`` and everything under it (now, if it vanishes meanwhile)."""
    try:
        newest = path.lstat().st_mtime
        for parent, folders, files in os.walk(path):
            for name in folders + files:
                newest = max(newest, os.lstat(os.path.join(parent, name)).st_mtime)
    except OSError:
        return time.time()
    return newest


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def _locked(path):
    """Hold an exclusive ``flock`` on ``path`` (a folder): :func:`remove_stale` leaves it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        os.close(fd)


@contextlib.contextmanager
def _try_lock(path):
    """Yield whether an exclusive ``flock`` on ``path`` was taken (False: held elsewhere)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        yield path.is_symlink()  # a link is removed as it is; a vanished entry is left
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)


@contextlib.contextmanager
def _work_folder(root):
    """A new locked ``.tmp-*-work`` folder in ``root``, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, suffix="-work", dir=root))
    try:
        with _locked(path):
            yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


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
