"""The autoencoder every keras-latent model builds on.

``Autoencoder`` is the paper's plain baseline: the ACAI encoder and decoder trained on the mean
squared reconstruction error ``mean((x - decode(encode(x)))^2)``. Subclasses change only
``loss_terms``; Keras' own backend-specific ``train_step`` calls ``compute_loss``, so one code
path trains on TensorFlow, JAX and PyTorch.

When ``fit`` is given labels, a linear probe (one dense layer on the stop-gradient flattened
latent, softmax cross-entropy) trains alongside, as in the paper's representation evaluation;
its gradient never reaches the autoencoder. Its metrics (``probe_loss``, ``probe_accuracy``) are
logged only by steps that get labels: ``fit`` without labels logs none.

Sampling: a deterministic autoencoder (this class and every subclass without a prior: ACAI,
dropout, denoising, eccentric, RAE, IRMAE, VQ-VAE) has no latent distribution of its own, so
``sample`` decodes codes drawn from a latent sampler fitted ex post on training codes
(``fit_sampler``; Ghosh et al. 2020). VAE, AAE and WAE override ``sample`` to draw from their
``N(0, std^2 I)`` prior (``samples_from_prior = True``). Every model's ``sample`` has the
signature ``sample(n, seed=None, batch_size=256)``.

Every training step also returns a few statistics of its batch (:func:`batch_statistics`),
which ``fit``'s first callback (``callbacks.StepCheck``) checks and removes: a later batch of
0-255 or NaN images, out-of-range labels or a non-finite loss stops ``fit`` at that step with a
clear error, before any later callback (a checkpoint) of the step runs.

Keras-native entry points: ``Model.from_preset(name)`` (``keras_latent.zoo.load`` with a check
that the preset holds that class or a subclass) and ``model.export(path, part=...)`` (a TF
SavedModel, or another Keras format, of the whole model, the encoder or the decoder, with the
input signature of the model's shapes).
"""

import warnings
from pathlib import Path

import keras
import numpy as np
from keras import ops

from keras_latent import callbacks as callbacks_lib
from keras_latent import distribute, hardware, sampling, validation
from keras_latent.architectures import build_decoder, build_encoder
from keras_latent.datasets.feeding import without_autotune
from keras_latent.models.precision import float32
from keras_latent.principal_components import principal_components
from keras_latent.sampling import load_sampler, make_sampler, save_sampler

# Adam as in the official TF1 code: lr 1e-4, epsilon 1e-8 (Keras' default epsilon is 1e-7).
LEARNING_RATE = 1e-4
ADAM_EPSILON = 1e-8
# Files of a fitted latent sampler inside a .keras file's assets (and a preset folder).
SAMPLER_CONFIG = sampling.CONFIG_FILE
SAMPLER_ARRAYS = sampling.ARRAYS_FILE
# Logged by the linear probe, only by steps that get labels.
PROBE_METRICS = ("probe_loss", "probe_accuracy")

# Keras warns when a variable gets no gradient; the linear probe gets none when ``fit`` has no
# labels, as intended. ``fit`` silences exactly that warning (any other variable still shows).
PROBE_WITHOUT_GRADIENT = r"Gradients do not exist for variables \['probe/kernel', 'probe/bias'\] "


def default_optimizer():
    """The paper's optimizer: ``Adam(1e-4, epsilon=1e-8)``."""
    return keras.optimizers.Adam(learning_rate=LEARNING_RATE, epsilon=ADAM_EPSILON)


