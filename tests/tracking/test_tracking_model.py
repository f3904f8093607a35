"""Interaction network: node-order invariance, jit/no-jit, the BCE against a reference, the PyG peer."""

import sys
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.nn.padding import make_buckets, pad_graph, stack
from hepjax.tracking import (
    ModelConfig,
    build_graph,
    derive_cuts,
    edge_logits,
    init_params,
    weighted_bce,
)
from hepjax.tracking.graph import EventGraph

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers beside the tests (importlib mode)
from tracking_helpers import toy_events

CFG = ModelConfig(hidden=16, iterations=3, mlp_layers=1)


@pytest.fixture(scope="module")
def graph():
    g, events = toy_events(2, 30, seed=5)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    p, h = events[0]
    return build_graph(h, p.pt, g, cuts)


def permuted(graph: EventGraph, perm: np.ndarray) -> EventGraph:
    inv = np.argsort(perm)  # new position of old node i is inv[i]
    return graph._replace(
        nodes=graph.nodes[perm],
        senders=inv[graph.senders].astype(np.int32),
        receivers=inv[graph.receivers].astype(np.int32),
        hit_index=graph.hit_index[perm],
        particle_id=graph.particle_id[perm],
    )


class TestEdgeLogits(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_invariant_to_node_order(self):
        g, events = toy_events(1, 30, seed=5)
        cuts = derive_cuts([(h, p.pt) for p, h in events] * 2, g, pt_min=1.0)
        graph = build_graph(events[0][1], events[0][0].pt, g, cuts)
        params = init_params(jax.random.PRNGKey(0), CFG)
        bucket = make_buckets([graph], 1)[0]
        fn = self.variant(lambda p, gr: edge_logits(p, gr, iterations=CFG.iterations))
        ref = np.asarray(fn(params, pad_graph(graph, bucket)))[: graph.n_edge]
        perm = np.random.default_rng(0).permutation(graph.n_node)
        out = np.asarray(fn(params, pad_graph(permuted(graph, perm), bucket)))[: graph.n_edge]
        chex.assert_shape(ref, (graph.n_edge,))
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
        # edge order too: shuffling the edges shuffles the scores the same way
        eperm = np.random.default_rng(1).permutation(graph.n_edge)
        shuffled = graph._replace(
            edges=graph.edges[eperm],
            senders=graph.senders[eperm],
            receivers=graph.receivers[eperm],
            y=graph.y[eperm],
            edge_pt=graph.edge_pt[eperm],
        )
        out = np.asarray(fn(params, pad_graph(shuffled, bucket)))[: graph.n_edge]
        np.testing.assert_allclose(out, ref[eperm], rtol=1e-5, atol=1e-5)


def test_weighted_bce_matches_reference():
    rng = np.random.default_rng(0)
    logits, y = rng.normal(0, 3, 50).astype(np.float32), (rng.random(50) > 0.6).astype(np.float32)
    mask = rng.random(50) > 0.2
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    w = np.where(mask, np.where(y > 0.5, 3.0, 1.0), 0.0)
    ref = np.sum(w * -(y * np.log(p) + (1 - y) * np.log(1 - p))) / w.sum()
    assert float(weighted_bce(jnp.asarray(logits), jnp.asarray(y), jnp.asarray(mask), 3.0)) == pytest.approx(
        ref, rel=1e-5
    )


def test_gradient_matches_finite_differences(graph):
    params = init_params(jax.random.PRNGKey(1), CFG)
    padded = pad_graph(graph, make_buckets([graph], 1)[0])
    mask = np.arange(padded.senders.shape[0]) < graph.n_edge

    def loss(b):
        dec = params["params"]["decoder"]
        last = f"Dense_{CFG.mlp_layers}"
        p = {"params": {**params["params"], "decoder": {**dec, last: {**dec[last], "bias": b}}}}
        return weighted_bce(edge_logits(p, padded, iterations=CFG.iterations), padded.edges["y"], mask, 2.0)

    b0 = jnp.array([0.3])
    g = jax.grad(loss)(b0)
    eps = 1e-2
    fd = (loss(b0 + eps) - loss(b0 - eps)) / (2 * eps)
    assert float(g[0]) == pytest.approx(float(fd), rel=1e-3)


def test_pyg_peer_gives_the_same_scores(graph):
    pytest.importorskip("torch_geometric")
    from hepjax.bench.peers import tracking_torch as torch_peer

    params = init_params(jax.random.PRNGKey(2), CFG)
    jx = np.asarray(edge_logits(params, pad_graph(graph, make_buckets([graph], 1)[0]), iterations=CFG.iterations))[
        : graph.n_edge
    ]
    net = torch_peer.from_jax_params(params, CFG.hidden, CFG.iterations, CFG.mlp_layers)
    pt = net(torch_peer.to_data(graph)).detach().numpy()
    np.testing.assert_allclose(pt, jx, rtol=1e-4, atol=1e-4)


def _mlp(tree, x):
    """An MLP of Flax variables written out: Dense -> LayerNorm -> ReLU for hidden layers, then Dense."""
    n = sum(1 for k in tree if k.startswith("Dense_"))
    for i in range(n):
        x = x @ tree[f"Dense_{i}"]["kernel"] + tree[f"Dense_{i}"]["bias"]
        if i < n - 1:
            ln = tree[f"LayerNorm_{i}"]
            xc = x - x.mean(-1, keepdims=True)
            x = xc / jnp.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5) * ln["scale"] + ln["bias"]
            x = jax.nn.relu(x)
    return x


