"""keras_latent.fetch: file URLs, archive formats, unsafe, malformed or oversized archives,
slow downloads, stale temporaries and damaged cache entries."""

import fcntl
import gzip
import hashlib
import io
import json
import os
import tarfile
import threading
import time
import zipfile

import pytest

from keras_latent import fetch
from keras_latent.files import sha256_file
from tests.servers import local_http_server


@pytest.fixture
def preset(tmp_path):
    """A preset-shaped folder (the files' contents do not matter to fetch), no weights."""
    folder = tmp_path / "src" / "p"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"class_name": "Nothing"}\n')
    (folder / "metadata.json").write_text(json.dumps({"name": "p", "weights": None}))
    return folder


@pytest.fixture
def weighted(preset, tmp_path):
    """``preset`` with weights (their sha256 in its metadata) as ``p.tar.gz``; its URL."""
    weights = b"weights " * 64
    (preset / "model.weights.h5").write_bytes(weights)
    digest = hashlib.sha256(weights).hexdigest()
    (preset / "metadata.json").write_text(json.dumps({"weights": {"sha256": digest}}))
    archive = tmp_path / "p.tar.gz"
    with tarfile.open(archive, "w:gz") as tarred:
        tarred.add(preset, arcname="p")
    return archive.as_uri()


def add_bytes(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def tar_gz(path, members):
    """Write ``members`` (``{name: bytes}``) as a gzipped tar at ``path``; returns its URL."""
    with tarfile.open(path, "w:gz") as tarred:
        for name, data in members.items():
            add_bytes(tarred, name, data)
    return path.as_uri()


def cache_entries(cache):
    return sorted(p.name for p in (cache / "presets").iterdir())


def test_home_and_urls(monkeypatch):
    monkeypatch.delenv("KERAS_LATENT_HOME", raising=False)
    assert fetch.home().name == ".keras_latent"
    monkeypatch.setenv("KERAS_LATENT_HOME", "/somewhere/else")
    assert str(fetch.home()) == "/somewhere/else"
    assert fetch.is_url("https://x.org/a.tar.gz") and fetch.is_url("file:///tmp/a")
    assert not fetch.is_url("acai_mnist") and not fetch.is_url("./zoo/acai_mnist")
    with pytest.raises(ValueError, match="not an http"):
        fetch.fetch_preset("ftp://x.org/a.tar.gz")
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        fetch.fetch_preset("file:///tmp/a.tar.gz", sha256="abc")


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
def test_file_url_archives_with_the_preset_at_the_top_or_in_a_folder(
    preset, tmp_path, cache, suffix
):
    archive = tmp_path / f"p{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in preset.iterdir():
                zipped.write(path, path.name)  # files at the top of the archive
    else:
        with tarfile.open(archive, "w:gz") as tarred:
            tarred.add(preset, arcname="p")  # files in one folder
    folder = fetch.fetch_preset(archive.as_uri(), sha256=sha256_file(archive).upper())
    assert folder.parent == cache / "presets" and folder.name.startswith("p-")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "metadata.json"]
    assert fetch.fetch_preset(archive.as_uri(), sha256=sha256_file(archive)) == folder  # cached


def test_file_url_folder(preset, cache):
    folder = fetch.fetch_preset(preset.as_uri())
    assert (folder / "config.json").read_bytes() == (preset / "config.json").read_bytes()
    assert not (folder / "model.weights.h5").exists()  # the metadata says: no weights


def test_weights_with_no_sha256_to_check_are_refused(preset, cache):
    (preset / "metadata.json").write_text(json.dumps({"weights": {"file": "model.weights.h5"}}))
    (preset / "model.weights.h5").write_bytes(b"weights")
    with pytest.raises(ValueError, match="no sha256 to check the weights"):
        fetch.fetch_preset(preset.as_uri())
    digest = sha256_file(preset / "model.weights.h5")
    folder = fetch.fetch_preset(preset.as_uri(), sha256=digest)
    assert (folder / "model.weights.h5").read_bytes() == b"weights"


