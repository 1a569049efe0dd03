"""python -m keras_latent.zoo_build: writes presets, and with --check finds hand edits."""

import json

from keras_latent import presets, zoo_build


def test_the_generator_detects_hand_edits_and_rewrites_them(tmp_path, capsys):
    written = presets.build_presets(tmp_path, names=["ae_lines"])
    assert {p.name for p in written} == {"config.json", "metadata.json", "README.md"}
    assert zoo_build.main(["--check", "--output", str(tmp_path), "ae_lines"]) == 0
    config = tmp_path / "ae_lines" / "config.json"
    config.write_text(config.read_text().replace('"depth": 16', '"depth": 8'))
    assert zoo_build.main(["--check", "--output", str(tmp_path), "ae_lines"]) == 1
    assert f"differs: {config}" in capsys.readouterr().out
    (tmp_path / "by_hand").mkdir()
    assert presets.stale_folders(tmp_path) == [tmp_path / "by_hand"]
    assert presets.build_presets(tmp_path, names=["ae_lines"]) == [config]
    assert json.loads(config.read_text())["config"]["depth"] == 16


def test_unknown_presets_are_refused(tmp_path, capsys):
    assert zoo_build.main(["--output", str(tmp_path), "vae_nowhere"]) == 2
    assert "unknown preset 'vae_nowhere'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
