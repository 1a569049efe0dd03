"""keras_latent.hub: hf://owner/repo[@revision] presets loaded from and pushed to a fake Hub on
127.0.0.1 (tests/hub_server.py), through huggingface_hub, without the internet."""

import json
import subprocess
import sys

import numpy as np
import pytest

from keras_latent import cli, hub, zoo
from keras_latent.files import sha256_file
from keras_latent.models import Autoencoder
from tests.helpers import REPO, TINY
from tests.hub_server import local_hub_server
from tests.servers import closed_port_url

hf = pytest.importorskip("huggingface_hub")
yaml = pytest.importorskip("yaml")

PRESET_FILES = ["README.md", "config.json", "metadata.json", "model.weights.h5"]
MEASURED = {"reconstruction_mse": 0.125, "probe_accuracy": 0.5, "test_images": 10}


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The fake Hub, with ``HF_ENDPOINT`` pointing at it, the Hub cache under ``tmp_path``, a
    dummy ``HF_TOKEN`` and huggingface_hub's telemetry (its agent registry fetch) off."""
    from huggingface_hub import constants

    with local_hub_server() as running:
        monkeypatch.setenv("HF_ENDPOINT", running.url)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        monkeypatch.setenv("HF_TOKEN", "hf_test_token")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
        yield running


def save(tmp_path, name="tiny", seed=3):
    """A tiny trained-looking preset folder ``tmp_path/name`` of an Autoencoder; (model, path)."""
    model = Autoencoder(**TINY, seed=seed, name=name)
    metadata = {"weights": {"images_seen": 0, "metrics": dict(MEASURED)}}
    return model, zoo.save_preset(model, tmp_path / name, metadata, data="mnist")


def publish(server, repo_id, folder, **options):
    """Commit the files of ``folder`` to ``repo_id`` on the fake Hub; returns the commit sha."""
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    return server.hub.commit(repo_id, files, **options)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize(
    "text, repo_id, revision",
    [
        ("hf://me/tiny", "me/tiny", None),
        ("hf://me/tiny@v1", "me/tiny", "v1"),
        ("hf://Org-1/a.b_c@refs/pr/1", "Org-1/a.b_c", "refs/pr/1"),
    ],
)
def test_handles_parse(text, repo_id, revision):
    handle = hub.parse(text)
    assert (handle.repo_id, handle.revision, str(handle)) == (repo_id, revision, text)
    assert hub.is_handle(text) and not hub.is_handle("me/tiny")


@pytest.mark.parametrize(
    "text", ["hf://me", "hf://me/", "hf://me/tiny/x", "hf://me/tiny@", "hf:///tiny", "hf://me/a..b"]
)
def test_malformed_handles_are_clear_errors(text):
    with pytest.raises(ValueError, match="malformed Hugging Face Hub handle .*hf://owner/repo"):
        zoo.load(text)


def test_loading_by_handle_matches_the_folder(server, tmp_path, random_images):
    model, folder = save(tmp_path)
    publish(server, "me/tiny", folder)
    resolved = zoo.resolve("hf://me/tiny")
    assert resolved.is_relative_to(tmp_path / "hf-cache")  # huggingface_hub's own cache
    assert sorted(p.name for p in resolved.iterdir()) == PRESET_FILES
    assert zoo.describe("hf://me/tiny") == zoo.describe(folder)
    loaded = zoo.load("hf://me/tiny")
    x = random_images(2)
    np.testing.assert_allclose(loaded.reconstruct(x), zoo.load(folder).reconstruct(x), atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-6)


def test_a_revision_pin_serves_that_revisions_files(server, tmp_path):
    first, folder = save(tmp_path / "a", seed=1)
    second, other = save(tmp_path / "b", seed=2)
    old = publish(server, "me/tiny", folder, message="first")
    server.hub.tag("me/tiny", "v1", old)
    publish(server, "me/tiny", other, message="second")
    assert same_weights(zoo.load("hf://me/tiny", compile=False), second)
    for pin in (old, "v1"):
        loaded = zoo.load(f"hf://me/tiny@{pin}", compile=False)
        assert same_weights(loaded, first) and not same_weights(loaded, second)
    assert zoo.resolve(f"hf://me/tiny@{old}").name == old  # the commit's snapshot


