"""Traced JAX computation -> Keras 3 model: export models written the ordinary way to hls4ml.

:func:`to_keras_traced` traces ``f(params, x)`` (a Flax linen module's ``apply``, a Flax NNX
module, or any pure function of a parameter pytree) to a jaxpr with :func:`jax.make_jaxpr`,
inlines the ``jit`` / ``custom_jvp`` / ``custom_vjp`` sub-computations, and reads the equations:

* every value computed from the parameters alone is evaluated now (constant folding), so
  parameters -- and whatever the model derives from them, e.g. ``gamma / sqrt(var + eps)`` of an
  inference batch-norm -- become the weights of the Keras layers;
* every value that depends on the input ``x [batch, *input_shape]`` becomes a Keras layer:
  ``dot_general`` with a weight -> ``Dense``, ``conv_general_dilated`` -> ``Conv1D``/``Conv2D``,
  ``add``/``sub``/``mul``/``div`` with a per-channel weight -> a scale and shift (folded into the
  preceding Dense/Conv when it is their only consumer, else a ``BatchNormalization``),
  ``max(x, 0)`` -> ReLU, ``where(x >= 0, x, a * x)`` -> LeakyReLU, ``tanh``, ``logistic`` ->
  sigmoid, ``exp(x - max x) / sum exp(x - max x)`` (or without the max) -> softmax,
  ``reshape`` -> ``Reshape``/``Flatten``, ``transpose`` -> ``Permute``, ``concatenate``,
  and the sum / difference / product of two tensors -> ``Add`` / ``Subtract`` / ``Multiply``;
* hepjax's fixed-point operations (:func:`hepjax.hls.quantize`, :func:`hepjax.hls.fixed_dense`,
  :func:`hepjax.hls.fixed_conv`, i.e. ``FixedPoint``, ``QDense``, ``QConv``) are one tagged call
  each (:mod:`hepjax.hls.optag`) and become the same exact Keras layers the interception bridge
  (:func:`hepjax.hls.to_keras`) builds, with the same precision record, so
  :func:`hepjax.hls.hls4ml_config` and the bit-exact C simulation work unchanged.

Anything else that touches the input -- an unknown primitive, control flow (``cond``,
``while``), a reduction over the batch axis (a batch-norm in training mode) -- raises
:class:`hepjax.hls.UnsupportedLayerError` naming the primitive and the source line it came from;
the converter never builds a silently different model.

The batch axis is axis 0 of ``x``; the trace uses a batch of :data:`BATCH` rows, and any
operation that mixes rows is refused.

Example::

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.softmax(nn.Dense(5)(nn.relu(nn.Dense(16)(x))))

    variables = MLP().init(jax.random.PRNGKey(0), jnp.zeros((1, 8)))
    keras_model = to_keras_traced(MLP(), variables, (8,))
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flax
import jax
import jax.extend.core as jcore
import jax.numpy as jnp
import numpy as np

# summarize(): "file:line:col (function)" of the user's frame that made an equation; jax 0.10
# has no public equivalent (jax.extend exposes no source-info helpers).
from jax._src import source_info_util

from hepjax.hls.bridge import _variables
from hepjax.hls.bridge_types import UnsupportedLayerError
from hepjax.hls.fixed import FixedSpec
from hepjax.hls.optag import read_tag
from hepjax.hls.qconv import conv_padding
from hepjax.hls.quant import dense_accumulator

BATCH = 2  # rows of the traced sample; axis 0 of every tensor that depends on the input
SUPPORTED_OPS = (
    "dot_general with a weight (Dense), conv_general_dilated 1-D/2-D SAME/VALID (Conv), per-channel "
    "add/sub/mul/div with a weight (bias, inference batch-norm), max(x, 0) (relu), where(x >= 0, x, a*x) "
    "(leaky relu), tanh, logistic (sigmoid), exp/reduce_sum/div with optional reduce_max (softmax, last axis), "
    "reshape/squeeze/expand_dims, transpose (batch axis kept), concatenate, add/sub/mul of two tensors, "
    "hepjax.hls quantize/QDense/QConv"
)
# Calls that run their sub-jaxpr once, as written: inlined. (scan / while / cond are not calls: refused.)
_CALLS = {"jit", "pjit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call", "checkpoint", "remat"}
_CALL_PARAMS = ("jaxpr", "call_jaxpr", "fun_jaxpr")
_LIBRARIES = (str(Path(flax.__file__).parent), str(Path(__file__).parent))  # flax, hepjax.hls: not the model's code
_IDENTITY = {"stop_gradient", "copy", "copy_p", "optimization_barrier", "reduce_precision"}
_RESHAPES = {"reshape", "squeeze", "expand_dims", "broadcast_in_dim"}


# ----------------------------------------------------------------------------- flattened jaxpr


@dataclasses.dataclass
class Lit:
    """A literal constant in an equation."""

    val: Any


@dataclasses.dataclass
class Eq:
    """One equation of the inlined jaxpr: variables are integer ids; ``tag`` marks a hepjax op."""

    prim: str
    ins: list  # int ids or Lit
    outs: list  # int ids (None for a dropped output)
    params: dict
    frames: tuple[str, ...]  # name stack (Flax module path, named scopes), outermost first
    source: Any
    primitive: Any
    closed: Any = None  # the ClosedJaxpr of a tagged call (to evaluate it on constants)
    tag: tuple[str, dict] | None = None
    out_shapes: tuple = ()

    def where(self) -> str:
        line = _source_line(self.source)
        scope = "/".join(f for f in self.frames if read_tag(f) is None)
        return f"{line}" + (f" (in {scope})" if scope else "")


def _source_line(source) -> str:
    """``file:line (function)`` of the user's code that made an equation (outside jax, flax and hepjax.hls)."""
    frames = []
    for f in source_info_util.user_frames(source.traceback) if source is not None else ():
        if f.file_name == __file__:  # the converter's own call of the model: what lies outside is not the model
            break
        frames.append(f)
    if not frames:
        return "an unknown source line"
    user = next((f for f in frames if not f.file_name.startswith(_LIBRARIES)), frames[0])
    text = f"{user.file_name}:{user.start_line} ({user.function_name})"
    if user is not frames[0]:
        text += f", inside {frames[0].file_name}:{frames[0].start_line} ({frames[0].function_name})"
    return text


