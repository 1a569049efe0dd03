"""The CPU description, TensorFlow's oneDNN default and the slow-training warnings."""

import os
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest

from keras_latent import hardware
from keras_latent.models import Autoencoder
from tests.helpers import REPO, TINY

AVX2_ONLY = frozenset({"fpu", "avx", "avx2", "fma"})
ZEN4 = AVX2_ONLY | {"avx512f", "avx512_bf16"}


@pytest.fixture
def cpu(monkeypatch):
    """Pretend to be an x86-64 CPU with the given flags; forget earlier warnings."""

    def pretend(flags, machine="x86_64"):
        monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))
        monkeypatch.setattr(hardware.platform, "machine", lambda: machine)
        monkeypatch.setattr(hardware, "devices", lambda: ["cpu:0"])

    monkeypatch.setattr(hardware, "_warned", set())
    return pretend


def test_cpu_info_reads_the_first_processor(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\ncpu family\t: 25\nmodel\t\t: 1\n"
        "flags\t\t: fpu avx2 fma\n\nprocessor\t: 1\nmodel name\t: Other\n"
    )
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a: real_open(info, *a))
    hardware.cpu_info.cache_clear()
    try:
        assert hardware.cpu_info()["model name"] == "AMD EPYC"
        assert hardware.cpu_flags() == {"fpu", "avx2", "fma"}
        assert hardware.cpu_model() == "AMD EPYC (family 25 model 1)"
    finally:
        hardware.cpu_info.cache_clear()


