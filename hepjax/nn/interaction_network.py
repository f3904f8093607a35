"""Interaction-network edge classifier (Battaglia et al. 2016; DeZoort et al. 2021; Ju et al. 2021, Exa.TrkX).

Architecture (``hidden = H``, ``iterations = T``; every MLP is (Dense-LayerNorm-ReLU) x m - Dense with
``mlp_layers = m`` hidden layers of width H, LayerNorm after every hidden Dense as in Exa.TrkX's MLPs):

* encoders: node features ``[F_n] -> H``, edge features ``[F_e] -> H`` (``F_n``, ``F_e`` are read
  from the inputs);
* T message-passing steps with shared weights (one :class:`InteractionStep`, rolled by ``nn.scan``),
  each with residuals: ``e <- e + phi_e([h_sender, h_receiver, e])`` then
  ``h <- h + phi_n([h, sum of edges into the node, sum of edges out of the node])``;
* edge decoder ``[h_sender, h_receiver, e] -> out_features`` (one logit by default).

Edge outputs are equivariant under a relabelling of the nodes (sums over edges, per-edge MLPs); on
a padded graph, padding edges that join padding nodes never change a real edge's output.

Two compute paths give the same function from the same parameters (``split_first_layer``):

* ``False``: each MLP on a concatenation ``[a, b, c]`` builds the ``[E, 3H]`` concatenation;
* ``True`` (default, the fast path on CPU): the concatenation is never built, its first Dense is
  evaluated as ``a W_a + b W_b + c W_c`` with the sender / receiver products taken on the N nodes
  before the gather, so two of the three products run on N rows instead of E and the gathers (and
  the scatter-adds of their gradients) move H-wide rows no concatenation copies again.

``remat=True`` (default) recomputes each step's internals in the backward pass instead of storing
them for all T steps, which shrinks the compiled step's scratch memory and speeds up the train step
on CPU. Both choices were measured on the tracking train step (see the tracking bench).

Shapes: nodes ``[N, F_n]``, edges ``[E, F_e]``, senders/receivers ``[E]`` int -> ``[E, out_features]``.
Several graphs run as one disjoint graph (node ids shifted per graph, as ``jraph.batch`` does).

Example::

    net = InteractionNetwork(hidden=32, iterations=4, mlp_layers=2)
    variables = net.init(key, nodes, edges, senders, receivers)
    logits = net.apply(variables, nodes, edges, senders, receivers)[:, 0]   # [E]
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from hepjax.nn.mlp import MLP, fan_in_normal


def _concat_mlp(mlp: MLP, parts: list[jax.Array], gathers: list[jax.Array | None], split: bool) -> jax.Array:
    """``mlp(concat([p[g] if g is not None else p for p, g in zip(parts, gathers)], -1))``.

    With ``split``, the first Dense is applied block by block, each block's product taken before
    its gather (on the rows of ``p``, not of the gathered result).
    """
    if not split:
        x = jnp.concatenate([p if g is None else p[g] for p, g in zip(parts, gathers)], -1)
        return mlp(x)
    kernel, bias = mlp.first_kernel(sum(p.shape[-1] for p in parts))
    z, start = bias, 0
    for p, g in zip(parts, gathers):
        w = kernel[start : start + p.shape[-1]]
        start += p.shape[-1]
        pw = p @ w
        z = z + (pw if g is None else pw[g])
    return mlp.tail(z)


class InteractionStep(nn.Module):
    """One message-passing step with residuals on ``(h [N, H], e [E, H])`` (see the module docstring)."""

    hidden: int
    mlp_layers: int
    split_first_layer: bool = True

    @nn.compact
    def __call__(self, carry, senders: jax.Array, receivers: jax.Array):
        h, e = carry
        mlp = lambda name: MLP(
            (self.hidden,) * (self.mlp_layers + 1), layer_norm=True, kernel_init=fan_in_normal(1.0), name=name
        )
        edge_mlp, node_mlp = mlp("edge_mlp"), mlp("node_mlp")
        split = self.split_first_layer
        e = e + _concat_mlp(edge_mlp, [h, h, e], [senders, receivers, None], split)
        n = h.shape[0]
        into = jraph.segment_sum(e, receivers, n)
        out_of = jraph.segment_sum(e, senders, n)
        h = h + _concat_mlp(node_mlp, [h, into, out_of], [None, None, None], split)
        return (h, e), None


class InteractionNetwork(nn.Module):
    """Interaction network: node/edge encoders, ``iterations`` shared-weight steps, edge decoder.

    Attributes:
      hidden: width H of every MLP layer and latent vector.
      iterations: message-passing steps T (shared weights).
      mlp_layers: hidden layers per MLP.
      out_features: outputs per edge (1: one logit).
      split_first_layer: the fast compute path (same parameters, same function; see the module docstring).
      remat: recompute each step in the backward pass (memory and CPU speed; same function).

    Parameters: ``node_enc``, ``edge_enc``, ``decoder`` and ``step/{edge_mlp, node_mlp}``, each an
    :class:`hepjax.nn.MLP` (``Dense_i``, ``LayerNorm_i``); weights start ``N(0, 1 / fan_in)``.
    """

    hidden: int = 64
    iterations: int = 4
    mlp_layers: int = 2
    out_features: int = 1
    split_first_layer: bool = True
    remat: bool = True

    @nn.compact
    def __call__(self, nodes: jax.Array, edges: jax.Array, senders: jax.Array, receivers: jax.Array) -> jax.Array:
        """Edge outputs ``[E, out_features]`` from nodes ``[N, F_n]``, edges ``[E, F_e]``, senders/receivers ``[E]``."""
        width = (self.hidden,) * (self.mlp_layers + 1)
        kw = dict(layer_norm=True, kernel_init=fan_in_normal(1.0))
        h = MLP(width, name="node_enc", **kw)(nodes)
        e = MLP(width, name="edge_enc", **kw)(edges)
        step = nn.remat(InteractionStep) if self.remat else InteractionStep
        # shared weights: a rolled loop (scan with broadcast parameters) keeps the compiled program small
        steps = nn.scan(
            step,
            variable_broadcast="params",
            split_rngs={"params": False},
            in_axes=(nn.broadcast, nn.broadcast),
            length=self.iterations,
        )
        (h, e), _ = steps(self.hidden, self.mlp_layers, self.split_first_layer, name="step")((h, e), senders, receivers)
        decoder = MLP((self.hidden,) * self.mlp_layers + (self.out_features,), name="decoder", **kw)
        return _concat_mlp(decoder, [h, h, e], [senders, receivers, None], self.split_first_layer)