def _sub_jaxpr(eqn) -> tuple[Any, list] | None:
    if eqn.primitive.name not in _CALLS:
        return None
    for key in _CALL_PARAMS:
        sub = eqn.params.get(key)
        if sub is None:
            continue
        if isinstance(sub, jcore.ClosedJaxpr):
            return sub.jaxpr, list(sub.consts)
        if isinstance(sub, jcore.Jaxpr):
            return sub, []
    return None


def _scopes(eqn) -> tuple[str, ...]:
    return tuple(str(f.name) for f in eqn.source_info.name_stack.stack if type(f).__name__ == "Scope")


def _source(eqn, parent):
    """An equation's source info, or its caller's when it names no user frame."""
    if parent is None or any(True for _ in source_info_util.user_frames(eqn.source_info.traceback)):
        return eqn.source_info
    return parent  # e.g. jax's own jnp functions: only jax-internal frames were recorded


class _Flattener:
    def __init__(self):
        self.eqs: list[Eq] = []
        self.consts: dict[int, np.ndarray] = {}
        self.n = 0

    def new(self) -> int:
        self.n += 1
        return self.n

    def run(self, jaxpr, consts: list, ins: list, frames: tuple[str, ...], source=None) -> list:
        env: dict[Any, Any] = {}
        for v, c in zip(jaxpr.constvars, consts):
            i = self.new()
            self.consts[i] = c
            env[v] = i
        for v, a in zip(jaxpr.invars, ins):
            env[v] = a

        def atom(a):
            return Lit(a.val) if isinstance(a, jcore.Literal) else env[a]

        for e in jaxpr.eqns:
            own = _scopes(e)
            here = frames + own
            args = [atom(a) for a in e.invars]
            tag = read_tag(own[-1]) if own else None
            sub = _sub_jaxpr(e)
            if sub is not None and tag is None:  # inline the call: its outputs alias the inner results
                outs = self.run(sub[0], sub[1], args, here, _source(e, source))
                for v, a in zip(e.outvars, outs):
                    if not isinstance(v, jcore.DropVar):
                        env[v] = a
                continue
            outs = []
            for v in e.outvars:
                if isinstance(v, jcore.DropVar):
                    outs.append(None)
                else:
                    env[v] = self.new()
                    outs.append(env[v])
            closed = None
            if tag is not None:
                if sub is None:
                    raise UnsupportedLayerError(f"hepjax op {tag[0]!r} is not a call ({e.primitive.name})")
                closed = jcore.ClosedJaxpr(sub[0], sub[1])
            name = f"hepjax:{tag[0]}" if tag is not None else e.primitive.name
            shapes = tuple(tuple(v.aval.shape) for v in e.outvars)
            src = _source(e, source)
            self.eqs.append(Eq(name, args, outs, dict(e.params), here, src, e.primitive, closed, tag, shapes))
        return [atom(a) for a in jaxpr.outvars]


# ----------------------------------------------------------------------------- the layer graph


