"""What a loss needs to know about data-parallel training (see the README, "Scaling out").

Keras trains data-parallel in two ways, and a model's ``compute_loss`` sees them differently:

- **Keras' distribution API** (``keras.distribution.DataParallel``, JAX): one global
  computation over the whole batch, sharded by the compiler. A loss sees the global batch:
  nothing here changes it (one replica, index 0).
- **``tf.distribute`` strategies** (``MirroredStrategy``, TensorFlow): every replica runs
  ``train_step`` on its own slice of the batch and Keras *sums* the replicas' gradients, so a
  loss must be divided by the number of replicas (what Keras' own ``Loss`` classes do), and
  random draws made with a model's ``SeedGenerator`` are identical on every replica (the
  generator's state is mirrored) unless each replica takes its own slice of a global draw.

``replica_context()`` gives ``(index, count)``; ``scale_loss`` divides by ``count``;
``replica_draw`` makes a per-example random draw equal, slice by slice, to the draw one device
would make for the global batch; ``replica_normal`` and ``replica_uniform`` are the two draws
the models make (ACAI's alphas, the denoising noise, the dropout mask, the VAE's
reparameterisation noise, the AAE's and WAE's prior draws).
"""

import keras
from keras import ops


def replica_context():
    """``(index, count)`` of the current ``tf.distribute`` replica; ``(0, 1)`` otherwise."""
    if keras.backend.backend() != "tensorflow":
        return 0, 1
    import tensorflow as tf

    count = tf.distribute.get_strategy().num_replicas_in_sync
    if count == 1:
        return 0, 1
    context = tf.distribute.get_replica_context()
    return (0 if context is None else context.replica_id_in_sync_group), count


def scale_loss(total):
    """``total / replicas``: Keras sums the replicas' gradients under ``tf.distribute``."""
    _, count = replica_context()
    return total if count == 1 else total * (1.0 / count)


def replica_draw(draw, batch_size):
    """This replica's rows of ``draw(batch_size * replicas)``.

    ``draw(n)`` returns a random tensor whose first axis has ``n`` rows, drawn from a model's
    seed generator. Every replica makes the same global draw and keeps its own consecutive
    slice, so replica ``r`` gets rows ``r*b .. (r+1)*b - 1``: the rows one device gets for the
    same examples of the global batch (when replicas get consecutive equal slices of it).
    """
    index, count = replica_context()
    if count == 1:
        return draw(batch_size)
    rows = index * batch_size + ops.arange(batch_size)
    return ops.take(draw(batch_size * count), rows, axis=0)


def replica_normal(shape, seed, dtype=None):
    """``N(0, 1)`` noise of ``shape`` (first axis the batch): this replica's rows of the global
    draw (``replica_draw``); on one device exactly ``keras.random.normal(shape, ...)``."""
    rest = tuple(shape[1:])
    return replica_draw(lambda n: keras.random.normal((n, *rest), dtype=dtype, seed=seed), shape[0])


def replica_uniform(shape, seed, dtype=None):
    """``U[0, 1)`` draws of ``shape`` (first axis the batch), as ``replica_normal``."""
    rest = tuple(shape[1:])
    return replica_draw(
        lambda n: keras.random.uniform((n, *rest), dtype=dtype, seed=seed), shape[0]
    )
