"""Hand-written training loops that ``throughput.py`` times beside Keras' ``fit``.

Each function trains for ``steps`` batches of ``batch`` images and returns
``{"images_per_s", "seconds", "steps_timed"}``, timed from the start of the second step to the
end of the last (the first step traces / warms up), so it is comparable with the in-fit rate.

- ``tf_function_loop``: a ``tf.function`` train step over the *same* keras-latent model: the
  model's call, its ``loss_terms`` (so ACAI runs its critic three times, as in ``fit``) and
  Keras' Adam (``apply_gradients``). TensorFlow backend only.
- ``torch_eager_loop``: PyTorch eager with ``torch.nn`` modules that mirror
  ``keras_latent.architectures`` (NCHW, PyTorch's native layout), the same losses (ACAI's
  adversarial term through ``torch.func.functional_call`` with detached critic weights: the
  stop-gradient formulation of ``keras_latent.models.acai``), one ``torch.optim.Adam``; on
  the GPU when CUDA is available.
- ``pythae_loop``: pythae's ``BaseTrainer.train_step`` (one epoch) on its ``AE`` with the same
  torch encoder and decoder. pythae is not a keras-latent dependency: absent, it is skipped.
"""

import math
import time

import numpy as np

LEAKY = 0.2
GAMMA = 0.2  # ACAI critic regularisation
LAMBDA = 0.5  # ACAI adversarial weight


# ----------------------------------------------------------------------------- TensorFlow
def tf_function_loop(model, images, batch, steps):
    """``tf.function`` step: ``model(x)``, ``model.loss_terms``, the model's Adam."""
    import tensorflow as tf

    optimizer = model.optimizer
    variables = model.trainable_variables
    optimizer.build(variables)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            outputs = model(x, training=True)
            outputs = {k: tf.cast(v, "float32") for k, v in outputs.items()}
            total, _ = model.loss_terms(x, outputs, True)
            scaled = total
        grads = tape.gradient(scaled, [v.value for v in variables])
        optimizer.apply(grads, variables)
        return total

    data = tf.constant(images)
    step(data[:batch]).numpy()  # trace + first step
    start = time.perf_counter()
    for i in range(1, steps):
        loss = step(data[i * batch : (i + 1) * batch])
    loss.numpy()
    return _rate(batch, steps - 1, time.perf_counter() - start)


