import keras
import numpy as np
import pytest

from keras_latent.layers import Conv2D, EccentricRegularization, NearestUpSampling2D, SpatialMean
from keras_latent.losses import eccentric_loss
from tests.helpers import gradients


def test_spatial_mean_and_serialisation():
    layer = SpatialMean(name="m")
    x = np.arange(2 * 2 * 2 * 3, dtype="float32").reshape(2, 2, 2, 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x.mean(axis=(1, 2, 3)))
    assert layer.compute_output_shape((None, 2, 2, 3)) == (None,)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, SpatialMean) and restored.name == "m"


CONV_CASES = [
    dict(filters=1, padding="same"),
    dict(filters=3, padding="same", activation="leaky"),
    dict(filters=3, padding="valid", strides=2),
    dict(filters=2, padding="same", dilation_rate=2),
    dict(filters=2, padding="same", kernel_size=2),  # even 'same': asymmetric, not fused
]


def _conv_pair(case, data_format):
    case = dict(case)
    if case.pop("activation", None):
        case["activation"] = keras.layers.LeakyReLU(0.2)
    kwargs = {"kernel_size": 3, "data_format": data_format, **case}
    return Conv2D(**kwargs), keras.layers.Conv2D(**kwargs)


@pytest.mark.backend
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(map(str, c.values())))
def test_conv2d_matches_keras_and_trains_on_a_batch_of_one(case, data_format):
    """Same values and gradients as Keras' Conv2D (fused bias or not); a batch of one
    backpropagates on torch."""
    if data_format == "channels_first" and keras.backend.backend() != "torch":
        pytest.skip("channels-first convolutions run on the torch backend only")
    ours, reference = _conv_pair(case, data_format)
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 4)).astype("float32")
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
    ours.build(x.shape), reference.build(x.shape)
    for a, b in zip(reference.weights, ours.weights):
        a.assign(b + 0.1)  # a nonzero bias
        b.assign(b + 0.1)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours(x)), keras.ops.convert_to_numpy(reference(x)), atol=1e-5
    )
    grads = gradients(lambda: keras.ops.mean(keras.ops.square(ours(x))), ours.trainable_weights)
    # Keras' own layer cannot backpropagate a batch of one on torch: take its gradients on a
    # batch of two whose loss sees only the first image.
    x2 = np.concatenate([x, x])
    expected = gradients(
        lambda: keras.ops.mean(keras.ops.square(reference(x2)[:1])), reference.trainable_weights
    )
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)
    restored = Conv2D.from_config(ours.get_config())
    assert type(restored) is Conv2D and restored.filters == ours.filters


@pytest.mark.backend
def test_conv2d_computes_in_the_policys_dtype():
    """Under mixed_bfloat16 the (fused, on torch) convolution runs and returns bfloat16."""
    data_format = "channels_first" if keras.backend.backend() == "torch" else "channels_last"
    layer = Conv2D(3, 3, padding="same", data_format=data_format, dtype="mixed_bfloat16")
    y = layer(np.ones((2, 4, 8, 8) if data_format == "channels_first" else (2, 8, 8, 4)))
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    assert layer.kernel.dtype == "float32"


@pytest.mark.backend
def test_nearest_upsampling_matches_keras_in_both_layouts():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32")
    expected = keras.ops.convert_to_numpy(keras.layers.UpSampling2D(2)(x))
    last = NearestUpSampling2D(2, data_format="channels_last")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(last(x)), expected)
    first = NearestUpSampling2D(2, data_format="channels_first")
    nchw = keras.ops.convert_to_numpy(first(x.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(nchw, expected.transpose(0, 3, 1, 2))
    assert last.compute_output_shape((None, 3, 4, 5)) == (None, 6, 8, 5)
    assert first.compute_output_shape((None, 5, 3, 4)) == (None, 5, 6, 8)
    # Gradients too (on torch the channels-first layer runs torch's own nearest kernel).
    weight = keras.ops.reshape(keras.ops.arange(6 * 8 * 5, dtype="float32"), (6, 8, 5))
    cases = (
        (last, keras.Variable(x), weight),
        (first, keras.Variable(x.transpose(0, 3, 1, 2)), keras.ops.transpose(weight, (2, 0, 1))),
    )
    grads = [
        gradients(lambda: keras.ops.sum(keras.ops.square(layer(v.value)) * w), [v])[0]  # noqa: B023
        for layer, v, w in cases
    ]
    np.testing.assert_allclose(grads[1], grads[0].transpose(0, 3, 1, 2), rtol=1e-6)
    restored = NearestUpSampling2D.from_config(first.get_config())
    assert restored.factor == 2 and restored.data_format == "channels_first"
    with pytest.raises(ValueError, match="data_format"):
        NearestUpSampling2D(2, data_format="nhwc")


# ------------------------------------------------------------------ EccentricRegularization
@pytest.mark.backend
def test_eccentric_regularization_is_an_identity_that_adds_its_weighted_loss():
    z = np.random.default_rng(0).normal(size=(6, 2, 2, 3)).astype("float32")
    layer = EccentricRegularization(weight=0.3, power=2.0, attraction=0.5)
    out = layer(z)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), z)
    (loss,) = layer.losses
    expected = 0.3 * float(eccentric_loss(z, power=2.0, attraction=0.5))
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert layer.compute_output_shape((None, 2, 2, 3)) == (None, 2, 2, 3)


def dense_model(kind):
    """A small dense autoencoder with the regularizer on its 3-value code."""
    if kind == "functional":
        inputs = keras.Input((8,))
        code = keras.layers.Dense(3, name="code")(inputs)
        code = EccentricRegularization(weight=0.5, name="eccentric")(code)
        return keras.Model(inputs, keras.layers.Dense(8)(code))

    class Subclassed(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.code = keras.layers.Dense(3, name="code")
            self.eccentric = EccentricRegularization(weight=0.5, name="eccentric")
            self.out = keras.layers.Dense(8)

        def call(self, x):
            return self.out(self.eccentric(self.code(x)))

    return Subclassed()


@pytest.mark.backend
@pytest.mark.parametrize("kind", ["functional", "subclassed"])
def test_eccentric_regularization_trains_in_functional_and_subclassed_models(kind):
    x = np.random.default_rng(1).normal(size=(64, 8)).astype("float32")
    model = dense_model(kind)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    # Keras' compute_loss adds the layer's loss to the compiled one: mse + 0.5 * eccentric.
    first = model.evaluate(x, x, batch_size=64, verbose=0)
    mse = float(np.mean((keras.ops.convert_to_numpy(model(x)) - x) ** 2))
    code = keras.ops.convert_to_numpy(model.get_layer("code")(keras.ops.convert_to_tensor(x)))
    assert first == pytest.approx(mse + 0.5 * float(eccentric_loss(code)), rel=1e-4)
    history = model.fit(x, x, batch_size=64, epochs=40, verbose=0)
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]


@pytest.mark.backend
def test_eccentric_regularization_keras_round_trip(tmp_path):
    model = dense_model("functional")
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "dense.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    layer = loaded.get_layer("eccentric")
    assert isinstance(layer, EccentricRegularization)
    assert layer.get_config() == model.get_layer("eccentric").get_config()
    x = np.random.default_rng(2).normal(size=(5, 8)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(weight=-1.0), ValueError),
        (dict(weight=float("inf")), ValueError),
        (dict(weight="big"), TypeError),
        (dict(power=-0.5), ValueError),
        (dict(attraction=0.0), ValueError),
        (dict(chunk_size=0), ValueError),
    ],
)
def test_eccentric_regularization_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error):
        EccentricRegularization(**kwargs)
