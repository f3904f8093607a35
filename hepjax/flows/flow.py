"""Conditional normalizing flows as pure functions.

:func:`make_flow` returns a :class:`Flow`, a NamedTuple of pure functions of ``params``::

    flow = make_flow(dim=2, context_dim=1, layers=4, kind="rqs")
    params = flow.init(jax.random.PRNGKey(0))
    logp = flow.log_prob(params, x, context)          # x [n, 2], context [n, 1] -> [n]
    xs = flow.sample(params, key, context, n=1000)     # context [1] or [1000, 1] -> [1000, 2]
    z, ld = flow.inverse(params, x, context)           # data -> latent, log|det dz/dx|
    x, ld = flow.forward(params, z, context)           # latent -> data, log|det dx/dz|

Architecture: ``layers`` coupling layers (``distrax.SplitCoupling`` on alternating halves: a
masked coupling whose mask is half the event, read and written as contiguous slices, which on CPU
is faster to train and to sample than ``distrax.MaskedCoupling``'s gather and scatter of the full
event (docs/defaults.md); ``kind="rqs"``: rational-quadratic splines,
``"affine"``: RealNVP affine) in pairs that transform both halves, with a fixed random
permutation between pairs (every coordinate is transformed ``layers / 2`` times), or masked
autoregressive layers (``kind="maf"``, spline transformer). The base density is a standard
normal in ``dim`` dimensions. Optional fixed ``preprocess`` bijectors (data -> unconstrained,
e.g. ``(logit(), standardize(m, s))``) sit inside the flow, so ``log_prob`` is the exact
density of the raw data. Every layer starts as the identity (zero-initialised last layer).

Compilations: ``log_prob``/``sample``/``forward``/``inverse`` are plain traceable functions;
``jit`` them once per batch shape.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import distrax
import jax
import jax.numpy as jnp
import numpy as np

from hepjax.config import param
from hepjax.errors import is_concrete
from hepjax.flows.bijectors import MaskedAutoregressive, Permutation, affine, rqs, rqs_param_count
from hepjax.flows.conditioners import MADE, CouplingMLP

Array = jax.Array
FlowKind = Literal["rqs", "affine", "maf"]
KINDS = typing.get_args(FlowKind)


@dataclasses.dataclass(frozen=True)
class FlowConfig:
    """The ``flow:`` config section: architecture of :func:`make_flow`."""

    kind: FlowKind = param("rqs", doc="rqs/affine coupling or masked autoregressive (maf)")
    layers: int = param(8, ge=1, doc="number of coupling / autoregressive layers")
    hidden: tuple[int, ...] = param((128, 128), doc="conditioner hidden widths")
    num_bins: int = param(8, ge=2, doc="spline bins")


class Flow(NamedTuple):
    """Pure functions of a conditional flow; see the module docstring for shapes."""

    dim: int
    context_dim: int
    init: Callable[[Array], Any]
    log_prob: Callable[[Any, Array, Array | None], Array]
    sample: Callable[[Any, Array, Array | None, int], Array]
    forward: Callable[[Any, Array, Array | None], tuple[Array, Array]]
    inverse: Callable[[Any, Array, Array | None], tuple[Array, Array]]
    bijector: Callable[[Any, Array | None], distrax.Bijector]


def _check_x(x: Array, dim: int, what: str) -> None:
    if x.ndim < 1 or x.shape[-1] != dim:
        raise ValueError(f"{what} must have shape [..., {dim}], got {tuple(x.shape)}")
    # NumPy, not jnp: inside a jit trace even a closed-over concrete array's jnp ops are staged
    if is_concrete(x) and not np.all(np.isfinite(np.asarray(x))):
        n_bad = int(np.sum(~np.isfinite(np.asarray(x))))
        raise ValueError(f"{what} contains {n_bad} NaN/Inf entries")


def _check_context(context: Array | None, context_dim: int, batch_shape: tuple[int, ...] | None) -> Array | None:
    if context_dim == 0:
        if context is not None:
            raise ValueError("this flow is unconditional (context_dim=0) but a context was given")
        return None
    if context is None:
        raise ValueError(f"this flow needs a context of shape [..., {context_dim}]")
    context = jnp.asarray(context)
    if context.ndim < 1 or context.shape[-1] != context_dim:
        raise ValueError(f"context must have shape [..., {context_dim}], got {tuple(context.shape)}")
    if batch_shape is not None and context.ndim > 1 and context.shape[:-1] != batch_shape:
        raise ValueError(f"context batch shape {context.shape[:-1]} does not match the data's {batch_shape}")
    if is_concrete(context) and not np.all(np.isfinite(np.asarray(context))):
        raise ValueError("context contains NaN/Inf entries")
    return context


def _log_normal(z: Array) -> Array:
    return jnp.sum(-0.5 * z**2 - 0.5 * jnp.log(2.0 * jnp.pi), axis=-1)


def make_flow(
    dim: int,
    *,
    context_dim: int = 0,
    layers: int = 8,
    kind: str = "rqs",
    hidden: Sequence[int] = (128, 128),
    num_bins: int = 8,
    preprocess: Sequence[distrax.Bijector] = (),
    seed: int = 0,
) -> Flow:
    """Build a (conditional) flow on ``R^dim``; ``seed`` fixes the permutations only.

    Args:
      dim: event size (coupling layers need ``dim >= 2``).
      context_dim: size of the context vector (0: unconditional).
      layers: number of coupling or autoregressive layers.
      kind: ``"rqs"``, ``"affine"`` or ``"maf"``.
      hidden: conditioner MLP widths.
      num_bins: spline bins (``rqs``, ``maf``).
      preprocess: fixed bijectors applied to the data in this order (data -> unconstrained).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if dim < 1 or (kind != "maf" and dim < 2):
        raise ValueError(f"a {kind} flow needs dim >= {1 if kind == 'maf' else 2}, got {dim}")
    n_params = 2 if kind == "affine" else rqs_param_count(num_bins)
    inner = affine if kind == "affine" else rqs
    hidden = tuple(int(h) for h in hidden)
    rng = np.random.default_rng(seed)
    # coupling layer i passes x[:h] through and transforms x[h:] (even i) or the reverse (odd i, swap);
    # a random permutation sits only between pairs, so every pair transforms every coordinate once.
    # (One between every layer leaves a coordinate untransformed with probability 2^-layers: 3 of the
    # 368 calorimeter voxels were plain Gaussians in an 8-layer flow.) MAF layers transform all
    # coordinates and are permuted between every layer.
    h = dim // 2
    swaps = [i % 2 == 1 for i in range(layers)]
    perms = {i: rng.permutation(dim) for i in range(1, layers) if kind == "maf" or i % 2 == 0}  # before layer i
    if kind == "maf":
        modules = [MADE(dim=dim, n_params=n_params, hidden=hidden)] * layers
        n_in = [dim] * layers
    else:
        modules = [CouplingMLP(n_out=h if sw else dim - h, n_params=n_params, hidden=hidden) for sw in swaps]
        n_in = [dim - h if sw else h for sw in swaps]

    def init(key: Array) -> Any:
        keys = jax.random.split(key, layers)
        c0 = jnp.zeros((1, context_dim)) if context_dim else None
        return {"layers": [m.init(k, jnp.zeros((1, n)), c0) for m, k, n in zip(modules, keys, n_in)]}

    def bijector(params: Any, context: Array | None) -> distrax.Bijector:
        parts: list[distrax.Bijector] = [distrax.Inverse(p) for p in preprocess]
        for i in reversed(range(layers)):
            p = params["layers"][i]
            cond = lambda x, p=p, m=modules[i]: m.apply(p, x, context)
            if kind == "maf":
                parts.append(MaskedAutoregressive(cond, inner, dim))
            else:
                parts.append(
                    distrax.SplitCoupling(split_index=h, event_ndims=1, conditioner=cond, bijector=inner, swap=swaps[i])
                )
            if i in perms:
                parts.append(Permutation(perms[i]))
        return distrax.Chain(parts)

    def inverse(params: Any, x: Array, context: Array | None = None) -> tuple[Array, Array]:
        x = jnp.asarray(x)
        _check_x(x, dim, "x")
        context = _check_context(context, context_dim, x.shape[:-1])
        return bijector(params, context).inverse_and_log_det(x)

    def forward(params: Any, z: Array, context: Array | None = None) -> tuple[Array, Array]:
        z = jnp.asarray(z)
        _check_x(z, dim, "z")
        context = _check_context(context, context_dim, z.shape[:-1])
        return bijector(params, context).forward_and_log_det(z)

    def log_prob(params: Any, x: Array, context: Array | None = None) -> Array:
        """log p(x | context) in nats, shape ``x.shape[:-1]``."""
        z, ld = inverse(params, x, context)
        return _log_normal(z) + ld

    def sample(params: Any, key: Array, context: Array | None = None, n: int = 1) -> Array:
        """``n`` samples ``[n, dim]``; context ``[context_dim]`` (shared) or ``[n, context_dim]``."""
        if context is not None:
            context = jnp.asarray(context)
            if context.ndim == 2 and context.shape[0] != n:
                raise ValueError(f"context has {context.shape[0]} rows but n = {n} samples were asked for")
            if context.ndim > 2:
                raise ValueError(f"context must be [context_dim] or [n, context_dim], got {tuple(context.shape)}")
        context = _check_context(context, context_dim, None)
        z = jax.random.normal(key, (n, dim))
        return bijector(params, context).forward(z)

    return Flow(dim, context_dim, init, log_prob, sample, forward, inverse, bijector)


def flow_from_config(cfg: FlowConfig, dim: int, *, context_dim: int = 0, preprocess=(), seed: int = 0) -> Flow:
    """:func:`make_flow` from a ``flow:`` config section."""
    return make_flow(
        dim,
        context_dim=context_dim,
        layers=cfg.layers,
        kind=cfg.kind,
        hidden=cfg.hidden,
        num_bins=cfg.num_bins,
        preprocess=preprocess,
        seed=seed,
    )