def test_missing_repositories_and_revisions_are_clear_errors(server, tmp_path):
    with pytest.raises(FileNotFoundError, match="hf://nobody/nothing: no such model repository"):
        zoo.load("hf://nobody/nothing")
    publish(server, "me/tiny", save(tmp_path)[1])
    with pytest.raises(FileNotFoundError, match="hf://me/tiny@nope: .*no revision 'nope'"):
        zoo.describe("hf://me/tiny@nope")


@pytest.mark.parametrize("missing", ["config.json", "metadata.json", "model.weights.h5"])
def test_a_file_missing_from_the_repository_is_a_clear_error(server, tmp_path, missing):
    folder = save(tmp_path)[1]
    (folder / missing).unlink()
    publish(server, "me/tiny", folder)
    with pytest.raises(FileNotFoundError, match=f"hf://me/tiny has no {missing}"):
        zoo.load("hf://me/tiny")


def test_weights_changed_on_the_server_are_refused(server, tmp_path):
    folder = save(tmp_path)[1]
    publish(server, "me/tiny", folder)
    zoo.load("hf://me/tiny", compile=False)
    other = save(tmp_path / "other", seed=9)[1]
    server.hub.commit("me/tiny", {"model.weights.h5": (other / "model.weights.h5").read_bytes()})
    with pytest.raises(ValueError, match="does not match its expected sha256"):
        zoo.load("hf://me/tiny")
    digest = sha256_file(other / "model.weights.h5")  # the caller's sha256 wins
    assert zoo.load("hf://me/tiny", compile=False, sha256=digest) is not None


def test_a_cached_preset_loads_offline(server, tmp_path, monkeypatch):
    model, folder = save(tmp_path)
    publish(server, "me/tiny", folder)
    zoo.load("hf://me/tiny", compile=False)
    monkeypatch.setenv("HF_ENDPOINT", closed_port_url().rsplit("/", 1)[0])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    asked = len(server.hub.requests)
    assert same_weights(zoo.load("hf://me/tiny", compile=False), model)
    assert len(server.hub.requests) == asked
    with pytest.raises(FileNotFoundError, match="hf://me/other is not in the Hugging Face cache"):
        zoo.load("hf://me/other")


def front_matter(card):
    """The YAML front matter of a model card, parsed, and the text after it."""
    assert card.startswith("---\n")
    head, rest = card[4:].split("\n---\n", 1)
    return yaml.safe_load(head), rest


def test_card_front_matter_from_metadata(tmp_path):
    folder = save(tmp_path)[1]
    meta = zoo.describe(folder)
    data, rest = front_matter(hub.card_front_matter(meta))
    assert rest == ""
    assert data["library_name"] == "keras" and data["license"] == "apache-2.0"
    assert data["tags"] == ["keras", "keras-latent", "autoencoder", "Autoencoder", "mnist"]
    assert data["datasets"] == ["mnist"]
    (result,) = data["model-index"][0]["results"]
    assert data["model-index"][0]["name"] == "tiny"
    assert result["dataset"]["type"] == "mnist" and result["task"]["type"]
    assert {m["type"]: m["value"] for m in result["metrics"]} == {
        "reconstruction_mse": 0.125,
        "probe_accuracy": 0.5,
    }  # counts such as test_images are no metrics
    assert all(m["name"] for m in result["metrics"])
    bare, _ = front_matter(hub.card_front_matter({"name": "x", "dataset": {"name": None}}))
    assert bare["tags"] == ["keras", "keras-latent", "autoencoder"] and "model-index" not in bare
    assert (
        hub.card_with_front_matter("---\nx: 1\n---\n# card\n", meta) == "---\nx: 1\n---\n# card\n"
    )


def authorisations(server):
    return {headers.get("authorization") for method, _, headers in server.hub.requests}


