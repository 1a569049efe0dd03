"""Mixed precision: half-precision compute, float32 losses.

Under a Keras mixed policy (``keras.mixed_precision.set_global_policy("mixed_bfloat16")`` or
``"mixed_float16"``) every layer computes in half precision and keeps float32 variables. The
models then cast what feeds a loss to float32 with :func:`float32` before any reduction,
``exp``, ``softplus`` or squared difference: model outputs (in ``compute_loss``), the linear
probe's logits, critic and discriminator scores. bfloat16 keeps 8 bits of mantissa (a mean of
thousands of squared errors, or ``0.999 * ema``, rounds badly) and float16 overflows above
65504. State that moves by small increments (the VQ-VAE codebook and its moving averages) is
computed in a float32 layer. Under ``"mixed_float16"`` Keras' ``compile`` wraps the optimizer
in a ``LossScaleOptimizer``; nothing here depends on it.
"""

import keras
from keras import ops


def float32(values):
    """``values`` (a tensor or a nested structure of tensors) with every floating tensor cast
    to float32; integer tensors (codebook indices, labels) are returned unchanged."""

    def cast(value):
        dtype = keras.backend.standardize_dtype(value.dtype)
        return ops.cast(value, "float32") if "float" in dtype else value

    return keras.tree.map_structure(cast, values)
