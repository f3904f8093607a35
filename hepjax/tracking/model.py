"""Interaction-network edge classifier in jraph (DeZoort et al. 2021; Ju et al. 2021, Exa.TrkX).

Architecture (``hidden = H``, ``iterations = T``; every MLP is (Linear-LayerNorm-ReLU) x m - Linear with
``mlp_layers`` hidden layers of width H):

(LayerNorm after every hidden Linear, as in Exa.TrkX's MLPs)

* encoders: node features ``[4] -> H``, edge features ``[7] -> H``;
* T message-passing steps with shared weights, each a ``jraph.GraphNetwork`` with residuals:
  ``e <- e + phi_e([h_sender, h_receiver, e])`` then
  ``h <- h + phi_n([h, sum of edges into the hit, sum of edges out of the hit])``;
* edge decoder ``[h_sender, h_receiver, e] -> 1`` logit.

Parameters are a plain pytree (``{"node_enc": [{"w", "b"}, ...], ...}``) so the same weights can be
loaded into the PyTorch Geometric peer of the ``tracking`` bench. Edge scores are invariant to the
order of the hits (sums over edges, per-edge MLPs).

Shapes: one padded graph has nodes ``[N, 4]``, edges ``[E, 7]``, senders/receivers ``[E]``; a batch
stacks ``B`` of them (leaves ``[B, ...]``) and :func:`edge_logits_batched` runs them as one disjoint graph.

Speed on CPU (what the code does and why, measured on 5k-hit ttbar + <mu> = 20 graphs, H = 32): every
MLP on a concatenation ``[a, b, c]`` is evaluated as ``a W_a + b W_b + c W_c``, the sender/receiver
products on the N hits before the gather; each message-passing step is rematerialised in the
backward pass, which shrinks the compiled step's scratch buffer (111 -> 45 MB at 5k hits) and
halves the step even with freed memory kept mapped (value+grad 19 vs 39 ms, 5.4k hits, 2 cores).
Run it under :data:`CPU_RUNTIME` (:mod:`hepjax.runtime`; the tracking experiment and bench declare
it): XLA's own fusion emitters instead of YNNPACK and freed host memory kept mapped, ~2x faster
for these 32-wide MLPs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import jraph

from hepjax.config.schema import param
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
LN_EPS = 1e-5  # torch.nn.LayerNorm's default, so the PyG peer matches


def _init_mlp(key, sizes: list[int]) -> list[dict]:
    layers = []
    for i, (k, (a, b)) in enumerate(zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:]))):
        layer = {"w": jax.random.normal(k, (a, b), jnp.float32) * jnp.sqrt(1.0 / a), "b": jnp.zeros((b,), jnp.float32)}
        if i < len(sizes) - 2:  # hidden layer: LayerNorm scale and offset
            layer.update(g=jnp.ones((b,), jnp.float32), o=jnp.zeros((b,), jnp.float32))
        layers.append(layer)
    return layers


def _mlp(layers: list[dict], x: jax.Array) -> jax.Array:
    """Linear -> LayerNorm -> ReLU for hidden layers, then a plain Linear output layer."""
    for layer in layers:
        x = x @ layer["w"] + layer["b"]
        if "g" in layer:
            x = _layer_norm_relu(layer, x)
    return x


def init_params(key: jax.Array, cfg: ModelConfig) -> dict[str, Any]:
    """Random parameters (He-normal weights, zero biases) of the interaction network."""
    h, m = cfg.hidden, cfg.mlp_layers
    k = jax.random.split(key, 5)
    return {
        "node_enc": _init_mlp(k[0], [N_NODE_FEATURES] + [h] * m + [h]),
        "edge_enc": _init_mlp(k[1], [N_EDGE_FEATURES] + [h] * m + [h]),
        "edge_mlp": _init_mlp(k[2], [3 * h] + [h] * m + [h]),
        "node_mlp": _init_mlp(k[3], [3 * h] + [h] * m + [h]),
        "decoder": _init_mlp(k[4], [3 * h] + [h] * m + [1]),
    }


def _mlp_tail(layers: list[dict], z: jax.Array) -> jax.Array:
    """``_mlp(layers, x)`` given ``z = x @ layers[0]["w"]`` (the first product computed elsewhere)."""
    first, *rest = layers
    z = z + first["b"]
    if "g" in first:
        z = _layer_norm_relu(first, z)
    return _mlp(rest, z)


def _layer_norm_relu(layer: dict, x: jax.Array) -> jax.Array:
    m = jnp.mean(x, axis=-1, keepdims=True)
    xc = x - m
    return jax.nn.relu(xc * jax.lax.rsqrt(jnp.mean(xc * xc, axis=-1, keepdims=True) + LN_EPS) * layer["g"] + layer["o"])


def _split_first_layer(layers: list[dict]) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The first weight ``[3H, H']`` of an MLP on ``[a, b, c]`` as its three ``[H, H']`` blocks."""
    w = layers[0]["w"]
    h = w.shape[0] // 3
    return w[:h], w[h : 2 * h], w[2 * h :]