def test_unsafe_or_malformed_archives_are_refused(tmp_path, cache):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tarred:
        add_bytes(tarred, "config.json", b"{}")
        add_bytes(tarred, "../escaped.txt", b"outside")
    with pytest.raises(ValueError, match="not a readable preset archive"):
        fetch.fetch_preset(evil.as_uri())
    assert not list(tmp_path.rglob("escaped.txt"))

    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz") as tarred:
        add_bytes(tarred, "notes.txt", b"no preset here")
    with pytest.raises(ValueError, match="holds no preset"):
        fetch.fetch_preset(empty.as_uri())

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ValueError, match="not a readable preset archive"):
        fetch.fetch_preset(garbage.as_uri())
    with pytest.raises(FileNotFoundError, match="no such file"):
        fetch.fetch_preset((tmp_path / "missing.tar.gz").as_uri())
    assert list((cache / "presets").iterdir()) == []


CONFIG = {"config.json": b'{"class_name": "Nothing"}', "metadata.json": b'{"weights": null}'}


def test_a_declared_2_gib_member_is_refused_at_its_header(tmp_path, cache):
    # The member claims 2 GiB but carries 4 bytes: refused before its data is read, with the
    # default limits (extracting it would fail on the missing data instead).
    config = tarfile.TarInfo("config.json")
    config.size = len(CONFIG["config.json"])
    bomb = tarfile.TarInfo("zeros.bin")
    bomb.size = 2 << 30
    raw = config.tobuf() + CONFIG["config.json"].ljust(512, b"\0") + bomb.tobuf() + bytes(4)
    archive = tmp_path / "bomb.tar.gz"
    archive.write_bytes(gzip.compress(raw))
    with pytest.raises(ValueError, match=r"bomb.tar.gz refused as a possible archive bomb: "):
        fetch.fetch_preset(archive.as_uri())
    with pytest.raises(ValueError, match="more than 1,073,741,824 bytes .*MAX_UNPACKED_BYTES"):
        fetch.fetch_preset(archive.as_uri())
    assert cache_entries(cache) == []


def test_archive_bombs_are_refused_member_by_member(tmp_path, cache, monkeypatch):
    url = tar_gz(tmp_path / "zeros.tar.gz", {**CONFIG, "zeros.bin": bytes(2 << 20)})
    assert (tmp_path / "zeros.tar.gz").stat().st_size < 10_000  # 2 MiB of zeros: over 200x
    extracted = []
    extract = fetch._extract
    monkeypatch.setattr(
        fetch, "_extract", lambda t, m, *a, **k: [extracted.append(m.name), extract(t, m, *a, **k)]
    )
    with pytest.raises(ValueError, match=r"more than 100 times its .* bytes \(at 'zeros.bin'\)"):
        fetch.fetch_preset(url)
    assert extracted == ["config.json", "metadata.json"]  # zeros.bin was never written
    assert cache_entries(cache) == []
    folder = fetch.fetch_preset(url, max_compression_ratio="inf")  # when the user allows it
    assert (folder / "zeros.bin").stat().st_size == 2 << 20

    monkeypatch.setenv("KERAS_LATENT_MAX_UNPACKED_BYTES", "1000")
    big = tar_gz(tmp_path / "big.tar.gz", {**CONFIG, "zeros.bin": bytes(5000)})
    with pytest.raises(ValueError, match="more than 1,000 bytes .*KERAS_LATENT_MAX_UNPACKED"):
        fetch.fetch_preset(big)
    monkeypatch.delenv("KERAS_LATENT_MAX_UNPACKED_BYTES")
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in {**CONFIG, "zeros.bin": bytes(5000)}.items():
            zipped.writestr(name, data)
    with pytest.raises(ValueError, match="big.zip refused .* more than 4,000 bytes"):
        fetch.fetch_preset(archive.as_uri(), max_unpacked_bytes=4000)
    with pytest.raises(ValueError, match="big.zip refused: its Content-Length, .* is over"):
        fetch.fetch_preset(archive.as_uri(), max_unpacked_bytes=100)  # not even downloaded
    monkeypatch.setattr(fetch, "MAX_MEMBERS", 3)
    with pytest.raises(ValueError, match="more than 3 members"):
        fetch.fetch_preset(tar_gz(tmp_path / "many.tar.gz", {**CONFIG, "a": b"", "b": b""}))
    assert len(cache_entries(cache)) == 1  # the allowed zeros.tar.gz only


