"""Static shapes for graphs and sets: pad each one to one of a few bucketed sizes, on the host.

``jit`` compiles once per input shape, so variable-size inputs (hit graphs, particle sets) are padded
to a handful of sizes, the *buckets*: few enough to compile rarely, close enough to the real sizes
that little compute is spent on padding. ``jraph.pad_with_graphs`` is not jit-able (its output shape
depends on the data), so padding happens here, outside ``jit``.

Graphs: a :class:`Bucket` is ``(n_node, n_edge)``. A padded graph holds the input as graph 0 and one
padding graph that owns the padding nodes and edges (padding edges join padding nodes, so they never
touch real nodes and per-edge / summed-over-edges outputs of the real graph do not change). An input
graph is a single unpadded ``jraph.GraphsTuple`` or any object with ``n_node`` / ``n_edge`` counts and
a ``to_graphs_tuple()`` method (e.g. :class:`hepjax.tracking.graph.EventGraph`).

Sets: a bucket is a slot count ``n``; :func:`pad_set` pads ``[M, ...]`` leaves to ``[n, ...]`` and
returns the mask of real slots.

Bucket sizes are multiples of a quantum (256 by default). An input larger than the largest bucket
gets a new, larger bucket with a warning; nothing is ever truncated.

Batches for :func:`hepjax.train.fit` stack ``B`` padded graphs of one bucket on a new leading axis
(leaves ``[B, ...]``, :class:`GraphBatches`), so the trainer can shard them over devices. ``B`` must
divide by the device count.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jraph
import numpy as np

NODE_QUANTUM = 256
EDGE_QUANTUM = 256
SET_QUANTUM = 256


class Bucket(NamedTuple):
    """A padded graph size."""

    n_node: int  # padded node count (>= real nodes + 1: the padding graph owns at least one node)
    n_edge: int  # padded edge count


def _round_up(x: int, q: int) -> int:
    return int(math.ceil(max(x, 1) / q) * q)


def graph_size(graph: Any) -> tuple[int, int]:
    """``(nodes, edges)`` of one unpadded graph: a ``jraph.GraphsTuple`` (summed over its graphs) or
    an object with integer ``n_node`` and ``n_edge``."""
    if isinstance(graph, jraph.GraphsTuple):
        return int(np.sum(graph.n_node)), int(np.sum(graph.n_edge))
    return int(graph.n_node), int(graph.n_edge)


def _groups(sizes: list[tuple[int, ...]], n_buckets: int) -> list[tuple[int, ...]]:
    """Cut ``sizes`` ordered by (last, then first...) count into ``n_buckets`` groups of (nearly) equal
    length; the element-wise maximum of each group."""
    order = sorted(sizes, key=lambda s: s[::-1])
    groups = np.array_split(np.arange(len(order)), min(n_buckets, len(order)))
    return [tuple(max(order[i][k] for i in grp) for k in range(len(order[0]))) for grp in groups]


def make_buckets(
    graphs: Sequence[Any], n_buckets: int = 3, *, node_quantum: int = NODE_QUANTUM, edge_quantum: int = EDGE_QUANTUM
) -> list[Bucket]:
    """At most ``n_buckets`` sizes covering ``graphs``, rounded up to multiples of the quanta.

    The graphs, ordered by edge count, are cut into ``n_buckets`` groups of (nearly) equal size; each
    group's bucket holds its largest node and edge counts, so every graph fits its own group's bucket
    (node and edge counts of one bucket come from the same graphs). The compute of a step scales with
    the padded size, so more buckets pad less and compile more often.
    """
    if not graphs:
        return [Bucket(node_quantum, edge_quantum)]
    out = {
        Bucket(_round_up(n + 1, node_quantum), _round_up(e, edge_quantum))
        for n, e in _groups([graph_size(g) for g in graphs], n_buckets)
    }
    return sorted(out)


def choose_bucket(
    graph: Any, buckets: list[Bucket], *, node_quantum: int = NODE_QUANTUM, edge_quantum: int = EDGE_QUANTUM
) -> tuple[Bucket, list[Bucket]]:
    """The bucket with the fewest edges (then nodes) that fits ``graph``; if none does, a new bucket is added with a warning.

    Returns the bucket and the (possibly extended) bucket list.
    """
    n_node, n_edge = graph_size(graph)
    fits = [b for b in buckets if n_node + 1 <= b.n_node and n_edge <= b.n_edge]
    if fits:  # the cheapest: a message-passing step's compute is mostly per edge
        return min(fits, key=lambda b: (b.n_edge, b.n_node)), buckets
    new = Bucket(
        max(_round_up(n_node + 1, node_quantum), max((b.n_node for b in buckets), default=0)),
        max(_round_up(n_edge, edge_quantum), max((b.n_edge for b in buckets), default=0)),
    )
    warnings.warn(
        f"graph with {n_node} nodes / {n_edge} edges exceeds every bucket {buckets}; "
        f"adding bucket {tuple(new)} (one more compilation)",
        stacklevel=2,
    )
    return new, sorted(set(buckets) | {new})


def pad_graph(graph: Any, bucket: Bucket) -> jraph.GraphsTuple:
    """``jraph.pad_with_graphs`` to ``bucket`` (2 graphs: the input and the padding).

    ``graph`` is one unpadded ``jraph.GraphsTuple`` or has a ``to_graphs_tuple()`` method.
    """
    n_node, n_edge = graph_size(graph)
    if n_node + 1 > bucket.n_node or n_edge > bucket.n_edge:
        raise ValueError(f"graph ({n_node} nodes, {n_edge} edges) does not fit bucket {tuple(bucket)}")
    gt = graph if isinstance(graph, jraph.GraphsTuple) else graph.to_graphs_tuple()
    return jraph.pad_with_graphs(gt, n_node=bucket.n_node, n_edge=bucket.n_edge, n_graph=2)


def stack(graphs: list[Any]) -> Any:
    """Stack padded graphs (or padded sets) of one bucket on a new leading axis (leaves ``[len(graphs), ...]``)."""
    return jax.tree.map(lambda *xs: np.stack(xs), *graphs)


def make_set_buckets(sizes: Sequence[int], n_buckets: int = 3, *, quantum: int = SET_QUANTUM) -> list[int]:
    """At most ``n_buckets`` slot counts covering sets of ``sizes`` elements, multiples of ``quantum``
    (the sets, ordered by size, cut into groups of nearly equal length, as :func:`make_buckets`)."""
    if not len(sizes):
        return [quantum]
    return sorted({_round_up(m, quantum) for (m,) in _groups([(int(s),) for s in sizes], n_buckets)})


def choose_set_bucket(size: int, buckets: list[int], *, quantum: int = SET_QUANTUM) -> tuple[int, list[int]]:
    """The smallest slot count ``>= size``; if none, a new one is added with a warning. Returns it and the list."""
    fits = [b for b in buckets if size <= b]
    if fits:
        return min(fits), buckets
    new = max(_round_up(size, quantum), max(buckets, default=0))
    warnings.warn(
        f"set of {size} elements exceeds every bucket {buckets}; adding {new} (one more compilation)", stacklevel=2
    )
    return new, sorted(set(buckets) | {new})


def pad_set(elements: Any, n: int, fill: float = 0.0) -> tuple[Any, np.ndarray]:
    """Pad every leaf ``[M, ...]`` of ``elements`` to ``[n, ...]`` with ``fill``; returns ``(padded, mask [n] bool)``."""
    leaves = jax.tree.leaves(elements)
    m = int(np.shape(leaves[0])[0]) if leaves else 0
    if m > n:
        raise ValueError(f"set of {m} elements does not fit {n} slots")

    def pad(x):
        x = np.asarray(x)
        if x.shape[0] != m:
            raise ValueError(f"leaves disagree on the element count: {x.shape[0]} vs {m}")
        out = np.full((n,) + x.shape[1:], fill, x.dtype)
        out[:m] = x
        return out

    return jax.tree.map(pad, elements), np.arange(n) < m


class GraphBatches:
    """A :class:`hepjax.train.BatchSource` of stacked padded graphs, deterministic in ``step``.

    Graphs are grouped by bucket; each epoch the groups are shuffled (seeded by ``seed`` and the
    epoch) and cut into batches of ``batch_size`` graphs of one bucket (a bucket's remainder that
    does not fill a batch is dropped for that epoch). Leaves are ``[batch_size, ...]``.
    """

    def __init__(self, graphs: list[Any], buckets: list[Bucket], batch_size: int, seed: int = 0):
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
        """The bucket of each group (padded node and edge counts)."""
        return [Bucket(int(np.sum(g[0].n_node)), int(np.sum(g[0].n_edge))) for g in self.groups]

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