def _reference_logits(params, graph, iterations):
    """The network written the obvious way: MLPs on concatenations, a vmap-free Python loop."""
    p = params["params"]
    x, s, r = graph.nodes["x"], graph.senders, graph.receivers
    h, e = _mlp(p["node_enc"], x), _mlp(p["edge_enc"], graph.edges["x"])
    for _ in range(iterations):
        e = e + _mlp(p["step"]["edge_mlp"], jnp.concatenate([h[s], h[r], e], -1))
        into = jax.ops.segment_sum(e, r, x.shape[0])
        out = jax.ops.segment_sum(e, s, x.shape[0])
        h = h + _mlp(p["step"]["node_mlp"], jnp.concatenate([h, into, out], -1))
    return _mlp(p["decoder"], jnp.concatenate([h[s], h[r], e], -1))[:, 0]


def test_split_matmul_network_equals_concatenated_reference(graph):
    params = init_params(jax.random.PRNGKey(3), CFG)
    padded = pad_graph(graph, make_buckets([graph], 1)[0])
    mask = np.arange(padded.senders.shape[0]) < graph.n_edge

    def logits_and_grad(f):  # one compilation per implementation: logits and the loss gradient
        def loss(p):
            logits = f(p)
            return weighted_bce(logits, padded.edges["y"], mask, 2.0), logits

        return jax.jit(jax.grad(loss, has_aux=True))(params)

    g_ref, ref = logits_and_grad(lambda p: _reference_logits(p, padded, CFG.iterations))
    g_out, out = logits_and_grad(lambda p: edge_logits(p, padded, iterations=CFG.iterations))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    # the gradient through the rematerialised steps equals the reference's
    for a, b in zip(jax.tree.leaves(g_out), jax.tree.leaves(g_ref)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)


def test_batched_graphs_equal_one_at_a_time():
    from hepjax.tracking import edge_logits_batched

    g, events = toy_events(3, 25, seed=7)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    graphs = [build_graph(h, p.pt, g, cuts) for p, h in events]
    bucket = make_buckets(graphs, 1)[0]
    padded = [pad_graph(gr, bucket) for gr in graphs]
    params = init_params(jax.random.PRNGKey(4), CFG)
    batched = np.asarray(
        jax.jit(lambda p, b: edge_logits_batched(p, b, iterations=CFG.iterations))(params, stack(padded))
    )
    chex.assert_shape(batched, (3, bucket.n_edge))
    one_graph = jax.jit(lambda p, g: edge_logits(p, g, iterations=CFG.iterations))
    for k, (gr, pg) in enumerate(zip(graphs, padded)):
        one = np.asarray(one_graph(params, pg))
        np.testing.assert_allclose(batched[k, : gr.n_edge], one[: gr.n_edge], rtol=1e-5, atol=1e-5)