def test_limits_come_from_arguments_then_environment_then_defaults(monkeypatch):
    for env, _ in fetch.LIMITS.values():
        monkeypatch.delenv(env, raising=False)
    assert fetch.limits() == fetch.Limits(60, 1024, 1800, 1 << 30, 100)
    monkeypatch.setenv("KERAS_LATENT_MAX_COMPRESSION_RATIO", "20")
    monkeypatch.setenv("KERAS_LATENT_MIN_DOWNLOAD_RATE", "0")
    assert fetch.limits().max_compression_ratio == 20 and fetch.limits().min_rate == 0
    assert fetch.limits(max_compression_ratio=5).max_compression_ratio == 5
    monkeypatch.setenv("KERAS_LATENT_MAX_DOWNLOAD_S", "soon")
    with pytest.raises(ValueError, match="KERAS_LATENT_MAX_DOWNLOAD_S must be a number"):
        fetch.limits()
    with pytest.raises(ValueError, match="timeout= must be a finite number above 0"):
        fetch.fetch_preset("file:///tmp/p.tar.gz", timeout=float("inf"))
    monkeypatch.delenv("KERAS_LATENT_MAX_DOWNLOAD_S")
    with pytest.raises(ValueError, match="max_unpacked_bytes= must be a number above 0"):
        fetch.limits(max_unpacked_bytes=0)


@pytest.fixture
def trickling(preset, tmp_path):
    """``preset`` as ``p.tar.gz`` on a local server that trickles a byte every 0.25 s."""
    www = tmp_path / "www"
    www.mkdir()
    with tarfile.open(www / "p.tar.gz", "w:gz") as tarred:
        tarred.add(preset, arcname="p")
    with local_http_server(www, trickle_s=0.25) as server:
        yield server


def test_stalled_or_trickling_downloads_are_abandoned(trickling, cache, monkeypatch):
    url = f"{trickling.url}/trickle/p.tar.gz"
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=f"{url} abandoned: .* below min_rate=1024 bytes/s"):
        fetch.fetch_preset(url, timeout=1)  # a 1 s window: 4 bytes/s is below 1024
    with pytest.raises(TimeoutError, match=f"{url} abandoned after .* s .*max_download_s=1 "):
        fetch.fetch_preset(url, timeout=5, min_rate=0, max_download_s=1)
    monkeypatch.setenv("KERAS_LATENT_MAX_DOWNLOAD_S", "1")
    with pytest.raises(TimeoutError, match="KERAS_LATENT_MAX_DOWNLOAD_S"):
        fetch.fetch_preset(url, min_rate=0)
    stalled = f"{trickling.url}/stall/p.tar.gz"
    with pytest.raises(TimeoutError, match=f"{stalled} stalled: no data for 1 s"):
        fetch.fetch_preset(stalled, timeout=1)
    assert time.monotonic() - start < 12  # four downloads of a second or two each
    assert cache_entries(cache) == []