@dataclasses.dataclass
class Op:
    """One future Keras layer: ``kind`` with ``inputs`` (op ids) and output ``shape`` (batch first)."""

    kind: str
    inputs: list[int]
    shape: tuple[int, ...]
    attrs: dict
    name: str


@dataclasses.dataclass
class Sym:
    """A tensor that depends on the input: the output of op ``op``."""

    op: int
    shape: tuple[int, ...]


@dataclasses.dataclass
class Pat:
    """An unfinished pattern over tensor ``of`` (a piece of a softmax, a comparison with 0)."""

    kind: str  # "max", "shifted", "exp", "sum", "cmp0"
    of: Sym
    eq: Eq


def _is_sym(v) -> bool:
    return isinstance(v, (Sym, Pat))


def _scalar_value(c) -> float | None:
    a = np.asarray(c)
    if a.size == 0:
        return None
    flat = a.reshape(-1)
    return float(flat[0]) if np.all(flat == flat[0]) else None


_NAME_FIRST = ("dense", "conv", "qdense", "qconv")  # the layer a Flax module path names, before its helpers


class _Graph:
    def __init__(self):
        self.ops: list[Op] = []

    def add(self, kind: str, inputs: list[Sym], shape, attrs: dict, eq: Eq | None, main: bool = False) -> Sym:
        path = [f for f in (eq.frames if eq is not None else ()) if read_tag(f) is None][1:]  # drop the root module
        base = "_".join(path) if (main and path) else "_".join([*path, kind])
        base = re.sub(r"[^0-9A-Za-z_]", "_", base)
        self.ops.append(
            Op(kind, [s.op for s in inputs], tuple(shape), attrs, base if base[:1].isalpha() else f"l_{base}")
        )
        return Sym(len(self.ops) - 1, tuple(shape))


def _assign_names(ops: list[Op], live: set[int]) -> None:
    """Unique Keras layer names for the live ops; a Dense/Conv gets its module's path first."""
    used = {"model_input"}
    order = sorted(live, key=lambda i: (ops[i].kind not in _NAME_FIRST, i))
    for i in order:
        base, k = ops[i].name, 0
        name = base
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        ops[i].name = name