# --------------------------------------------------------------------------------- torch
def _torch_modules(model_name, image_shape, depth, latent, latent_width):
    import torch
    from torch import nn

    size, _, channels = image_shape
    scales = int(math.log2(size // latent_width))

    def conv(cin, cout, k, act=True):
        layer = nn.Conv2d(cin, cout, k, padding=k // 2)
        nn.init.normal_(layer.weight, std=1.0 / math.sqrt((1 + LEAKY**2) * cin * k * k))
        nn.init.zeros_(layer.bias)
        return [layer, nn.LeakyReLU(LEAKY)] if act else [layer]

    def encoder_layers():
        layers, cin = conv(channels, depth, 1, act=False), depth
        for s in range(scales):
            layers += conv(cin, depth << s, 3) + conv(depth << s, depth << s, 3)
            layers.append(nn.AvgPool2d(2))
            cin = depth << s
        layers += conv(cin, depth << scales, 3) + conv(depth << scales, latent, 3, act=False)
        return layers

    dec, cin = [], latent
    for s in range(scales - 1, -1, -1):
        dec += conv(cin, depth << s, 3) + conv(depth << s, depth << s, 3)
        dec.append(nn.Upsample(scale_factor=2, mode="nearest"))
        cin = depth << s
    dec += conv(cin, depth, 3) + conv(depth, channels, 3, act=False)
    modules = {"encoder": nn.Sequential(*encoder_layers()), "decoder": nn.Sequential(*dec)}
    if model_name == "acai":
        modules["critic"] = nn.Sequential(*encoder_layers())
    return torch.nn.ModuleDict(modules)


def torch_eager_loop(model_name, arch, images, batch, steps, bf16=False):
    """PyTorch eager, the same losses as keras-latent's ``Autoencoder`` / ``ACAI``."""
    import torch
    from torch.func import functional_call

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    nets = _torch_modules(model_name, **arch).to(device)
    optimizer = torch.optim.Adam(nets.parameters(), lr=1e-4, eps=1e-8)
    data = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).to(device)

    def critic_score(params, x):
        out = functional_call(nets["critic"], params, (x,)) if params else nets["critic"](x)
        return out.float().mean(dim=(1, 2, 3))

    def loss(x):
        z = nets["encoder"](x)
        x_hat = nets["decoder"](z).float()
        total = torch.mean((x - x_hat) ** 2)
        if model_name == "acai":
            alpha = 0.5 - torch.abs(torch.rand(x.shape[0], 1, 1, 1, device=device) - 0.5)
            x_mix = nets["decoder"](alpha * z + (1 - alpha) * torch.flip(z, dims=(0,))).float()
            frozen = {k: v.detach() for k, v in nets["critic"].named_parameters()}
            adversarial = torch.mean(critic_score(frozen, x_mix) ** 2)
            real = GAMMA * x + (1 - GAMMA) * x_hat
            critic = torch.mean(
                (critic_score(None, x_mix.detach()) - alpha.reshape(-1)) ** 2
            ) + torch.mean(critic_score(None, real.detach()) ** 2)
            total = total + LAMBDA * adversarial + critic
        return total

    def step(i):
        x = data[i * batch : (i + 1) * batch]
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            total = loss(x)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        return total

    step(0)
    start = time.perf_counter()
    for i in range(1, steps):
        total = step(i)
    total.item()  # wait for the device
    return _rate(batch, steps - 1, time.perf_counter() - start)


def pythae_loop(arch, images, batch, steps):
    """pythae's ``AE`` trained by its ``BaseTrainer`` on the same encoder and decoder.

    Times ``trainer.train_step`` (pythae's own epoch loop: its DataLoader, forward, backward,
    Adam) over ``steps`` batches after a warm-up epoch of 2 batches, in float32 (pythae's
    ``amp`` is CUDA float16 only). Returns None when pythae is not installed.
    """
    try:
        from pythae.data.datasets import BaseDataset
        from pythae.models import AE, AEConfig
        from pythae.models.base.base_utils import ModelOutput
        from pythae.models.nn import BaseDecoder, BaseEncoder
        from pythae.trainers import BaseTrainer, BaseTrainerConfig
    except ImportError:
        return None
    import logging
    import tempfile

    import torch

    logging.getLogger("pythae").setLevel(logging.WARNING)

    nets = _torch_modules("ae", **arch)

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = nets["encoder"]

        def forward(self, x):
            return ModelOutput(embedding=self.net(x).flatten(1))

    latent_shape = (arch["latent"], arch["latent_width"], arch["latent_width"])

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = nets["decoder"]

        def forward(self, z):
            return ModelOutput(reconstruction=self.net(z.reshape(-1, *latent_shape)))

    size, _, channels = arch["image_shape"]
    config = AEConfig(input_dim=(channels, size, size), latent_dim=int(np.prod(latent_shape)))
    model = AE(model_config=config, encoder=Encoder(), decoder=Decoder())
    data = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    labels = torch.zeros(len(data))

    def trainer_for(x, folder):
        training = BaseTrainerConfig(
            output_dir=folder,
            per_device_train_batch_size=batch,
            num_epochs=1,
            learning_rate=1e-4,
            optimizer_params={"eps": 1e-8},
            no_cuda=not torch.cuda.is_available(),
        )
        trainer = BaseTrainer(model, BaseDataset(x, labels[: len(x)]), training_config=training)
        trainer.prepare_training()  # what BaseTrainer.train does before its epochs
        return trainer

    with tempfile.TemporaryDirectory() as folder:
        warm = trainer_for(data[: 2 * batch], folder)
        warm.train_step(1)
        trainer = trainer_for(data[: steps * batch], folder)
        start = time.perf_counter()
        trainer.train_step(1)
        seconds = time.perf_counter() - start
    return _rate(batch, steps, seconds)


def _rate(batch, steps, seconds):
    return {
        "images_per_s": round(batch * steps / seconds, 1),
        "seconds": round(seconds, 3),
        "steps_timed": steps,
    }