@keras.saving.register_keras_serializable(package="keras_latent")
class Autoencoder(keras.Model):
    """Plain convolutional autoencoder with the ACAI architecture.

    Args:
        image_shape: ``(size, size, channels)``; ``size / latent_width`` a power of two.
        depth: channels of the first convolution (doubled at each scale).
        latent: channels of the spatial latent.
        latent_width: spatial width of the latent; ``d_z = latent * latent_width**2``.
        num_classes: if set, a linear probe on the latent trains when ``fit`` gets labels.
        seed: seed of the model's random draws during training (None: random).

    ``call(x)`` returns ``{"latent": z, "reconstruction": x_hat}``; use ``encode``,
    ``decode``, ``reconstruct`` and ``interpolate`` for numpy in, numpy out. Images are NHWC
    float32 in [-1, 1]; the decoder's output is linear (not clipped).
    """

    loss_names = ("reconstruction",)
    samples_from_prior = False
    """True where ``sample`` draws from the model's prior, not from a fitted latent sampler."""

    def __init__(
        self,
        image_shape=(32, 32, 1),
        depth=16,
        latent=16,
        latent_width=4,
        num_classes=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(v) for v in image_shape)
        self.depth = int(depth)
        self.latent = int(latent)
        self.latent_width = int(latent_width)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.seed = seed
        if self.num_classes is not None and self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        arch = dict(
            image_shape=self.image_shape,
            depth=self.depth,
            latent=self.latent,
            latent_width=self.latent_width,
        )
        self.encoder = build_encoder(**arch)
        self.decoder = build_decoder(**arch)
        self.probe = None
        if self.num_classes is not None:
            self.probe = keras.layers.Dense(self.num_classes, name="probe")
            self.probe.build((None, self.latent_size))
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.latent_sampler = None  # set by fit_sampler; saved in .keras files
        self.loss_trackers = [keras.metrics.Mean(name=name) for name in self.loss_names]
        if self.probe is not None:
            self.probe_loss_tracker = keras.metrics.Mean(name="probe_loss")
            self.probe_accuracy = keras.metrics.SparseCategoricalAccuracy(name="probe_accuracy")
        self.built = True

    # ----------------------------------------------------------------------------- shapes
    @property
    def latent_shape(self):
        """Shape of one latent code: ``(latent_width, latent_width, latent)``."""
        return (self.latent_width, self.latent_width, self.latent)

    @property
    def latent_size(self):
        """``d_z = latent * latent_width**2``."""
        return int(np.prod(self.latent_shape))

    # ------------------------------------------------------------------------ forward pass
    def call(self, x, training=False):
        z = self.encoder(x, training=training)
        return {"latent": z, "reconstruction": self.decoder(z, training=training)}

    def loss_terms(self, x, outputs, training):
        """``(total, {name: value})`` of the autoencoder's own loss (no probe).

        Plain autoencoder: ``mean((x - x_hat)^2)``.
        """
        reconstruction = ops.mean(ops.square(x - outputs["reconstruction"]))
        return reconstruction, {"reconstruction": reconstruction}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The one training hook: ``loss_terms`` plus, given labels, the probe's cross-entropy.

        Every term is logged under its name; ``loss`` is the sum that is minimised. Under a
        ``tf.distribute`` strategy the returned loss is divided by the number of replicas, as
        Keras' own losses are (Keras sums the replicas' gradients and logs the sum).
        """
        if sample_weight is not None:
            raise ValueError("keras-latent models do not support sample_weight")
        x = ops.convert_to_tensor(x)  # torch's train_on_batch passes numpy arrays through
        self._training_step = bool(training)  # read by compute_metrics in the same step
        y_pred = float32(y_pred)  # losses in float32 under mixed precision
        total, terms = self.loss_terms(x, y_pred, training)
        for tracker in self.loss_trackers:
            tracker.update_state(terms[tracker.name])
        if y is not None:
            if self.probe is None:
                raise ValueError(
                    "labels were given but the model has no linear probe: construct it with "
                    "num_classes=K"
                )
            features = y_pred.get("probe_features", y_pred["latent"])  # the VAE may differ
            z = ops.stop_gradient(ops.reshape(features, (-1, self.latent_size)))
            logits = float32(self.probe(z))
            labels = ops.reshape(y, (-1,))
            if training:  # out-of-range labels are reported by the step check, after the step
                labels = ops.clip(labels, 0, self.num_classes - 1)
            probe_loss = ops.mean(
                keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
            )
            self.probe_loss_tracker.update_state(probe_loss)
            self.probe_accuracy.update_state(labels, logits)
            total = total + probe_loss
        return distribute.scale_loss(total)  # / replicas under tf.distribute (Keras sums them)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Keras' metric results, without the probe's where the step has no labels (``y`` is
        None when the step function is traced, so compiled steps decide once); in a training
        step, plus the batch's statistics (:func:`batch_statistics`) for
        ``callbacks.StepCheck``."""
        logs = super().compute_metrics(x, y, y_pred, sample_weight)
        if y is None:
            for name in PROBE_METRICS:
                logs.pop(name, None)
        if getattr(self, "_training_step", False):
            logs.update(batch_statistics(x, y, self.num_classes))
        return logs

    # ------------------------------------------------------------------------- training
    def compile(self, optimizer=None, **kwargs):
        """Keras' ``compile``; the default optimizer is the paper's ``Adam(1e-4, eps=1e-8)``.

        No ``loss`` is needed: the model's losses are its own (``compute_loss``).
        """
        super().compile(optimizer=optimizer or default_optimizer(), **kwargs)

    def compile_from_config(self, config):
        """Recompile from a saved compile config (Keras skips this for a custom ``compile``)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        *args,
        **kwargs,
    ):
        """Keras' ``fit`` after checking the data (see ``keras_latent.validation``), with a
        ``hardware.SlowTrainingWarning`` where a CPU setting slows training several times.

        ``x``: images in [-1, 1] (array, PyDataset, tf.data or generator yielding ``x`` or
        ``(x, labels)``); ``y``: optional integer labels for the linear probe (without them
        the probe is left as it is, and Keras' warning that it has no gradient is silenced).
        Every step is checked by a ``callbacks.StepCheck`` put first among ``callbacks``: a bad
        batch raises ``validation.BadBatchError``, a NaN loss ``validation.NonFiniteLossError``.
        Training discards a fitted latent sampler (it described the codes of the weights before
        training): call ``fit_sampler`` again to sample.
        """
        self._check_data(x, y, kwargs.get("validation_data"))
        if not self.compiled:
            self.compile()
        self.latent_sampler = None
        hardware.warn_if_slow({self.encoder.compute_dtype, self.decoder.compute_dtype})
        x = without_autotune(x)  # no tf.data autotune stall (keras_latent.datasets.feeding)
        if "validation_data" in kwargs:
            kwargs["validation_data"] = without_autotune(kwargs["validation_data"])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", PROBE_WITHOUT_GRADIENT, UserWarning)
            return super().fit(
                x,
                y,
                batch_size,
                epochs,
                verbose,
                callbacks_lib.with_step_check(callbacks, self),
                *args,
                **kwargs,
            )

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """Keras' ``train_on_batch``, raising as ``fit`` does for a bad batch or a NaN loss (and
        discarding a fitted latent sampler, as ``fit`` does)."""
        self.latent_sampler = None
        logs = super().train_on_batch(x, y, sample_weight, class_weight, return_dict=True)
        validation.check_step(logs, "train_on_batch", self.num_classes)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_data(x, y)
        if not self.compiled:
            self.compile()
        return super().evaluate(without_autotune(x), y, *args, **kwargs)

    def _check_data(self, x, y, validation_data=None):
        batch = validation.first_batch(x)
        if batch is not None:
            x, y, _ = validation.split_batch(batch)
        if x is None or not hasattr(x, "shape"):
            return  # a generator: not checked (see keras_latent.validation)
        x = validation.check_images(x, self.image_shape)
        if y is not None:
            validation.check_labels(y, len(x), self.num_classes)
        if isinstance(validation_data, (tuple, list)):
            self._check_data(*validation_data[:2])
        elif validation_data is not None:
            self._check_data(validation_data, None)

    # -------------------------------------------------------------- numpy in, numpy out
    def encode(self, x, batch_size=256, seed=None):
        """Images ``(n, H, W, C)`` in [-1, 1] -> latents ``(n, *latent_shape)``.

        ``seed``: for a model whose codes are random draws (``VAE(latent_mode="sample")``), an
        int repeats the draw; a deterministic encoder, as here, ignores it."""
        x = validation.check_images(x, self.image_shape)
        return self._map_batches(self.encoder, x, batch_size)

    def decode(self, z, batch_size=256):
        """Latents ``(n, *latent_shape)`` (or flattened ``(n, d_z)``) -> images."""
        return self._map_batches(self.decoder, self._check_latents(z), batch_size)

    def _check_latents(self, z):
        """``z`` as float32 ``(n, *latent_shape)`` (flattened codes reshaped), or ValueError."""
        z = np.asarray(z, dtype="float32")
        if z.ndim == 2 and z.shape[1] == self.latent_size:
            z = z.reshape((-1, *self.latent_shape))
        if z.ndim != 4 or z.shape[1:] != self.latent_shape:
            raise ValueError(
                f"latents must have shape (n, {self.latent_shape}) or (n, {self.latent_size}); "
                f"got {z.shape}"
            )
        if not np.all(np.isfinite(z)):
            raise ValueError("latents contain NaN or infinite values")
        return z

    def reconstruct(self, x, batch_size=256):
        """``decode(encode(x))``."""
        return self.decode(self.encode(x, batch_size), batch_size)

    def interpolate(self, x_a, x_b, steps=16, method="linear", batch_size=256, seed=None):
        """Decode latent interpolations: ``(n, steps, H, W, C)``, endpoints included.

        ``method="linear"``: ``z_t = (1 - t) z_a + t z_b``, ``t = k / (steps - 1)``.
        ``method="slerp"``: spherical interpolation of the flattened codes,
        ``z_t = sin((1-t) w)/sin(w) z_a + sin(t w)/sin(w) z_b`` with ``w`` the angle between
        them (linear where they are parallel). ``seed``: where the codes are random draws
        (:meth:`encode`), an int repeats them (``x_a`` and ``x_b`` get independent draws).
        """
        if int(steps) < 2:
            raise ValueError(f"steps must be >= 2, got {steps}")
        seed_a = seed_b = None
        if seed is not None:
            seed_a, seed_b = np.random.default_rng(seed).integers(2**31, size=2)
        z_a = self.encode(x_a, batch_size, seed=seed_a).reshape(len(x_a), -1)
        z_b = self.encode(x_b, batch_size, seed=seed_b).reshape(len(x_b), -1)
        if z_a.shape != z_b.shape:
            raise ValueError(f"x_a and x_b must hold as many images ({len(z_a)} != {len(z_b)})")
        t = np.linspace(0.0, 1.0, int(steps), dtype="float32")
        codes = interpolate_codes(z_a, z_b, t, method)
        frames = self.decode(codes.reshape((-1, *self.latent_shape)), batch_size)
        return frames.reshape((len(z_a), int(steps), *self.image_shape))

    # ----------------------------------------------------------- the latent distribution
    def principal_components(self, x, batch_size=256, allow_singular=False):
        """Principal components of the codes of images ``x`` (the latent covariance's
        eigenvectors by decreasing variance): see ``keras_latent.principal_components``.
        ``.eccentricity`` is the ratio of the largest to the smallest variance."""
        return principal_components(self.encode(x, batch_size), allow_singular=allow_singular)

    def fit_sampler(self, x, kind="gmm", batch_size=256, **kwargs):
        """Fit a latent sampler on the codes of images ``x``; ``sample`` then draws from it.

        ``kind``: "gmm" (``GaussianMixtureSampler``, 10 components by default) or "pca"
        (``PrincipalComponentSampler``); ``kwargs`` go to the sampler. The fitted sampler is
        kept in ``.keras`` files and preset folders (``keras_latent.zoo.save_preset``), not in
        weights-only files: refit it after ``load_weights``. Returns the sampler.
        """
        sampler = make_sampler(kind, **kwargs)
        sampler.fit(self.encode(x, batch_size))
        self.latent_sampler = sampler
        return sampler

    def sample(self, n, seed=None, batch_size=256):
        """Decode ``n`` codes drawn from the fitted latent sampler: ``(n, H, W, C)``.

        ``seed=None``: the sampler's next draws (successive calls differ; a sampler fitted with
        a seed repeats its sequence from the fit or the load). An int: a fresh draw of that
        seed, the same images for the same seed, leaving the sampler's own stream untouched.
        """
        if self.latent_sampler is None:
            raise RuntimeError(
                f"{type(self).__name__} has no latent sampler: call "
                "model.fit_sampler(x_train, kind='gmm' or 'pca') on training images first"
            )
        return self.decode(self.latent_sampler.sample(n, seed=seed), batch_size)

    def save_assets(self, dir_path):
        """Keras saving hook: write the fitted latent sampler (if any) beside the weights."""
        if self.latent_sampler is not None:
            save_sampler(self.latent_sampler, dir_path)

    def load_assets(self, dir_path):
        """Keras loading hook: restore the latent sampler saved by ``save_assets`` (refused,
        naming the file, where it is malformed or of another latent shape)."""
        sampler = load_sampler(dir_path, latent_shape=self.latent_shape)
        if sampler is not None:
            self.latent_sampler = sampler

    # ------------------------------------------------------------- tensors in, tensors out
    def encode_tensor(self, x, training=False):
        """The graph of :meth:`encode`: images -> codes ``(n, *latent_shape)``, backend (or
        symbolic) tensors in and out; what ``export(path, part="encoder")`` serves."""
        return self.encoder(x, training=training)

    def decode_tensor(self, z, training=False):
        """The graph of :meth:`decode`: codes ``(n, *latent_shape)`` -> images, backend (or
        symbolic) tensors in and out; what ``export(path, part="decoder")`` serves."""
        return self.decoder(z, training=training)

    @staticmethod
    def _map_batches(network, x, batch_size):
        outputs = [
            ops.convert_to_numpy(float32(network(x[i : i + batch_size], training=False)))
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(outputs, axis=0)

    # ------------------------------------------------------------- presets and export
    @classmethod
    def from_preset(cls, preset, weights=True, compile=True, sha256=None):
        """The model of ``preset``, as ``keras_latent.zoo.load(preset, weights, compile,
        sha256)`` (a shipped preset name, a preset or run folder, a URL), keras-hub's way::

            model = ACAI.from_preset("acai_mnist", weights=False)

        The preset must hold this class or a subclass of it (its ``config.json`` is checked
        before any weights are read): ``Autoencoder.from_preset("acai_lines")`` returns the
        ``ACAI`` of that preset, as keras-hub's base classes do, while
        ``ACAI.from_preset("ae_lines")`` is a ValueError naming both classes.
        """
        from keras_latent import zoo

        check_preset_class(cls, zoo.resolve(preset, sha256), preset)
        model = zoo.load(preset, weights=weights, compile=compile, sha256=sha256)
        if not isinstance(model, cls):  # a class the config did not name as registered
            raise ValueError(_other_class(preset, type(model).__name__, cls))
        return model

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               part="model", **kwargs):  # fmt: skip
        """Keras' ``export`` (``format="tf_saved_model"``, ``"onnx"``, ...), of the whole model
        or of one ``part``, with the input signature of the model's shapes unless given.

        ``part``: ``"model"`` serves ``call(x)`` (a dict: ``latent``, ``reconstruction``
        and the model's other outputs) for images ``(n, *image_shape)``; ``"encoder"`` serves
        :meth:`encode_tensor` (images -> codes ``(n, *latent_shape)``: the VAE's posterior
        mean); ``"decoder"`` serves :meth:`decode_tensor` (codes -> images). All float32. A
        TF SavedModel is reloaded with ``tf.saved_model.load(path)``; its ``serve`` endpoint
        (and signature ``serving_default``) takes a float32 batch. ONNX needs the ``onnx``
        packages (Keras raises its own error without them); TF SavedModel export needs
        TensorFlow, installed with keras-latent (from JAX it goes through ``jax2tf``).
        """
        if part not in EXPORT_PARTS:
            raise ValueError(f"part must be one of {EXPORT_PARTS}, got {part!r}")
        if part != "model":
            network = self.part_model(part)
            return network.export(
                filepath, format=format, verbose=verbose, input_signature=input_signature,
                **kwargs,
            )  # fmt: skip
        if input_signature is None:
            input_signature = [keras.InputSpec(shape=(None, *self.image_shape), dtype="float32")]
        return super().export(
            filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs
        )

    def part_model(self, part):
        """A functional ``keras.Model`` of the ``"encoder"`` (:meth:`encode_tensor`) or the
        ``"decoder"`` (:meth:`decode_tensor`), sharing this model's layers and weights, with
        float32 inputs and outputs; what ``export(path, part=...)`` writes."""
        if part not in ("encoder", "decoder"):
            raise ValueError(f"part must be 'encoder' or 'decoder', got {part!r}")
        shape = self.image_shape if part == "encoder" else self.latent_shape
        inputs = keras.Input(shape=shape, dtype="float32", name="images" if part == "encoder"
                             else "codes")  # fmt: skip
        graph = self.encode_tensor if part == "encoder" else self.decode_tensor
        return keras.Model(inputs, float32(graph(inputs)), name=f"{self.name}_{part}")

    # ------------------------------------------------------------------- serialisation
    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            depth=self.depth,
            latent=self.latent,
            latent_width=self.latent_width,
            num_classes=self.num_classes,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


EXPORT_PARTS = ("model", "encoder", "decoder")
"""What :meth:`Autoencoder.export` exports: the whole model, or the encoder or decoder."""


def check_preset_class(cls, folder, preset):
    """ValueError naming both classes where the model ``folder/config.json`` describes is not
    ``cls`` or a subclass of it (read from its ``registered_name``; a class it does not name
    as registered is checked once the model is built)."""
    import keras_latent.models  # noqa: F401  (registers the classes)
    from keras_latent import saving
    from keras_latent.files import read_json

    path = Path(folder) / saving.CONFIG_FILE
    config = read_json(path) if path.is_file() else None
    if not isinstance(config, dict):
        return  # a missing or malformed config: zoo.load says what is wrong
    registered = config.get("registered_name")
    found = keras.saving.get_registered_object(registered) if registered else None
    if isinstance(found, type) and not issubclass(found, cls):
        raise ValueError(_other_class(preset, found.__name__, cls))


def _other_class(preset, name, cls):
    """The message of a preset of class ``name`` loaded through ``cls.from_preset``."""
    return (
        f"preset {str(preset)!r} holds a model of class {name}, not {cls.__name__} or a "
        f"subclass of it: load it with {name}.from_preset({str(preset)!r}) or "
        "keras_latent.zoo.load"
    )


def batch_statistics(x, y=None, num_classes=None):
    """In-step statistics of a training batch, for ``validation.check_batch``: min and max of
    the images, ``images_excess`` > 0 iff they leave [-1, 1] by more than the tolerance,
    ``images_nonfinite`` > 0 iff one is NaN or infinite; given labels, their min, max and
    ``labels_excess`` > 0 iff one is outside [0, num_classes). Three reductions over the
    images, two over the labels; keys under ``validation.BATCH_PREFIX``."""
    x = ops.cast(ops.convert_to_tensor(x), "float32")
    low, high = ops.min(x), ops.max(x)
    stats = {
        "images_min": low,
        "images_max": high,
        "images_excess": ops.maximum(
            ops.maximum(high - 1.0, -1.0 - low) - validation.RANGE_TOLERANCE, 0.0
        ),
        "images_nonfinite": 1.0 - ops.cast(ops.all(ops.isfinite(x)), "float32"),
    }
    if y is not None:
        labels = ops.cast(ops.convert_to_tensor(y), "float32")
        low, high = ops.min(labels), ops.max(labels)
        stats.update(
            labels_min=low,
            labels_max=high,
            labels_excess=ops.maximum(ops.maximum(high - (num_classes - 1), -low), 0.0),
        )
    return {validation.BATCH_PREFIX + key: value for key, value in stats.items()}


def interpolate_codes(z_a, z_b, t, method="linear"):
    """``(n, d)``, ``(n, d)``, ``(steps,)`` -> ``(n, steps, d)`` interpolated codes."""
    t = t[None, :, None]
    z_a, z_b = z_a[:, None, :], z_b[:, None, :]
    if method == "linear":
        return (1.0 - t) * z_a + t * z_b
    if method != "slerp":
        raise ValueError(f"method must be 'linear' or 'slerp', got {method!r}")
    norms = np.linalg.norm(z_a, axis=-1, keepdims=True) * np.linalg.norm(
        z_b, axis=-1, keepdims=True
    )
    cosine = np.sum(z_a * z_b, axis=-1, keepdims=True) / np.maximum(norms, 1e-12)
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))
    sin_omega = np.sin(omega)
    parallel = sin_omega < 1e-6
    safe = np.where(parallel, 1.0, sin_omega)
    w_a = np.where(parallel, 1.0 - t, np.sin((1.0 - t) * omega) / safe)
    w_b = np.where(parallel, t, np.sin(t * omega) / safe)
    return (w_a * z_a + w_b * z_b).astype("float32")
