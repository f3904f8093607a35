"""hepjax.nn.padding: buckets cover every input, an oversized input gets a new bucket, sets pad with a mask,
batches are deterministic."""

import jraph
import numpy as np
import pytest

from hepjax.nn.padding import (
    Bucket,
    GraphBatches,
    choose_bucket,
    choose_set_bucket,
    graph_size,
    make_buckets,
    make_set_buckets,
    pad_graph,
    pad_set,
)


def _graph(n, e, rng):
    return jraph.GraphsTuple(
        nodes={"x": rng.normal(size=(n, 2)).astype(np.float32)},
        edges={"x": rng.normal(size=(e, 1)).astype(np.float32)},
        senders=rng.integers(0, n, e).astype(np.int32),
        receivers=rng.integers(0, n, e).astype(np.int32),
        n_node=np.array([n], np.int32),
        n_edge=np.array([e], np.int32),
        globals=None,
    )


def test_buckets_cover_graphs_and_padding_joins_padding_nodes():
    rng = np.random.default_rng(0)
    graphs = [_graph(n, e, rng) for n, e in [(10, 30), (40, 100), (20, 300), (5, 5), (70, 20)]]
    buckets = make_buckets(graphs, 2, node_quantum=8, edge_quantum=8)
    assert 1 <= len(buckets) <= 2 and all(b.n_node % 8 == 0 and b.n_edge % 8 == 0 for b in buckets)
    for g in graphs:
        b, same = choose_bucket(g, buckets)
        assert same == buckets and b in buckets
        n, e = graph_size(g)
        padded = pad_graph(g, b)
        assert padded.nodes["x"].shape[0] == b.n_node and padded.senders.shape[0] == b.n_edge
        np.testing.assert_array_equal(padded.senders[:e], g.senders)
        assert np.all(padded.senders[e:] >= n) and np.all(padded.receivers[e:] >= n)
        assert list(padded.n_node) == [n, b.n_node - n]


def test_oversized_graph_gets_a_new_bucket():
    rng = np.random.default_rng(1)
    big = _graph(300, 600, rng)
    with pytest.warns(UserWarning, match="adding bucket"):
        b, buckets = choose_bucket(big, [Bucket(256, 256)])
    assert b == Bucket(512, 768) and b in buckets
    with pytest.raises(ValueError, match="does not fit"):
        pad_graph(big, Bucket(256, 256))


def test_set_buckets_and_pad_set():
    buckets = make_set_buckets([3, 40, 7, 100, 9, 250], 3, quantum=16)
    assert all(b % 16 == 0 for b in buckets) and max(buckets) >= 250
    n, same = choose_set_bucket(41, buckets, quantum=16)
    assert n >= 41 and same == buckets
    with pytest.warns(UserWarning, match="exceeds every bucket"):
        n, grown = choose_set_bucket(300, buckets, quantum=16)
    assert n == 304 and n in grown
    x = {"f": np.arange(6, dtype=np.float32).reshape(3, 2), "id": np.array([4, 5, 6])}
    padded, mask = pad_set(x, 8, fill=-1)
    assert padded["f"].shape == (8, 2) and padded["id"].shape == (8,)
    np.testing.assert_array_equal(mask, [True] * 3 + [False] * 5)
    np.testing.assert_array_equal(padded["f"][:3], x["f"])
    assert np.all(padded["f"][3:] == -1)
    with pytest.raises(ValueError, match="does not fit"):
        pad_set(x, 2)


def test_graph_batches_are_deterministic_and_one_bucket_each():
    rng = np.random.default_rng(2)
    graphs = [_graph(int(n), int(e), rng) for n, e in zip(rng.integers(5, 60, 8), rng.integers(5, 400, 8))]
    buckets = make_buckets(graphs, 2, node_quantum=16, edge_quantum=16)
    src = GraphBatches(graphs, buckets, batch_size=2, seed=3)
    again = GraphBatches(graphs, buckets, batch_size=2, seed=3)
    for step in range(2 * src.steps_per_epoch):
        a, b = src.batch(step), again.batch(step)
        np.testing.assert_array_equal(a.senders, b.senders)
        assert a.nodes["x"].shape[0] == 2
        assert (int(a.n_node[0].sum()), a.senders.shape[1]) in src.bucket_sizes