def _edge_mlp(layers: list[dict], h: jax.Array, e: jax.Array, senders: jax.Array, receivers: jax.Array) -> jax.Array:
    """``mlp([h[senders], h[receivers], e])`` without building the ``[E, 3H]`` concatenation.

    ``[h_s, h_r, e] @ W = (h @ W_s)[senders] + (h @ W_r)[receivers] + e @ W_e``: two of the three
    products run on the N hits instead of the E edges, and the gathers (and the scatter-adds of
    their gradients) move H'-wide rows that no concatenation copies again.
    """
    w_s, w_r, w_e = _split_first_layer(layers)
    return _mlp_tail(layers, (h @ w_s)[senders] + (h @ w_r)[receivers] + e @ w_e)


def _message_passing_step(params: dict):
    """One interaction-network step as a ``jraph.GraphNetwork`` on nodes ``{"h", "s", "r"}``
    (``s``, ``r``: the hit latents already multiplied by the sender / receiver blocks of the edge
    MLP's first weight, so jraph gathers H-wide projected rows)."""
    w_s, w_r, w_e = _split_first_layer(params["edge_mlp"])
    w_n, w_in, w_out = _split_first_layer(params["node_mlp"])

    def update_edge(e, sent, received, _globals):
        return e + _mlp_tail(params["edge_mlp"], sent["s"] + received["r"] + e @ w_e)

    def update_node(nodes, sent_edges, received_edges, _globals):
        h = nodes["h"]
        return {"h": h + _mlp_tail(params["node_mlp"], h @ w_n + received_edges @ w_in + sent_edges @ w_out)}

    net = jraph.GraphNetwork(update_edge_fn=update_edge, update_node_fn=update_node)

    def step(graph: jraph.GraphsTuple) -> jraph.GraphsTuple:
        h = graph.nodes["h"]
        return net(graph._replace(nodes={"h": h, "s": h @ w_s, "r": h @ w_r}))

    return step


def _logits(params: dict, nodes, edges, senders, receivers, n_node, n_edge, *, iterations: int) -> jax.Array:
    graph = jraph.GraphsTuple(
        nodes={"h": _mlp(params["node_enc"], nodes)},
        edges=_mlp(params["edge_enc"], edges),
        senders=senders,
        receivers=receivers,
        n_node=n_node,
        n_edge=n_edge,
        globals=None,
    )
    # remat each step: the backward pass recomputes a step's internals instead of storing them for
    # all T steps, which cuts the compiled step's scratch memory (111 -> 45 MB at 5k hits, H = 32)
    # and measured twice as fast on CPU
    step = jax.checkpoint(_message_passing_step(params))
    # shared weights: a rolled loop keeps the compiled program (and compile time) small
    graph = jax.lax.fori_loop(0, iterations, lambda _, g: step(g), graph)
    h, e = graph.nodes["h"], graph.edges
    return _edge_mlp(params["decoder"], h, e, senders, receivers)[..., 0]


def edge_logits(params: dict, graph: jraph.GraphsTuple, *, iterations: int) -> jax.Array:
    """Logits ``[E]`` of one (padded) graph; ``graph.nodes["x"]`` ``[N, 4]``, ``graph.edges["x"]`` ``[E, 7]``."""
    return _logits(
        params,
        graph.nodes["x"],
        graph.edges["x"],
        graph.senders,
        graph.receivers,
        graph.n_node,
        graph.n_edge,
        iterations=iterations,
    )


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
        flat(graphs.n_node),
        flat(graphs.n_edge),
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
    stack of padded graphs (see :mod:`hepjax.tracking.padding`)."""

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