def test_a_running_fetch_keeps_its_temporary_folders(trickling, cache, monkeypatch):
    url = f"{trickling.url}/trickle/p.tar.gz"
    failed = []

    def slow_fetch():
        try:
            fetch.fetch_preset(url, timeout=5, min_rate=0, max_download_s=3)
        except TimeoutError as error:
            failed.append(error)

    thread = threading.Thread(target=slow_fetch)
    thread.start()
    root, deadline = cache / "presets", time.monotonic() + 10
    while not list(root.glob(".tmp-*/.tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the download into its (locked) work folder has begun
    running = sorted(root.glob(".tmp-*"))
    monkeypatch.setattr(fetch, "STALE_S", 0)  # any age is stale: only the locks keep them
    assert len(running) == 2 and fetch.remove_stale(root) == []
    assert all(path.is_dir() for path in running)
    thread.join(timeout=10)
    assert len(failed) == 1 and cache_entries(cache) == []


def test_stale_temporary_entries_are_removed(weighted, cache):
    root = cache / "presets"
    for name in (".tmp-abandoned-p", ".tmp-recent-p", ".tmp-locked-p"):
        (root / name).mkdir(parents=True)
        (root / name / "part").write_bytes(b"x")
    (root / ".tmp-file-p").write_bytes(b"x")
    old = time.time() - fetch.STALE_S - 60
    for path in root.rglob("*"):
        if "recent" not in str(path):
            os.utime(path, (old, old))
    os.utime(root / ".tmp-recent-p", (old, old))  # its file is recent: still being written
    lock = os.open(root / ".tmp-locked-p", os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        folder = fetch.fetch_preset(weighted)  # each fetch cleans up
    finally:
        os.close(lock)
    assert cache_entries(cache) == [".tmp-locked-p", ".tmp-recent-p", folder.name]
    assert fetch.remove_stale(root) == [root / ".tmp-locked-p"]  # no longer locked


def test_damaged_cache_entries_are_fetched_again(weighted, tmp_path, cache):
    folder = fetch.fetch_preset(weighted)
    weights = (folder / "model.weights.h5").read_bytes()
    (folder / "model.weights.h5").write_bytes(b"bit rot")
    with pytest.warns(UserWarning, match=f"cached preset {folder} is damaged .* fetching"):
        assert fetch.fetch_preset(weighted) == folder
    assert (folder / "model.weights.h5").read_bytes() == weights
    (folder / "metadata.json").write_text("{not json")
    with pytest.warns(UserWarning, match="is not valid JSON"):
        fetch.fetch_preset(weighted)
    assert fetch.fetch_preset(weighted) == folder  # healthy again: no warning, no download

    (folder / "model.weights.h5").write_bytes(b"bit rot")
    (tmp_path / "p.tar.gz").unlink()
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=f"Delete {folder} and try"):
        fetch.fetch_preset(weighted)
    assert cache_entries(cache) == [folder.name]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.tar.gz", None, r"empty.tar.gz is an empty archive \(.* bytes\): it holds no files"),
        ("zeros.tar", bytes(10240), "zeros.tar is an empty archive .*holds no files"),
        ("zeros.tar.gz", bytes(10240), "zeros.tar.gz is an empty archive .*holds no files"),
        ("nothing.tar.gz", b"", r"nothing.tar.gz is empty \(0 bytes\)"),
        ("zeros.zip", bytes(1000), "zeros.zip is not a readable preset archive"),
        ("empty.zip", None, "empty.zip is an empty archive"),
        ("bad.tar.gz", gzip.compress(b"x" * 600)[:-8] + b"junk0000", "not a readable"),
    ],
)
def test_empty_or_zero_archives_are_clear_errors(tmp_path, cache, name, data, message):
    archive = tmp_path / name
    if data is not None:
        archive.write_bytes(data)
    elif name.endswith(".zip"):
        zipfile.ZipFile(archive, "w").close()
    else:
        tar_gz(archive, {})
    with pytest.raises(ValueError, match=message):
        fetch.fetch_preset(archive.as_uri())
    assert cache_entries(cache) == []


def test_archive_members_with_our_working_names_are_ordinary_files(tmp_path, cache):
    members = {**CONFIG, ".unpacked": b"a", ".download": b"b", "archive": b"c"}
    folder = fetch.fetch_preset(tar_gz(tmp_path / "p.tar.gz", members))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == members
    nested = {f"q/{name}": data for name, data in members.items()}
    folder = fetch.fetch_preset(tar_gz(tmp_path / "q.tar.gz", nested))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == members

    linked = tmp_path / "linked.tar.gz"
    with tarfile.open(linked, "w:gz") as tarred:
        for name, data in CONFIG.items():
            add_bytes(tarred, name, data)
        link = tarfile.TarInfo("README.md")
        link.type, link.linkname = tarfile.SYMTYPE, "config.json"
        tarred.addfile(link)
    with pytest.raises(ValueError, match=r"linked.tar.gz holds a link \('README.md'\)"):
        fetch.fetch_preset(linked.as_uri())
    assert len(cache_entries(cache)) == 2
