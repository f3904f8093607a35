"""Anomaly-detection autoencoders for the L1 trigger: a QAT autoencoder and a VAE, their losses and scores.

Both are built from quantization-aware :class:`hepjax.hls.models.TriggerMLP` blocks:

* ``ae``: ``d -> hidden -> latent -> reversed(hidden) -> d``; loss and score: mean squared
  reconstruction error over the ``d`` inputs;
* ``vae``: encoder ``d -> hidden -> 2 * latent`` (mu, log sigma^2), decoder as the AE's second half;
  loss ``(1 - beta) * reconstruction + beta * KL``; score ``sum mu^2`` (the AXOL1TL choice: only the
  encoder runs in the FPGA).

Inputs are standardised event summaries ``x [B, d]`` (dimensionless).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


class VAE(nn.Module):
    """Encoder (exported) -> reparameterised latent -> decoder; returns (recon, mu, logvar)."""

    encoder: nn.Module
    decoder: nn.Module
    latent: int

    def __call__(self, x, key):
        h = self.encoder(x)
        mu, logvar = h[:, : self.latent], jnp.clip(h[:, self.latent :], -8.0, 8.0)
        z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape)
        return self.decoder(z), mu, logvar


def trigger_mlp(q, widths, prefix: str, *, source: str = ""):
    """A :class:`~hepjax.hls.models.TriggerMLP` of ``widths`` with the QAT types of section ``q``.

    ``q`` has ``input_type``, ``weight_bits``, ``weight_integer``, ``result_type``,
    ``activation_bits``, ``activation_integer`` and ``layers`` (per-layer overrides, named
    ``<prefix>dense_<i>``).
    """
    from hepjax.hls.models import TriggerMLP, qat_types_from_section

    t = qat_types_from_section(q, len(widths), prefix=prefix, source=source)
    return TriggerMLP(tuple(widths), **t)


def networks(m, source: str = "") -> list[tuple[str, int, str]]:
    """(kind, number of Dense layers, layer-name prefix) of every TriggerMLP the run builds."""
    from hepjax.config import ConfigError

    out = []
    for kind in m.kinds:
        if kind == "ae":
            out.append((kind, 2 * len(m.hidden) + 2, "ae/"))
        elif kind == "vae":
            out += [(kind, len(m.hidden) + 1, "vae/encoder/"), (kind, len(m.hidden) + 1, "vae/decoder/")]
        else:
            raise ConfigError(f"{source}: model.kinds: unknown kind {kind!r} (use ae, vae)")
    return out


def build_model(
    kind: str, m, mlp: Callable, d: int, x0: np.ndarray, key_init: jax.Array, key_sample: jax.Array
) -> tuple[nn.Module, Callable, Any, nn.Module, tuple[str, ...]]:
    """``(model, loss_fn, params, firmware model, firmware params path)`` of one ``kind`` ("ae" or "vae").

    ``m`` has ``hidden``, ``latent`` and ``beta``; ``mlp(widths, prefix)`` builds a network block;
    ``d`` is the input width and ``x0 [1, d]`` an example. ``loss_fn(params, batch, key) -> (loss,
    metrics)`` reads ``batch["x"]``; the VAE draws its latent sample with ``key``. The firmware
    model is the network that is exported (the AE; the VAE encoder, at ``params[path]``).
    """
    if kind == "ae":
        model = mlp((*m.hidden, m.latent, *reversed(m.hidden), d), "ae/")

        def loss_fn(params, batch, k, model=model):
            r = model.apply({"params": params}, batch["x"])
            return jnp.mean((r - batch["x"]) ** 2), {}

        params = model.init(key_init, x0)["params"]
        fw_model, fw_path = model, ()
    elif kind == "vae":
        enc = mlp((*m.hidden, 2 * m.latent), "vae/encoder/")
        dec = mlp((*reversed(m.hidden), d), "vae/decoder/")
        model = VAE(enc, dec, m.latent)

        def loss_fn(params, batch, k, model=model):
            r, mu, lv = model.apply({"params": params}, batch["x"], k)
            kl = -0.5 * jnp.sum(1 + lv - mu**2 - jnp.exp(lv), axis=1)
            rec = jnp.mean((r - batch["x"]) ** 2, axis=1)
            return jnp.mean((1 - m.beta) * rec + m.beta * kl), {"kl": jnp.mean(kl), "rec": jnp.mean(rec)}

        params = model.init(key_init, x0, key_sample)["params"]
        fw_model, fw_path = enc, ("encoder",)
    else:
        raise ValueError(f"model.kinds: unknown kind {kind!r} (use ae, vae)")
    return model, loss_fn, params, fw_model, fw_path


def anomaly_score(kind: str, out: np.ndarray, x: np.ndarray, latent: int) -> np.ndarray:
    """Anomaly score ``[B]`` from the firmware output ``out``: AE reconstruction MSE, or VAE ``sum mu^2``."""
    if kind == "ae":
        return np.mean((out - x) ** 2, axis=1)
    return np.sum(out[:, :latent] ** 2, axis=1)
