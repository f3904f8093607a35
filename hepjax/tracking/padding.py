"""Static shapes for hit graphs: pad each graph to one of a few bucket sizes on the host.

``jraph.pad_with_graphs`` is not jit-able (its output shape depends on the data), so padding
happens here, outside ``jit``. A bucket is ``(n_node, n_edge)``; every padded graph holds the
event as graph 0 and one padding graph that owns the padding nodes and edges (padding edges join
padding nodes, so they never touch real hits). The classifier is compiled once per bucket.

A graph larger than the largest bucket gets a new, larger bucket (next multiple of 256 nodes and
edges above it) with a warning; nothing is ever truncated.

Batches for :func:`hepjax.train.fit` stack ``B`` padded graphs of one bucket on a new leading
axis (leaves ``[B, ...]``), so the trainer can shard them over devices; the model is ``vmap``-ed
over that axis. ``B`` must divide by the device count.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import jraph
import numpy as np

from hepjax.tracking.graph import EventGraph

NODE_QUANTUM = 256
EDGE_QUANTUM = 256


class Bucket(NamedTuple):
    n_node: int  # padded node count (>= real nodes + 1)
    n_edge: int  # padded edge count


def _round_up(x: int, q: int) -> int:
    return int(math.ceil(max(x, 1) / q) * q)


def make_buckets(graphs: list[EventGraph], n_buckets: int = 3) -> list[Bucket]:
    """At most ``n_buckets`` sizes covering ``graphs``, rounded up to multiples of 256 nodes / edges.

    The graphs, ordered by edge count, are cut into ``n_buckets`` groups of (nearly) equal size; each
    group's bucket holds its largest node and edge counts, so every graph fits its own group's bucket
    (node and edge counts of one bucket come from the same graphs). The compute of a train step
    scales with the padded size: on the bench's ttbar + <mu> = 20 sample, 6 buckets pad the edges
    by 13% on average, 3 buckets by 23%.
    """
    if not graphs:
        return [Bucket(NODE_QUANTUM, EDGE_QUANTUM)]
    order = sorted(graphs, key=lambda g: (g.n_edge, g.n_node))
    groups = np.array_split(np.arange(len(order)), min(n_buckets, len(order)))
    out = {
        Bucket(
            _round_up(max(order[i].n_node for i in grp) + 1, NODE_QUANTUM),
            _round_up(max(order[i].n_edge for i in grp), EDGE_QUANTUM),
        )
        for grp in groups
    }
    return sorted(out)


def choose_bucket(graph: EventGraph, buckets: list[Bucket]) -> tuple[Bucket, list[Bucket]]:
    """The bucket with the fewest edges (then nodes) that fits ``graph``; if none does, a new bucket is added with a warning.

    Returns the bucket and the (possibly extended) bucket list.
    """
    fits = [b for b in buckets if graph.n_node + 1 <= b.n_node and graph.n_edge <= b.n_edge]
    if fits:  # the cheapest: a step's compute is mostly per edge
        return min(fits, key=lambda b: (b.n_edge, b.n_node)), buckets
    new = Bucket(_round_up(graph.n_node + 1, NODE_QUANTUM), _round_up(graph.n_edge, EDGE_QUANTUM))
    new = Bucket(
        max(new.n_node, max((b.n_node for b in buckets), default=0)),
        max(new.n_edge, max((b.n_edge for b in buckets), default=0)),
    )
    warnings.warn(
        f"graph with {graph.n_node} nodes / {graph.n_edge} edges exceeds every bucket {buckets}; "
        f"adding bucket {tuple(new)} (one more compilation)",
        stacklevel=2,
    )
    return new, sorted(set(buckets) | {new})


def to_graphs_tuple(graph: EventGraph) -> jraph.GraphsTuple:
    """The unpadded jraph view: nodes/edges are dicts of feature arrays and labels."""
    return jraph.GraphsTuple(
        nodes={"x": graph.nodes},
        edges={"x": graph.edges, "y": graph.y, "pt": graph.edge_pt},
        senders=graph.senders,
        receivers=graph.receivers,
        n_node=np.array([graph.n_node], np.int32),
        n_edge=np.array([graph.n_edge], np.int32),
        globals=None,
    )


def pad_graph(graph: EventGraph, bucket: Bucket) -> jraph.GraphsTuple:
    """``jraph.pad_with_graphs`` to ``bucket`` (2 graphs: the event and the padding)."""
    if graph.n_node + 1 > bucket.n_node or graph.n_edge > bucket.n_edge:
        raise ValueError(f"graph ({graph.n_node} nodes, {graph.n_edge} edges) does not fit bucket {tuple(bucket)}")
    return jraph.pad_with_graphs(to_graphs_tuple(graph), n_node=bucket.n_node, n_edge=bucket.n_edge, n_graph=2)


def stack(graphs: list[jraph.GraphsTuple]) -> jraph.GraphsTuple:
    """Stack padded graphs of one bucket on a new leading axis (leaves ``[len(graphs), ...]``)."""
    import jax

    return jax.tree.map(lambda *xs: np.stack(xs), *graphs)


class GraphBatches:
    """A :class:`hepjax.train.BatchSource` of stacked padded graphs, deterministic in ``step``.

    Graphs are grouped by bucket; each epoch the groups are shuffled (seeded by ``seed`` and the
    epoch) and cut into batches of ``batch_size`` graphs of one bucket (a bucket's remainder that
    does not fill a batch is dropped for that epoch). Leaves are ``[batch_size, ...]``.
    """

    def __init__(self, graphs: list[EventGraph], buckets: list[Bucket], batch_size: int, seed: int = 0):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.batch_size = batch_size
        self.seed = seed
        self.buckets = list(buckets)
        by_bucket: dict[Bucket, list] = {}
        for g in graphs:
            b, self.buckets = choose_bucket(g, self.buckets)
            by_bucket.setdefault(b, []).append(pad_graph(g, b))
        self.groups = [by_bucket[b] for b in sorted(by_bucket)]
        self.steps_per_epoch = sum(len(g) // batch_size for g in self.groups)
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"no bucket holds {batch_size} graphs (sizes {[len(g) for g in self.groups]}); lower the batch size or add events"
            )
        self._epoch, self._plan = -1, None

    @property
    def bucket_sizes(self) -> list[Bucket]:
        return [Bucket(int(g[0].nodes["x"].shape[0]), int(g[0].senders.shape[0])) for g in self.groups]

    def _epoch_plan(self, epoch: int):
        if epoch != self._epoch:
            rng = np.random.default_rng([self.seed, epoch])
            plan = []
            for gi, group in enumerate(self.groups):
                perm = rng.permutation(len(group))
                plan += [
                    (gi, perm[k * self.batch_size : (k + 1) * self.batch_size])
                    for k in range(len(group) // self.batch_size)
                ]
            self._plan = [plan[i] for i in rng.permutation(len(plan))]
            self._epoch = epoch
        return self._plan

    def position(self, step: int) -> dict:
        epoch, i = divmod(step, self.steps_per_epoch)
        return {"epoch": epoch, "batch_in_epoch": i}

    def batch(self, step: int) -> jraph.GraphsTuple:
        epoch, i = divmod(step, self.steps_per_epoch)
        gi, idx = self._epoch_plan(epoch)[i]
        return stack([self.groups[gi][k] for k in idx])