def test_push_uploads_the_preset_with_a_hub_card_and_leaves_the_folder(server, tmp_path):
    model, folder = save(tmp_path)
    (folder / "checkpoint-000001.weights.h5").write_bytes(b"optimizer state")  # stays local
    (folder / "interpolation.png").write_bytes(b"png bytes")  # the card's figure: pushed
    meta = zoo.read_metadata(folder)
    meta["weights"]["interpolation_figure"] = {"file": "interpolation.png"}
    (folder / "metadata.json").write_text(json.dumps(meta))
    before = snapshot(folder)
    url = zoo.push(folder, "hf://me/pushed", private=True, commit_message="first push")
    assert snapshot(folder) == before
    repo = server.hub.repos["me/pushed"]
    assert repo["private"] and url.endswith(repo["refs"]["main"])
    (commit,) = repo["commits"].values()
    assert commit["message"] == "first push"
    files = commit["files"]
    assert sorted(files) == sorted([*PRESET_FILES, "interpolation.png"])
    for name in ("config.json", "metadata.json", "model.weights.h5", "interpolation.png"):
        assert files[name] == before[name]
    data, rest = front_matter(files["README.md"].decode())
    assert rest == "\n" + before["README.md"].decode() and "Autoencoder" in data["tags"]
    assert authorisations(server) == {"Bearer hf_test_token"}
    assert same_weights(zoo.load("hf://me/pushed", compile=False), model)
    zoo.push(folder, "hf://me/pushed")  # an existing repository: a second commit
    assert len(repo["commits"]) == 2


def test_push_refuses_what_is_not_a_preset(server, tmp_path):
    folder = save(tmp_path)[1]
    (folder / "model.weights.h5").write_bytes(b"corrupt")
    with pytest.raises(ValueError, match="does not match the sha256"):
        zoo.push(folder, "hf://me/pushed")
    (folder / "metadata.json").unlink()
    with pytest.raises(ValueError, match="not a preset folder"):
        zoo.push(folder, "hf://me/pushed")
    with pytest.raises(ValueError, match="without @revision"):
        zoo.push(folder, "hf://me/pushed@dev")
    assert server.hub.repos == {}


def test_push_a_model_saves_it_as_a_preset_named_after_the_repository(server, tmp_path):
    model = Autoencoder(**TINY, seed=3, name="tiny")
    zoo.push(model, "hf://me/shapes", data="my shapes", metadata={"description": "mine"})
    files = server.hub.files("me/shapes")
    assert sorted(files) == PRESET_FILES
    meta = zoo.describe("hf://me/shapes")
    assert meta["name"] == "shapes" and meta["description"] == "mine"
    assert 'kl.zoo.load("hf://me/shapes")' in files["README.md"].decode()
    assert same_weights(zoo.load("hf://me/shapes", compile=False), model)


def test_keras_latent_push_command(server, tmp_path, capsys):
    folder = save(tmp_path)[1]
    argv = ["push", str(folder), "hf://me/cli", "--private", "-m", "from the CLI"]
    assert cli.main(argv) == 0
    assert "pushed" in capsys.readouterr().out
    repo = server.hub.repos["me/cli"]
    (commit,) = repo["commits"].values()
    assert repo["private"] and commit["message"] == "from the CLI"
    assert sorted(commit["files"]) == PRESET_FILES
    assert cli.main(["push", str(tmp_path / "nothing"), "hf://me/cli"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["push", str(folder), "hf://bad"]) == 2
    assert "malformed" in capsys.readouterr().err


def test_without_huggingface_hub_the_error_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails
    extra = r'pip install "keras-latent\[hub\]"'
    with pytest.raises(ImportError, match=extra):
        zoo.load("hf://me/tiny")
    with pytest.raises(ImportError, match=extra):
        zoo.push(Autoencoder(**TINY, name="tiny"), "hf://me/tiny")
    folder = save(tmp_path)[1]
    assert cli.main(["push", str(folder), "hf://me/tiny"]) == 2
    assert "keras-latent[hub]" in capsys.readouterr().err


def test_importing_the_zoo_imports_no_huggingface_hub():
    code = "import sys, keras_latent.zoo, keras_latent.hub; print('huggingface_hub' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False"