def test_describe_device_says_whether_tensorflow_uses_onednn(monkeypatch):
    monkeypatch.setattr(hardware, "devices", lambda: ["cpu:0"])
    monkeypatch.setattr(hardware, "cpu_model", lambda: "AMD EPYC")
    monkeypatch.setattr(hardware.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(hardware, "tensorflow_onednn", lambda: True)
    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    assert hardware.describe_device() == "cpu:0 (AMD EPYC, 2 cores), oneDNN on"
    monkeypatch.setattr(hardware, "tensorflow_onednn", lambda: False)
    assert hardware.describe_device().endswith(", oneDNN off")
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert hardware.describe_device() == "cpu:0 (AMD EPYC, 2 cores)"


def test_arm_features_are_flags(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_info", lambda: {"Features": "fp asimd asimdhp bf16"})
    assert hardware.cpu_flags() == {"fp", "asimd", "asimdhp", "bf16"}
    assert hardware.cpu_computes("bfloat16") and hardware.cpu_computes("float16")


def test_cpu_computes(cpu):
    cpu(AVX2_ONLY)
    assert hardware.cpu_computes("float32") is True
    assert hardware.cpu_computes("bfloat16") is False
    assert hardware.cpu_computes("float16") is False
    cpu(ZEN4)
    assert hardware.cpu_computes("bfloat16") is True
    assert hardware.cpu_computes("float16") is False
    cpu(AVX2_ONLY | {"amx_bf16", "amx_fp16"})
    assert hardware.cpu_computes("bfloat16") and hardware.cpu_computes("float16")
    cpu(())  # no /proc/cpuinfo: unknown, so no warning either
    assert hardware.cpu_computes("bfloat16") is None


def test_prefer_onednn_sets_only_an_unset_variable_before_tensorflow(monkeypatch):
    monkeypatch.setattr(hardware.platform, "machine", lambda: "x86_64")
    monkeypatch.delenv(hardware.ONEDNN_VARIABLE, raising=False)
    monkeypatch.setitem(sys.modules, "tensorflow", object())
    assert not hardware.prefer_onednn()  # too late: TensorFlow read it at import
    assert hardware.ONEDNN_VARIABLE not in os.environ

    monkeypatch.delitem(sys.modules, "tensorflow")
    monkeypatch.setenv(hardware.ONEDNN_VARIABLE, "0")
    assert not hardware.prefer_onednn()  # the user's choice wins
    assert os.environ[hardware.ONEDNN_VARIABLE] == "0"

    monkeypatch.delenv(hardware.ONEDNN_VARIABLE)
    monkeypatch.setattr(hardware.platform, "machine", lambda: "aarch64")
    assert not hardware.prefer_onednn()  # measured on x86-64 only
    assert hardware.ONEDNN_VARIABLE not in os.environ

    monkeypatch.setattr(hardware.platform, "machine", lambda: "x86_64")
    assert hardware.prefer_onednn()
    assert os.environ[hardware.ONEDNN_VARIABLE] == "1"


ONEDNN_REPORT = """
import os, sys
from keras_latent.hardware import tensorflow_onednn
import tensorflow
try:
    from tensorflow.python.util._pywrap_util_port import IsMklEnabled
except ImportError:
    sys.exit(3)
print(os.environ.get("TF_ENABLE_ONEDNN_OPTS"), IsMklEnabled(), tensorflow_onednn())
"""
"""Import keras-latent, then TensorFlow; print the variable, TensorFlow's own answer and
``hardware.tensorflow_onednn``'s (exit 3 where TensorFlow lacks the query)."""


@pytest.mark.backend
def test_import_keras_latent_first_turns_onednn_on():
    """In a fresh process on x86-64: ``import keras_latent`` before TensorFlow turns oneDNN on,
    as TensorFlow itself reports (its ``IsMklEnabled`` and its start-up log line), whatever the
    CPU's default; ``TF_ENABLE_ONEDNN_OPTS=0`` keeps it off. ``tensorflow_onednn`` agrees."""
    if not hardware.is_x86_64():
        pytest.skip("keras-latent turns oneDNN on only on x86-64")
    pytest.importorskip("tensorflow")
    for given, on in ((None, True), ("0", False)):
        env = {k: v for k, v in os.environ.items() if k != hardware.ONEDNN_VARIABLE}
        env["TF_CPP_MIN_LOG_LEVEL"] = "0"  # TensorFlow logs "oneDNN custom operations are on"
        if given is not None:
            env[hardware.ONEDNN_VARIABLE] = given
        out = subprocess.run(
            [sys.executable, "-c", ONEDNN_REPORT], env=env, cwd=REPO, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        if out.returncode == 3:
            pytest.skip("this TensorFlow has no IsMklEnabled query")
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[-3:] == [given or "1", str(on), str(on)]
        assert ("oneDNN custom operations are on" in out.stderr) == on


def test_reasons_on_a_cpu_without_bf16_units(cpu, monkeypatch):
    cpu(AVX2_ONLY)
    monkeypatch.setenv(hardware.ONEDNN_VARIABLE, "1")
    assert hardware.slow_training_reasons({"float32"}) == []
    (reason,) = hardware.slow_training_reasons({"bfloat16", "float32"})
    assert "no bfloat16 arithmetic units" in reason and "float32" in reason
    monkeypatch.setattr(hardware, "devices", lambda: ["gpu:0"])
    assert hardware.slow_training_reasons({"bfloat16"}) == []  # an accelerator computes
    cpu(ZEN4)
    assert hardware.slow_training_reasons({"bfloat16"}) == []


def test_reason_when_tensorflow_left_onednn_off(cpu, monkeypatch):
    cpu(AVX2_ONLY)
    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    monkeypatch.setattr(hardware, "tensorflow_onednn", lambda: False)
    monkeypatch.delenv(hardware.ONEDNN_VARIABLE, raising=False)
    (reason,) = hardware.slow_training_reasons({"float32"})
    assert "TF_ENABLE_ONEDNN_OPTS=1" in reason
    monkeypatch.setenv(hardware.ONEDNN_VARIABLE, "0")  # the user chose: no warning
    assert hardware.slow_training_reasons({"float32"}) == []
    monkeypatch.delenv(hardware.ONEDNN_VARIABLE)
    monkeypatch.setattr(hardware, "tensorflow_onednn", lambda: True)
    assert hardware.slow_training_reasons({"float32"}) == []
    monkeypatch.setattr(hardware, "tensorflow_onednn", lambda: False)
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert hardware.slow_training_reasons({"float32"}) == []


@pytest.mark.backend
def test_fit_warns_once_of_bfloat16_on_a_cpu_without_units(cpu, monkeypatch, random_images):
    cpu(AVX2_ONLY)
    monkeypatch.setenv(hardware.ONEDNN_VARIABLE, "1")  # only the precision reason
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = Autoencoder(**TINY, seed=0)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.encoder.compute_dtype == "bfloat16"
    x = random_images(8)
    with pytest.warns(hardware.SlowTrainingWarning, match="no bfloat16 arithmetic units"):
        model.fit(x, batch_size=4, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hardware.SlowTrainingWarning)
        model.fit(x, batch_size=4, verbose=0)  # once per process
        Autoencoder(**TINY, seed=0).fit(x, batch_size=4, verbose=0)  # float32: nothing
    assert np.isfinite(model.history.history["loss"][-1])
