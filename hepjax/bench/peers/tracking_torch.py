"""The benchmark peer: the same interaction network in PyTorch Geometric (bench extra only).

Layer for layer the network of :mod:`hepjax.tracking.model` (:class:`hepjax.nn.InteractionNetwork`) (same MLP widths, LayerNorm and ReLU, shared-weight
message passing with residuals, sums into and out of each hit, decoder on ``[h_s, h_r, e]``),
built on ``torch_geometric.data.Data`` graphs and ``torch_geometric.utils.scatter``. Weights can be
copied from the Flax variables (:func:`from_jax_params`) so both produce the same scores,
which the tests check. Graphs are given to the peer unpadded (PyG needs no padding).

Importing this module imports torch; keep it off the hot paths.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.utils import scatter

from hepjax.tracking.graph import N_EDGE_FEATURES, N_NODE_FEATURES, EventGraph


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers += [nn.LayerNorm(b, eps=1e-5), nn.ReLU()]
    return nn.Sequential(*layers)


class InteractionNetwork(nn.Module):
    """PyG interaction network with ``hidden`` width, ``iterations`` steps, ``mlp_layers`` hidden layers."""

    def __init__(self, hidden: int, iterations: int, mlp_layers: int):
        super().__init__()
        h, m = hidden, mlp_layers
        self.iterations = iterations
        self.node_enc = _mlp([N_NODE_FEATURES] + [h] * m + [h])
        self.edge_enc = _mlp([N_EDGE_FEATURES] + [h] * m + [h])
        self.edge_mlp = _mlp([3 * h] + [h] * m + [h])
        self.node_mlp = _mlp([3 * h] + [h] * m + [h])
        self.decoder = _mlp([3 * h] + [h] * m + [1])

    def forward(self, data: Data) -> torch.Tensor:
        snd, rcv = data.edge_index
        n = data.x.shape[0]
        h = self.node_enc(data.x)
        e = self.edge_enc(data.edge_attr)
        for _ in range(self.iterations):
            e = e + self.edge_mlp(torch.cat([h[snd], h[rcv], e], dim=-1))
            into = scatter(e, rcv, dim=0, dim_size=n, reduce="sum")
            out_of = scatter(e, snd, dim=0, dim_size=n, reduce="sum")
            h = h + self.node_mlp(torch.cat([h, into, out_of], dim=-1))
        return self.decoder(torch.cat([h[snd], h[rcv], e], dim=-1))[:, 0]


def to_data(graph: EventGraph) -> Data:
    """A PyG ``Data`` view of an :class:`EventGraph` (float32 features, int64 edge index)."""
    return Data(
        x=torch.from_numpy(np.asarray(graph.nodes)),
        edge_attr=torch.from_numpy(np.asarray(graph.edges)),
        edge_index=torch.from_numpy(np.stack([graph.senders, graph.receivers]).astype(np.int64)),
        y=torch.from_numpy(np.asarray(graph.y)),
    )


def from_jax_params(params: dict, hidden: int, iterations: int, mlp_layers: int) -> InteractionNetwork:
    """The PyG network carrying the weights of the tracking model's Flax variables (kernels are ``[in, out]``)."""
    net = InteractionNetwork(hidden, iterations, mlp_layers)
    p = params["params"]
    trees = {"node_enc": p["node_enc"], "edge_enc": p["edge_enc"], "decoder": p["decoder"]}
    trees.update(edge_mlp=p["step"]["edge_mlp"], node_mlp=p["step"]["node_mlp"])
    tensor = lambda a: torch.from_numpy(np.array(a, np.float32))
    with torch.no_grad():
        for name, tree in trees.items():
            linears = [m for m in getattr(net, name) if isinstance(m, nn.Linear)]
            norms = [m for m in getattr(net, name) if isinstance(m, nn.LayerNorm)]
            for k, lin in enumerate(linears):
                lin.weight.copy_(tensor(tree[f"Dense_{k}"]["kernel"]).T)
                lin.bias.copy_(tensor(tree[f"Dense_{k}"]["bias"]))
            for k, norm in enumerate(norms):
                norm.weight.copy_(tensor(tree[f"LayerNorm_{k}"]["scale"]))
                norm.bias.copy_(tensor(tree[f"LayerNorm_{k}"]["bias"]))
    return net


def make_train_step(net: InteractionNetwork, learning_rate: float, pos_weight: float):
    """Adam step on the weighted BCE of one graph (``torch.optim.Adam``; same loss as the JAX model)."""
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)

    def step(data: Data) -> float:
        opt.zero_grad(set_to_none=True)
        logits = net(data)
        w = torch.where(data.y > 0.5, torch.full_like(data.y, pos_weight), torch.ones_like(data.y))
        loss = nn.functional.binary_cross_entropy_with_logits(logits, data.y, weight=w, reduction="sum") / w.sum()
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step
