"""EdgeConv and InteractionNetwork: shapes from the inputs, equivariance over node order, padding, jit / no-jit,
and the fast compute path of the interaction network equal to the plain one."""

import chex
import jax
import jax.numpy as jnp
import jraph
import numpy as np
import pytest

from hepjax.nn import EdgeConv, InteractionNetwork, make_buckets, pad_graph


def _graph(rng, n=12, e=30, fn=3, fe=5):
    return jraph.GraphsTuple(
        nodes={"x": rng.normal(size=(n, fn)).astype(np.float32)},
        edges={"x": rng.normal(size=(e, fe)).astype(np.float32)},
        senders=rng.integers(0, n, e).astype(np.int32),
        receivers=rng.integers(0, n, e).astype(np.int32),
        n_node=np.array([n], np.int32),
        n_edge=np.array([e], np.int32),
        globals=None,
    )


def _relabel(g, perm):
    """The same graph with node ``perm[k]`` stored at position ``k``."""
    inv = np.argsort(perm)
    return g._replace(
        nodes={"x": g.nodes["x"][perm]},
        senders=inv[g.senders].astype(np.int32),
        receivers=inv[g.receivers].astype(np.int32),
    )


def _in_apply(net, v, g):
    return net.apply(v, g.nodes["x"], g.edges["x"], g.senders, g.receivers)


class TestInteractionNetwork(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_shapes_and_node_order_equivariance(self):
        rng = np.random.default_rng(0)
        g = _graph(rng)
        net = InteractionNetwork(hidden=8, iterations=2, mlp_layers=1, out_features=2)
        v = net.init(jax.random.PRNGKey(0), g.nodes["x"], g.edges["x"], g.senders, g.receivers)
        # feature sizes come from the inputs
        assert v["params"]["node_enc"]["Dense_0"]["kernel"].shape == (3, 8)
        assert v["params"]["edge_enc"]["Dense_0"]["kernel"].shape == (5, 8)
        fn = self.variant(lambda v, g: _in_apply(net, v, g))
        out = fn(v, g)
        chex.assert_shape(out, (30, 2))
        perm = rng.permutation(12)
        np.testing.assert_allclose(fn(v, _relabel(g, perm)), out, rtol=1e-5, atol=1e-5)
        assert np.ptp(np.asarray(out[:, 0])) > 0

    def test_padding_does_not_change_real_edges(self):
        g = _graph(np.random.default_rng(1))
        net = InteractionNetwork(hidden=8, iterations=3, mlp_layers=2)
        v = net.init(jax.random.PRNGKey(1), g.nodes["x"], g.edges["x"], g.senders, g.receivers)
        out = np.asarray(_in_apply(net, v, g))
        bucket = make_buckets([g], 1, node_quantum=16, edge_quantum=16)[0]
        padded = pad_graph(g, bucket)
        assert padded.senders.shape[0] == bucket.n_edge > 30
        np.testing.assert_allclose(np.asarray(_in_apply(net, v, padded))[:30], out, rtol=1e-5, atol=1e-5)

    def test_fast_path_equals_plain_path_with_gradients(self):
        g = _graph(np.random.default_rng(2))
        fast = InteractionNetwork(hidden=8, iterations=2, mlp_layers=2)
        plain = InteractionNetwork(hidden=8, iterations=2, mlp_layers=2, split_first_layer=False, remat=False)
        v = fast.init(jax.random.PRNGKey(2), g.nodes["x"], g.edges["x"], g.senders, g.receivers)
        assert jax.tree.structure(v) == jax.tree.structure(
            plain.init(jax.random.PRNGKey(2), g.nodes["x"], g.edges["x"], g.senders, g.receivers)
        )
        loss = lambda net: jax.jit(jax.value_and_grad(lambda v: jnp.sum(jnp.sin(_in_apply(net, v, g)))))(v)
        (a, ga), (b, gb) = loss(fast), loss(plain)
        np.testing.assert_allclose(a, b, rtol=1e-5)
        for x, y in zip(jax.tree.leaves(ga), jax.tree.leaves(gb)):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


class TestEdgeConv(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_node_order_equivariance_and_masked_edges(self):
        rng = np.random.default_rng(3)
        g = _graph(rng)
        valid = (rng.random(30) > 0.3).astype(np.float32)
        graph = g._replace(nodes=g.nodes["x"], edges={"valid": valid})
        conv = EdgeConv(widths=(6, 4), sorted_receivers=False)
        v = conv.init(jax.random.PRNGKey(0), graph)
        fn = self.variant(conv.apply)
        out = fn(v, graph)
        chex.assert_shape(out, (12, 4))
        perm = rng.permutation(12)
        relabelled = _relabel(g, perm)
        out_p = fn(v, relabelled._replace(nodes=relabelled.nodes["x"], edges={"valid": valid}))
        np.testing.assert_allclose(out_p, out[perm], rtol=1e-5, atol=1e-5)
        # a masked edge carries nothing: dropping it gives the same output
        keep = valid > 0
        dropped = graph._replace(senders=g.senders[keep], receivers=g.receivers[keep], edges={"valid": valid[keep]})
        np.testing.assert_allclose(fn(v, dropped), out, rtol=1e-5, atol=1e-5)


def test_edgeconv_edges_none_means_all_valid():
    g = _graph(np.random.default_rng(4))
    conv = EdgeConv(widths=(4,), sorted_receivers=False)
    graph = g._replace(nodes=g.nodes["x"], edges=None)
    v = conv.init(jax.random.PRNGKey(0), graph)
    ones = graph._replace(edges={"valid": np.ones(30, np.float32)})
    np.testing.assert_allclose(conv.apply(v, graph), conv.apply(v, ones), rtol=1e-6)


@pytest.mark.parametrize("k", [2])
def test_knn_graph_is_reexported(k):
    from hepjax.nn import batch_graph, knn_graph

    pts = jnp.asarray(np.random.default_rng(5).normal(size=(2, 6, 2)), jnp.float32)
    mask = jnp.ones((2, 6), bool)
    nb, valid = knn_graph(pts, mask, k)
    graph = batch_graph(jnp.zeros((2, 6, 3)), nb, valid)
    chex.assert_shape(graph.senders, (2 * 6 * k,))
    assert np.all(np.diff(np.asarray(graph.receivers)) >= 0)
