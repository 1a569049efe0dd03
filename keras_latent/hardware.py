"""The hardware a process trains on, and the two CPU settings that decide its speed.

Records: ``cpu_model()`` and ``describe_device()`` name the machine in metadata and benchmark
results.

Speed, on a CPU (``benchmarks/README.md``, "A CPU without AVX-512 VNNI or bf16 units"):

- **TensorFlow's oneDNN kernels.** On Linux TensorFlow turns them on by default only for CPUs
  with AVX512-VNNI, AVX512-BF16, AVX-VNNI or AMX (``DefaultOneDnnPolicy`` in TensorFlow's
  ``core/util/port.cc``), and reads ``TF_ENABLE_ONEDNN_OPTS`` once, when it is imported. On an
  x86-64 CPU without those (e.g. AMD Zen 2 and 3, Intel Skylake) it falls back to Eigen,
  and every keras-latent model trained 1.7-2.1x slower than with oneDNN on (a 2-core AMD EPYC
  Zen 3). ``prefer_onednn`` (called by ``import keras_latent`` before Keras loads) sets the
  variable to 1 on x86-64 where it is unset and TensorFlow is not imported yet; a user's own
  value, ``0`` included, wins. Where TensorFlow was imported first, ``fit`` warns instead.
- **Half-precision units.** ``mixed_bfloat16`` computes in bfloat16; a CPU without bf16
  arithmetic (x86: ``avx512_bf16`` or ``amx_bf16``; Arm: ``bf16``) emulates it, and ACAI
  trained 11-13x *slower* than in float32 on TensorFlow and PyTorch there (JAX: 1.3x).
  ``mixed_float16`` (6-14x slower there) likewise needs ``avx512_fp16``/``amx_fp16`` (x86)
  or ``asimdhp`` (Arm). ``fit`` warns. (The Arm flags are the Linux kernel's names; no Arm
  CPU was measured here.)

Both warnings are ``SlowTrainingWarning``s, shown once per process each; filter that category
to silence them.
"""

import functools
import os
import platform
import sys
import warnings

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
X86_64 = ("x86_64", "amd64")
# /proc/cpuinfo flags (x86 "flags", Arm "Features") of arithmetic units for a compute dtype.
HALF_PRECISION_UNITS = {
    "bfloat16": ("avx512_bf16", "amx_bf16", "bf16"),
    "float16": ("avx512_fp16", "amx_fp16", "asimdhp"),
}
_warned = set()  # the reasons warn_if_slow has shown in this process


class SlowTrainingWarning(UserWarning):
    """A setting of this machine makes training several times slower than it needs to be."""


@functools.cache
def cpu_info():
    """The first processor's fields of ``/proc/cpuinfo``; ``{}`` where there is none."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if not key.strip():
                    break  # end of the first processor's block
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def cpu_flags():
    """The CPU's feature flags (x86 ``flags``, Arm ``Features``); empty where unknown."""
    info = cpu_info()
    return frozenset((info.get("flags") or info.get("Features") or "").split())


def cpu_model():
    """The CPU's model name, with its family/model numbers and bf16 units where Linux says.

    e.g. ``AMD EPYC (family 25 model 17, avx512_bf16)``: a VM's model name alone can hide
    which generation it is, and the bf16 units decide what mixed precision can gain.
    """
    fields = cpu_info()
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    details = [f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"]
    details += [flag for flag in ("avx512_bf16", "amx_bf16") if flag in cpu_flags()]
    return f"{fields['model name']} ({', '.join(details)})"


def describe_device():
    """Keras' devices, the CPU model and core count, and on TensorFlow whether its oneDNN
    kernels are on, e.g. ``cpu:0 (AMD EPYC, 2 cores), oneDNN on``."""
    import keras

    description = f"{', '.join(devices())} ({cpu_model()}, {os.cpu_count()} cores)"
    onednn = tensorflow_onednn() if keras.backend.backend() == "tensorflow" else None
    if onednn is not None:
        description += f", oneDNN {'on' if onednn else 'off'}"
    return description


def devices():
    """The devices Keras' backend computes on, e.g. ``["cpu:0"]`` or ``["gpu:0"]``."""
    import keras

    try:
        return list(keras.distribution.list_devices())
    except AttributeError:  # Keras' torch backend has no distribution support
        import torch

        if torch.cuda.is_available():
            return [f"cuda:0 ({torch.cuda.get_device_name(0)})"]
        return ["cpu:0"]


def cpu_computes(dtype):
    """Whether the CPU has arithmetic units for ``dtype``: True, False, or None (unknown)."""
    units = HALF_PRECISION_UNITS.get(str(dtype))
    if units is None:
        return True  # float32 and wider: every CPU
    flags = cpu_flags()
    if not flags:
        return None
    return any(unit in flags for unit in units)


def is_x86_64():
    """Whether this is an x86-64 machine (the CPUs oneDNN was measured on here)."""
    return platform.machine().lower() in X86_64


def prefer_onednn():
    """Set ``TF_ENABLE_ONEDNN_OPTS=1`` on x86-64 where it is unset and TensorFlow not yet
    imported (TensorFlow reads it once, at import). Returns whether it set it."""
    if ONEDNN_VARIABLE in os.environ or "tensorflow" in sys.modules or not is_x86_64():
        return False
    os.environ[ONEDNN_VARIABLE] = "1"
    return True


def tensorflow_onednn():
    """Whether TensorFlow's oneDNN kernels are on; None where TensorFlow cannot say."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def slow_training_reasons(compute_dtypes):
    """Messages for each setting of this process that makes training on a CPU slow, for
    networks computing in ``compute_dtypes`` (e.g. ``{"bfloat16"}``)."""
    import keras

    if not all(device.startswith("cpu") for device in devices()):
        return []  # an accelerator: these CPU settings do not apply
    reasons = [
        f"this CPU ({cpu_model()}) has no {dtype} arithmetic units, so computing in {dtype} is "
        "emulated: ACAI trained 6-14x slower than in float32 on such a CPU. Train in float32: "
        "keras.config.set_dtype_policy('float32') before building the model."
        for dtype in sorted(compute_dtypes)
        if cpu_computes(dtype) is False
    ]
    if (
        keras.backend.backend() == "tensorflow"
        and ONEDNN_VARIABLE not in os.environ
        and is_x86_64()
        and tensorflow_onednn() is False
    ):
        reasons.append(
            "TensorFlow's oneDNN kernels are off: TensorFlow turns them on by default only for "
            "CPUs with AVX512-VNNI, AVX512-BF16 or AMX, and every keras-latent model trained "
            "1.7-2.1x faster with them on a CPU without. Set TF_ENABLE_ONEDNN_OPTS=1 before "
            "TensorFlow is imported (import keras_latent before keras does it for you), or "
            "TF_ENABLE_ONEDNN_OPTS=0 to keep them off without this warning."
        )
    return reasons


def warn_if_slow(compute_dtypes):
    """Warn (``SlowTrainingWarning``, once per process and reason) of each slow setting."""
    for reason in slow_training_reasons(compute_dtypes):
        if reason not in _warned:
            _warned.add(reason)
            warnings.warn(reason, SlowTrainingWarning, stacklevel=3)
