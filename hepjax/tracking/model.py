"""The tracking edge classifier: :class:`hepjax.nn.InteractionNetwork` on padded hit graphs (jraph).

The network (DeZoort et al. 2021; Ju et al. 2021, Exa.TrkX) is described in
:mod:`hepjax.nn.interaction_network`; here it gets hit features ``[N, 4]`` and segment features
``[E, 7]`` (:mod:`hepjax.tracking.graph`) and gives one logit per segment. It runs on its fast
path (first layers split into blocks, each step rematerialised), which is what the CPU timing of
the tracking train step was tuned on. Parameters are Flax variables (``{"params": {...}}``); the
PyTorch Geometric peer of the tracking bench copies them layer by layer.

Shapes: one padded graph has nodes ``[N, 4]``, edges ``[E, 7]``, senders/receivers ``[E]``; a batch
stacks ``B`` of them (leaves ``[B, ...]``) and :func:`edge_logits_batched` runs them as one disjoint graph.

Run it under :data:`CPU_RUNTIME` (:mod:`hepjax.runtime`; the tracking experiment and bench declare
it): XLA's own fusion emitters instead of YNNPACK and freed host memory kept mapped, faster for
these narrow MLPs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import jraph

from hepjax.config.schema import param
from hepjax.nn import InteractionNetwork
from hepjax.runtime import HostRuntime
from hepjax.tracking.graph import N_EDGE_FEATURES, N_NODE_FEATURES


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Interaction-network sizes and the loss weighting (the ``model:`` config section)."""

    hidden: int = param(64, ge=1, doc="width H of every MLP layer and latent vector")
    iterations: int = param(4, ge=1, doc="message-passing steps T (shared weights)")
    mlp_layers: int = param(2, ge=1, doc="hidden layers per MLP")
    pos_weight: float = param(1.0, gt=0.0, doc="weight of true edges in the binary cross entropy")


CPU_RUNTIME = HostRuntime(library_fusions="none", keep_host_memory=True)  # see the module docstring


def network(cfg_or_params: ModelConfig | dict, iterations: int | None = None) -> InteractionNetwork:
    """The :class:`hepjax.nn.InteractionNetwork` of a config, or of a parameter tree plus ``iterations``
    (width and depth read from the node encoder's shapes)."""
    if isinstance(cfg_or_params, ModelConfig):
        c = cfg_or_params
        return InteractionNetwork(hidden=c.hidden, iterations=c.iterations, mlp_layers=c.mlp_layers)
    if iterations is None:
        raise ValueError("iterations is needed with a parameter tree (it has no shape of its own)")
    enc = cfg_or_params["params"]["node_enc"]
    n_dense = sum(1 for k in enc if k.startswith("Dense_"))
    hidden = int(enc["Dense_0"]["kernel"].shape[1])
    return InteractionNetwork(hidden=hidden, iterations=iterations, mlp_layers=n_dense - 1)


def init_params(key: jax.Array, cfg: ModelConfig) -> dict[str, Any]:
    """Flax variables of the interaction network (weights ``N(0, 1 / fan_in)``, zero biases)."""
    e = 2
    return network(cfg).init(
        key,
        jnp.zeros((2, N_NODE_FEATURES), jnp.float32),
        jnp.zeros((e, N_EDGE_FEATURES), jnp.float32),
        jnp.zeros((e,), jnp.int32),
        jnp.zeros((e,), jnp.int32),
    )


def _logits(params: dict, nodes, edges, senders, receivers, *, iterations: int) -> jax.Array:
    return network(params, iterations).apply(params, nodes, edges, senders, receivers)[..., 0]


def edge_logits(params: dict, graph: jraph.GraphsTuple, *, iterations: int) -> jax.Array:
    """Logits ``[E]`` of one (padded) graph; ``graph.nodes["x"]`` ``[N, 4]``, ``graph.edges["x"]`` ``[E, 7]``."""
    return _logits(params, graph.nodes["x"], graph.edges["x"], graph.senders, graph.receivers, iterations=iterations)


def edge_logits_batched(params: dict, graphs: jraph.GraphsTuple, *, iterations: int) -> jax.Array:
    """Logits ``[B, E]`` of ``B`` stacked padded graphs (leaves ``[B, ...]``).

    The B graphs become one disjoint graph of ``B N`` hits (sender/receiver ids shifted by ``b N``,
    as ``jraph.batch`` does), so every gather and segment sum is one flat op, not a ``vmap`` of B.
    """
    b, n = graphs.nodes["x"].shape[:2]
    e = graphs.senders.shape[1]
    shift = (jnp.arange(b, dtype=graphs.senders.dtype) * n)[:, None]
    flat = lambda x: x.reshape((b * x.shape[1],) + x.shape[2:])
    out = _logits(
        params,
        flat(graphs.nodes["x"]),
        flat(graphs.edges["x"]),
        flat(graphs.senders + shift),
        flat(graphs.receivers + shift),
        iterations=iterations,
    )
    return out.reshape(b, e)


def weighted_bce(logits: jax.Array, y: jax.Array, mask: jax.Array, pos_weight: float) -> jax.Array:
    """Mean binary cross entropy with weight ``pos_weight`` on true edges, over ``mask`` only."""
    w = jnp.where(mask, jnp.where(y > 0.5, pos_weight, 1.0), 0.0)
    bce = jnp.maximum(logits, 0) - logits * y + jnp.log1p(jnp.exp(-jnp.abs(logits)))
    return jnp.sum(w * bce) / jnp.maximum(jnp.sum(w), 1.0)


def make_loss_fn(cfg: ModelConfig):
    """``loss_fn(params, batch, key) -> (loss, metrics)`` for :func:`hepjax.train.fit`; ``batch`` is a
    stack of padded graphs (see :mod:`hepjax.nn.padding`)."""

    def loss_fn(params, batch: jraph.GraphsTuple, key):
        del key
        logits = edge_logits_batched(params, batch, iterations=cfg.iterations)
        mask = jax.vmap(jraph.get_edge_padding_mask)(batch)
        y = batch.edges["y"]
        loss = weighted_bce(logits, y, mask, cfg.pos_weight)
        pred = logits > 0
        n = jnp.maximum(mask.sum(), 1)
        acc = jnp.sum(mask & (pred == (y > 0.5))) / n
        return loss, {"accuracy": acc}

    return loss_fn


def make_predict_fn(cfg: ModelConfig):
    """Jitted ``predict(params, padded_graph) -> scores [E]`` in (0, 1) for ONE padded graph.

    Compiles once per bucket size.
    """
    return jax.jit(lambda params, g: jax.nn.sigmoid(edge_logits(params, g, iterations=cfg.iterations)))