class _Converter:
    def __init__(self, eqs: list[Eq], consts: dict[int, Any]):
        self.eqs = eqs
        self.vals: dict[int, Any] = dict(consts)
        self.g = _Graph()

    def err(self, eq: Eq, why: str) -> UnsupportedLayerError:
        return UnsupportedLayerError(
            f"primitive '{eq.prim}' at {eq.where()}: {why}. The jaxpr converter supports: {SUPPORTED_OPS}"
        )

    def value(self, a):
        return a.val if isinstance(a, Lit) else self.vals[a]

    def run(self) -> None:
        for eq in self.eqs:
            args = [self.value(a) for a in eq.ins]
            if not any(_is_sym(a) for a in args):
                outs = self.fold(eq, args)
            else:
                outs = self.rule(eq, args)
            for i, v in zip(eq.outs, outs):
                if i is not None:
                    self.vals[i] = v

    def fold(self, eq: Eq, args: list) -> list:
        """Evaluate an equation on constants (parameters and what is computed from them)."""
        if eq.closed is not None:
            out = jcore.jaxpr_as_fun(eq.closed)(*args)
        else:
            out = eq.primitive.bind(*args, **eq.params)
        out = out if eq.primitive.multiple_results or eq.closed is not None else [out]
        return [np.asarray(o) for o in out]

    # ------------------------------------------------------------------ rules on tensors

    def rule(self, eq: Eq, args: list) -> list:
        p = eq.prim
        for a in args:
            if isinstance(a, Pat) and p not in _IDENTITY | _RESHAPES | {
                "sub",
                "exp",
                "reduce_sum",
                "div",
                "max",
                "select_n",
            }:
                raise self.err(
                    a.eq, f"its result is used by '{p}' at {eq.where()}, outside a softmax or activation pattern"
                )
        if p in _IDENTITY:
            return list(args[: len(eq.outs)])
        if p == "convert_element_type":
            if np.dtype(eq.params["new_dtype"]) != np.float32:
                raise self.err(eq, f"a cast of the input-dependent tensor to {eq.params['new_dtype']}")
            return [args[0]]
        if p.startswith("hepjax:"):
            return [self.hepjax_op(eq, args)]
        if p in _RESHAPES:
            return [self.reshape(eq, args[0])]
        if p == "transpose":
            return [self.transpose(eq, args[0])]
        if p == "dot_general":
            return [self.dense(eq, *args)]
        if p == "conv_general_dilated":
            return [self.conv(eq, *args)]
        if p in ("add", "sub", "mul", "div"):
            return [self.arith(eq, p, *args)]
        if p == "neg":
            return [self.affine(eq, args[0], -np.ones(args[0].shape[-1], np.float32), None)]
        if p == "max":
            return [self.maximum(eq, *args)]
        if p in ("tanh", "logistic"):
            x = self.tensor(eq, args[0])
            return [self.g.add("tanh" if p == "tanh" else "sigmoid", [x], x.shape, {}, eq)]
        if p == "exp":
            x = args[0]
            if isinstance(x, Pat) and x.kind == "shifted":
                return [Pat("exp", x.of, eq)]
            return [Pat("exp", self.tensor(eq, x), eq)]
        if p in ("reduce_max", "reduce_sum"):
            return [self.reduce(eq, p, args[0])]
        if p in ("ge", "gt"):
            x, c = args
            if isinstance(x, Sym) and not _is_sym(c) and _scalar_value(c) == 0.0:
                return [Pat("cmp0", x, eq)]
            raise self.err(eq, "only the comparison x >= 0 / x > 0 of a leaky relu is supported")
        if p == "select_n":
            return [self.select(eq, args)]
        if p == "concatenate":
            xs = [self.tensor(eq, a) for a in args]
            axis = int(eq.params["dimension"])
            if axis == 0:
                raise self.err(eq, "concatenation along the batch axis")
            shape = list(xs[0].shape)
            shape[axis] = sum(x.shape[axis] for x in xs)
            return [self.g.add("concat", xs, shape, {"axis": axis}, eq)]
        if p in ("cond", "while", "scan", "switch"):
            raise self.err(
                eq,
                "control flow (a loop or a branch) is not a fixed layer graph; write the loop in Python so it unrolls",
            )
        raise self.err(eq, "no Keras/hls4ml layer computes it")

    def tensor(self, eq: Eq, v) -> Sym:
        if isinstance(v, Pat):
            raise self.err(v.eq, f"its result is used by '{eq.prim}' at {eq.where()}, outside a supported pattern")
        if not isinstance(v, Sym):
            raise self.err(eq, "expected an input-dependent tensor here")
        return v

    def channel_vector(self, eq: Eq, x: Sym, c) -> np.ndarray:
        """A constant that broadcasts along the last (channel) axis only, as a vector ``[channels]``."""
        c = np.asarray(c, np.float32)
        n = x.shape[-1]
        if c.ndim > len(x.shape) or any(d != 1 for d in c.shape[:-1]) or (c.ndim and c.shape[-1] not in (1, n)):
            raise self.err(
                eq,
                f"a weight of shape {c.shape} combined with a tensor {x.shape}; only per-channel "
                "(last axis) weights map to a layer",
            )
        return np.broadcast_to(c.reshape(-1) if c.ndim else c, (n,)).astype(np.float32)

    def affine(self, eq: Eq, x: Sym, scale, shift) -> Sym:
        n = x.shape[-1]
        scale = np.ones(n, np.float32) if scale is None else scale
        shift = np.zeros(n, np.float32) if shift is None else shift
        return self.g.add("affine", [x], x.shape, {"scale": scale, "shift": shift}, eq, main=True)

    def arith(self, eq: Eq, p: str, a, b):
        if isinstance(a, Pat) or isinstance(b, Pat):
            if p == "sub" and isinstance(b, Pat) and b.kind == "max" and a is b.of:
                return Pat("shifted", a, eq)
            if p == "div" and isinstance(a, Pat) and isinstance(b, Pat) and a.kind == "exp" and b.kind == "sum":
                if a.of is not b.of:
                    raise self.err(eq, "a softmax whose numerator and denominator come from different tensors")
                x = a.of
                return self.g.add("softmax", [x], x.shape, {}, eq)
            bad = a if isinstance(a, Pat) else b
            raise self.err(bad.eq, f"its result is used by '{p}' at {eq.where()}, outside a softmax pattern")
        if isinstance(a, Sym) and isinstance(b, Sym):
            if a.shape != b.shape:
                raise self.err(eq, f"tensors of shapes {a.shape} and {b.shape} (broadcasting between tensors)")
            if p == "div":
                raise self.err(eq, "a division of two tensors")
            return self.g.add({"add": "add", "sub": "subtract", "mul": "multiply"}[p], [a, b], a.shape, {}, eq)
        if isinstance(a, Sym):
            v = self.channel_vector(eq, a, b)
            if p == "add":
                return self.affine(eq, a, None, v)
            if p == "sub":
                return self.affine(eq, a, None, -v)
            if p == "mul":
                return self.affine(eq, a, v, None)
            return self.affine(eq, a, (1.0 / v).astype(np.float32), None)
        v = self.channel_vector(eq, b, a)
        if p == "add":
            return self.affine(eq, b, None, v)
        if p == "sub":
            return self.affine(eq, b, -np.ones_like(v), v)
        if p == "mul":
            return self.affine(eq, b, v, None)
        raise self.err(eq, "a weight divided by a tensor")

    def maximum(self, eq: Eq, a, b):
        for m, c in ((a, b), (b, a)):
            if isinstance(m, Pat) and m.kind == "max" and not _is_sym(c) and _scalar_value(c) == -np.inf:
                return m  # jnp.max's initial=-inf
        x, c = (a, b) if _is_sym(a) else (b, a)
        x = self.tensor(eq, x)
        if _is_sym(c) or _scalar_value(c) != 0.0:
            raise self.err(eq, "only max(x, 0) (relu) is supported")
        return self.g.add("relu", [x], x.shape, {}, eq)

    def select(self, eq: Eq, args: list):
        pred, *cases = args
        if isinstance(pred, Pat) and pred.kind == "cmp0" and len(cases) == 2:
            x = pred.of
            neg, pos = cases  # select_n(pred, false_case, true_case): where(x >= 0, pos, neg)
            if pos is x:
                if not _is_sym(neg) and _scalar_value(neg) == 0.0:
                    return self.g.add("relu", [x], x.shape, {}, eq)
                if isinstance(neg, Sym) and neg.op >= 0:
                    op = self.g.ops[neg.op]
                    slope = _scalar_value(op.attrs.get("scale", [np.nan]))
                    if (
                        op.kind == "affine"
                        and op.inputs == [x.op]
                        and slope is not None
                        and not np.any(op.attrs["shift"])
                    ):
                        return self.g.add("leaky_relu", [x], x.shape, {"negative_slope": slope}, eq)
        raise self.err(eq, "only where(x >= 0, x, a * x) (leaky relu) and where(x > 0, x, 0) (relu) are supported")

    def reduce(self, eq: Eq, p: str, v):
        axes = tuple(int(a) for a in eq.params["axes"])
        x = v.of if isinstance(v, Pat) else v
        if 0 in axes:
            raise self.err(
                eq,
                "a reduction over the batch axis (a batch-norm in training mode? convert the model "
                "in inference mode, e.g. use_running_average=True)",
            )
        if axes != (len(x.shape) - 1,):
            raise self.err(eq, f"a reduction over axes {axes}; only a softmax over the last axis is supported")
        if p == "reduce_max" and isinstance(v, Sym):
            return Pat("max", v, eq)
        if p == "reduce_sum" and isinstance(v, Pat) and v.kind == "exp":
            return Pat("sum", v.of, eq)
        raise self.err(eq, f"{p} outside a softmax pattern")

    def reshape(self, eq: Eq, v):
        if isinstance(v, Pat):
            return v  # keepdims / broadcast of a softmax reduction
        x = self.tensor(eq, v)
        if eq.prim == "broadcast_in_dim":
            shape = tuple(eq.params["shape"])
            dims = tuple(eq.params["broadcast_dimensions"])
            kept = [shape[d] for d in dims]
            if kept != list(x.shape) or int(np.prod(shape)) != int(np.prod(x.shape)):
                raise self.err(eq, f"broadcasting a tensor {x.shape} to {shape}")
        else:
            shape = eq.out_shapes[0]
        if shape[0] != x.shape[0]:
            raise self.err(eq, f"a reshape {x.shape} -> {shape} that mixes the batch axis")
        if shape == x.shape:
            return x
        return self.g.add("reshape", [x], shape, {}, eq)

    def transpose(self, eq: Eq, v) -> Sym:
        x = self.tensor(eq, v)
        perm = tuple(int(a) for a in eq.params["permutation"])
        if perm[0] != 0:
            raise self.err(eq, "a transpose that moves the batch axis")
        return self.g.add("permute", [x], tuple(x.shape[i] for i in perm), {"dims": perm[1:]}, eq)

    def dense(self, eq: Eq, a, w):
        x = self.tensor(eq, a)
        if _is_sym(w):
            raise self.err(eq, "a product of two input-dependent tensors (only tensor @ weight is a Dense)")
        w = np.asarray(w, np.float32)
        (lc, rc), (lb, rb) = eq.params["dimension_numbers"]
        if w.ndim != 2 or tuple(lc) != (len(x.shape) - 1,) or tuple(rc) != (0,) or lb or rb:
            raise self.err(
                eq,
                f"a contraction {eq.params['dimension_numbers']} of {x.shape} with a weight {w.shape}; "
                "only x[..., n] @ W[n, m] is a Dense",
            )
        return self.g.add("dense", [x], (*x.shape[:-1], w.shape[1]), {"w": w, "b": None}, eq, main=True)

    def conv(self, eq: Eq, a, w):
        x = self.tensor(eq, a)
        if _is_sym(w):
            raise self.err(eq, "a convolution with an input-dependent kernel")
        w = np.asarray(w, np.float32)
        nd = w.ndim - 2
        prm = eq.params
        dn = prm["dimension_numbers"]
        channels_last = (0, nd + 1, *range(1, nd + 1))
        kernel_hwio = (nd + 1, nd, *range(nd))
        if nd not in (1, 2) or tuple(dn.lhs_spec) != channels_last or tuple(dn.out_spec) != channels_last:
            raise self.err(
                eq, f"a {nd}-D convolution with dimension numbers {dn}; only 1-D/2-D channels-last is supported"
            )
        if tuple(dn.rhs_spec) != kernel_hwio:
            raise self.err(eq, f"a convolution kernel layout {dn.rhs_spec}; expected [*kernel, c_in, c_out]")
        if prm["feature_group_count"] != 1 or prm["batch_group_count"] != 1:
            raise self.err(eq, "a grouped convolution")
        if set(prm["lhs_dilation"]) != {1} or set(prm["rhs_dilation"]) != {1}:
            raise self.err(eq, "a dilated convolution (hls4ml convolutions are undilated)")
        strides = tuple(int(s) for s in prm["window_strides"])
        pads = tuple(tuple(int(q) for q in pair) for pair in prm["padding"])
        spatial, ksize = x.shape[1:-1], w.shape[:nd]
        padding = next((m for m in ("VALID", "SAME") if conv_padding(spatial, ksize, strides, m) == pads), None)
        if padding is None:
            raise self.err(eq, f"convolution padding {pads}; only SAME or VALID is supported")
        out_spatial = [(n + lo + hi - k) // s + 1 for n, (lo, hi), k, s in zip(spatial, pads, ksize, strides)]
        shape = (x.shape[0], *out_spatial, w.shape[-1])
        attrs = {"w": w, "b": None, "strides": strides, "padding": padding}
        return self.g.add("conv", [x], shape, attrs, eq, main=True)

    def hepjax_op(self, eq: Eq, args: list) -> Sym:
        kind, attrs = eq.tag
        args = args[-3:] if kind in ("fixed_dense", "fixed_conv") else args[-1:]  # (x, w, b) / (x,)
        x = self.tensor(eq, args[0])
        if any(_is_sym(a) for a in args[1:]):
            raise self.err(eq, f"hepjax {kind} with input-dependent weights")
        if kind == "quantize":
            return self.g.add("fixed", [x], x.shape, {"spec": FixedSpec.parse(attrs["spec"])}, eq, main=True)
        w, b = np.asarray(args[1], np.float32), np.asarray(args[2], np.float32)
        specs = {k: None if attrs[k] is None else FixedSpec.parse(attrs[k]) for k in ("x", "w", "b", "out")}
        if kind == "fixed_dense":
            arith = dense_accumulator(specs["x"], specs["w"], specs["b"], specs["out"], int(w.shape[0]), name=kind)
            return self.g.add(
                "qdense", [x], (*x.shape[:-1], w.shape[1]), {"arith": arith, "w": w, "b": b}, eq, main=True
            )
        if kind == "fixed_conv":
            fan_in = int(np.prod(w.shape[:-1]))
            arith = dense_accumulator(specs["x"], specs["w"], specs["b"], specs["out"], fan_in, name=kind)
            strides, padding = tuple(attrs["strides"]), attrs["padding"]
            nd = w.ndim - 2
            spatial, ksize = x.shape[1:-1], w.shape[:nd]
            pads = conv_padding(spatial, ksize, strides, padding)
            out_spatial = [(n + lo + hi - k) // s + 1 for n, (lo, hi), k, s in zip(spatial, pads, ksize, strides)]
            attrs2 = {"arith": arith, "w": w, "b": b, "strides": strides, "padding": padding}
            return self.g.add("qconv", [x], (x.shape[0], *out_spatial, w.shape[-1]), attrs2, eq, main=True)
        raise self.err(eq, f"unknown hepjax op {kind!r}")


# ----------------------------------------------------------------------------- graph rewrites


def reachable(ops: list[Op], outputs: list[int]) -> set[int]:
    seen, todo = set(), list(outputs)
    while todo:
        i = todo.pop()
        if i in seen or i < 0:
            continue
        seen.add(i)
        todo += ops[i].inputs
    return seen


def consumers(ops: list[Op], live: set[int]) -> dict[int, list[int]]:
    cons: dict[int, list[int]] = {}
    for i in sorted(live):
        for j in ops[i].inputs:
            cons.setdefault(j, []).append(i)
    return cons


def _fold_affines(ops: list[Op], outputs: list[int], fold_batchnorm: bool) -> None:
    """Merge chains of scale/shifts and fold them into a float Dense/Conv they alone consume.

    ``(x W + b) s + t = x (W s) + (b s + t)`` per output channel; a bias add is such a shift.
    """
    live = reachable(ops, outputs)
    cons = consumers(ops, live)
    for i in sorted(live):
        op = ops[i]
        if op.kind != "affine" or op.inputs[0] < 0:
            continue
        src = op.inputs[0]
        parent = ops[src]
        if len(cons.get(src, [])) != 1 or src in outputs:
            continue
        s, t = op.attrs["scale"], op.attrs["shift"]
        if parent.kind == "affine":
            scale, shift = parent.attrs["scale"] * s, parent.attrs["shift"] * s + t
            ops[i] = dataclasses.replace(op, inputs=parent.inputs, attrs={"scale": scale, "shift": shift})
        elif parent.kind in ("dense", "conv") and (fold_batchnorm or np.all(s == 1)):  # a bias add always folds
            w = (parent.attrs["w"] * s).astype(np.float32)
            b = parent.attrs["b"]
            b = (np.zeros(w.shape[-1], np.float32) if b is None else b) * s + t
            ops[i] = dataclasses.replace(
                parent, attrs={**parent.attrs, "w": w, "b": b.astype(np.float32)}, shape=op.shape, name=parent.name
            )
        else:
            continue
        cons[parent.inputs[0]] = [i if c == src else c for c in cons.get(parent.inputs[0], [])]
        cons[src] = []


def _skip_inner_quantizers(ops: list[Op], outputs: list[int]) -> None:
    """Drop a ``quantize`` whose every consumer is a QDense/QConv quantizing to the same type itself."""
    live = reachable(ops, outputs)
    cons = consumers(ops, live)
    for i in sorted(live):
        op = ops[i]
        if op.kind != "fixed" or i in outputs:
            continue
        users = cons.get(i, [])
        if users and all(
            ops[u].kind in ("qdense", "qconv") and ops[u].attrs["arith"].x == op.attrs["spec"] for u in users
        ):
            for u in users:
                ops[u].inputs = [op.inputs[0] if j == i else j for j in ops[u].inputs]


# ----------------------------------------------------------------------------- entry point


def _as_function(model: Any, variables: Any, apply_kwargs: dict) -> tuple[Callable, Any]:
    import flax.linen as nn

    if isinstance(model, nn.Module):
        return (lambda v, x: model.apply(v, x, **apply_kwargs)), _variables(variables)
    try:
        from flax import nnx
    except ImportError:  # pragma: no cover - flax without nnx
        nnx = None
    if nnx is not None and isinstance(model, nnx.Module):
        graphdef, state = nnx.split(model)
        if variables is not None:
            raise UnsupportedLayerError("an NNX module carries its own state: pass variables=None")
        return (lambda s, x: nnx.merge(graphdef, s)(x, **apply_kwargs)), state
    if not callable(model):
        raise UnsupportedLayerError(f"expected a Flax module or a function f(params, x), got {type(model).__name__}")
    return (lambda p, x: model(p, x, **apply_kwargs)), variables


@dataclasses.dataclass
class TracedGraph:
    """The layer graph of a traced model, with what is needed to evaluate each layer's output in JAX."""

    ops: list[Op]
    outputs: list[int]  # op ids of the model outputs
    eqs: list[Eq]
    consts: dict[int, Any]
    x_id: int
    var_of: dict[int, int]  # op id -> the jaxpr variable holding its output


def trace_graph(
    model: Any,
    variables: Any,
    input_shape: tuple[int, ...],
    *,
    fold_batchnorm: bool = True,
    batch: int = BATCH,
    **apply_kwargs,
) -> TracedGraph:
    """The layer graph of ``model`` on inputs ``[batch, *input_shape]``.

    Raises:
      UnsupportedLayerError: an equation no layer computes, naming the primitive and source line.
    """
    fn, params = _as_function(model, variables, apply_kwargs)
    x = jax.ShapeDtypeStruct((batch, *input_shape), jnp.float32)
    closed = jax.make_jaxpr(fn)(params, x)
    flat = _Flattener()
    ids = []
    for leaf in jax.tree.leaves(params):
        i = flat.new()
        flat.consts[i] = np.asarray(leaf)
        ids.append(i)
    x_id = flat.new()
    if len(closed.jaxpr.invars) != len(ids) + 1:  # pragma: no cover - make_jaxpr flattens exactly these
        raise UnsupportedLayerError("could not match the traced inputs to the parameters")
    outs = flat.run(closed.jaxpr, list(closed.consts), [*ids, x_id], ())
    conv = _Converter(flat.eqs, flat.consts)
    conv.vals[x_id] = Sym(-1, (batch, *input_shape))
    conv.run()
    out_ops = []
    for k, a in enumerate(outs):
        v = conv.value(a)
        if isinstance(v, Pat):
            raise conv.err(v.eq, "the model output ends inside an unfinished pattern")
        if not isinstance(v, Sym) or v.op < 0:
            raise UnsupportedLayerError(f"model output {k} does not depend on the input through any layer")
        out_ops.append(v.op)
    var_of: dict[int, int] = {}
    for eq in flat.eqs:
        for o in eq.outs:
            v = conv.vals.get(o) if o is not None else None
            if isinstance(v, Sym):
                var_of.setdefault(v.op, o)
    _fold_affines(conv.g.ops, out_ops, fold_batchnorm)
    _skip_inner_quantizers(conv.g.ops, out_ops)
    _assign_names(conv.g.ops, reachable(conv.g.ops, out_ops))
    return TracedGraph(conv.g.ops, out_ops, flat.eqs, flat.consts, x_id, var_of)


def _evaluate(tg: TracedGraph, x: jax.Array, want: list[int]) -> list[jax.Array]:
    """The values of the variables ``want`` on input ``x`` (the traced batch size), by running the equations."""
    env = dict(tg.consts)
    env[tg.x_id] = x
    for eq in tg.eqs:
        args = [a.val if isinstance(a, Lit) else env[a] for a in eq.ins]
        if eq.closed is not None:
            outs = jcore.jaxpr_as_fun(eq.closed)(*args)
        else:
            outs = eq.primitive.bind(*args, **eq.params)
            outs = outs if eq.primitive.multiple_results else [outs]
        for o, v in zip(eq.outs, outs):
            if o is not None:
                env[o] = v
    return [env[w] for w in want]


def traced_layer_outputs(
    model: Any, variables: Any, x: np.ndarray, *, chunk: int = 4096, fold_batchnorm: bool = True, **apply_kwargs
) -> dict[str, np.ndarray]:
    """The JAX value of every layer of :func:`to_keras_traced`'s model on ``x``, by Keras layer node name.

    The counterpart of :func:`hepjax.hls.layer_outputs` for the jaxpr converter (the names are the
    ``node_of`` values of its precision record); runs in chunks of ``chunk`` rows, the last padded.
    """
    x = np.asarray(x, np.float32)
    n = len(x)
    size = min(chunk, n)
    tg = trace_graph(model, variables, x.shape[1:], fold_batchnorm=fold_batchnorm, batch=size, **apply_kwargs)
    live = sorted(reachable(tg.ops, tg.outputs))
    want = [tg.var_of[i] for i in live]
    run = jax.jit(lambda xb: _evaluate(tg, xb, want))
    parts = []
    for start in range(0, n, size):
        xb = x[start : start + size]
        pad = size - len(xb)
        if pad:
            xb = np.concatenate([xb, np.repeat(xb[-1:], pad, axis=0)])
        parts.append([np.asarray(v)[: size - pad] for v in run(jnp.asarray(xb))])
    return {tg.ops[i].name: np.concatenate([p[k] for p in parts]) for k, i in enumerate(live)}


def to_keras_traced(
    model: Any,
    variables: Any,
    input_shape: tuple[int, ...],
    *,
    fold_batchnorm: bool = True,
    name: str = "hepjax_model",
    **apply_kwargs,
):
    """Convert ``model`` with ``variables`` to a functional Keras 3 model on ``[batch, *input_shape]``.

    Args:
      model: a Flax linen module (``variables`` as from ``init``, or the bare ``params``), a Flax NNX
        module (``variables=None``), or a pure function ``f(params, x)`` (``variables`` its params pytree).
      input_shape: one example's shape, without the batch axis.
      fold_batchnorm: fold scale/shifts (inference batch-norm) into the float Dense/Conv before them.
      apply_kwargs: passed to ``model.apply`` / the function (e.g. ``train=False``).

    Returns a ``keras.Model`` whose outputs equal the JAX model's (float32, ~1e-6; the fixed-point
    layers exactly) and which :func:`hepjax.hls.hls4ml_config` accepts.

    Raises:
      UnsupportedLayerError: naming the primitive and the source line no Keras layer can carry.
    """
    from hepjax.hls.jaxpr_keras import build_keras  # imports keras (JAX backend)

    tg = trace_graph(model, variables, tuple(input_shape), fold_batchnorm=fold_batchnorm, **apply_kwargs)
    return build_keras(tg.ops, tg.outputs, tuple(input_shape), name)
