"""QDense against int64 arithmetic, pruning, and Flax -> Keras equality for every supported layer."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hepjax.hls import (
    Activation,
    Add,
    Concatenate,
    FixedPoint,
    Flatten,
    QDense,
    Reshape,
    UnsupportedLayerError,
    codes_of,
    magnitude_pruning,
    quantize_reference,
    sparsity_report,
    to_keras,
)
from hepjax.hls.fixed import FixedSpec

A, W, O = "ap_fixed<10,4,AP_RND,AP_SAT>", "ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<9,4,AP_TRN,AP_WRAP>"


def test_qdense_is_exact_integer_arithmetic():
    layer = QDense(7, input=A, weight=W, bias=W, output=O)
    x = np.random.default_rng(0).normal(0, 3, (500, 13)).astype(np.float32)
    v = layer.init(jax.random.PRNGKey(1), x[:1])
    y = np.asarray(jax.jit(layer.apply)(v, x))
    xs, ws, os_ = FixedSpec.parse(A), FixedSpec.parse(W), FixedSpec.parse(O)
    xc = quantize_reference(x, xs)
    wc = quantize_reference(np.asarray(v["params"]["kernel"]), ws)
    bc = quantize_reference(np.asarray(v["params"]["bias"]), ws)
    acc = xc @ wc + bc  # int64, fractional bits xs.frac + ws.frac (= bias's 5 + 6 shifted below)
    frac = xs.frac + ws.frac
    acc = xc @ wc + bc * 2 ** (frac - ws.frac)
    want = quantize_reference(acc.astype(np.float64) * 2.0**-frac, os_)
    np.testing.assert_array_equal(codes_of(y, os_), want)


def test_qdense_gradient_is_straight_through():
    layer = QDense(3, input=A, weight=W, bias=W, output="ap_fixed<16,6,AP_RND,AP_SAT>")
    x = np.random.default_rng(0).normal(0, 1, (4, 5)).astype(np.float32)
    v = layer.init(jax.random.PRNGKey(2), x)
    g = jax.grad(lambda p: jnp.sum(layer.apply({"params": p}, x) ** 2))(v["params"])
    xq = np.asarray(jax.numpy.asarray(FixedPoint(A).apply({}, x)))
    y = np.asarray(layer.apply(v, x))
    np.testing.assert_allclose(np.asarray(g["kernel"]), xq.T @ (2 * y), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(g["bias"]), (2 * y).sum(0), rtol=1e-5, atol=1e-6)


def test_qdense_rejects_accumulators_beyond_int32():
    layer = QDense(3, input="ap_fixed<24,8>", weight="ap_fixed<16,2>", bias="ap_fixed<16,2>", output="ap_fixed<16,6>")
    with pytest.raises(ValueError, match="int32"):
        layer.init(jax.random.PRNGKey(0), jnp.ones((1, 64)))


def test_magnitude_pruning_reaches_target():
    params = {
        "dense": {
            "kernel": jnp.asarray(np.random.default_rng(0).normal(size=(16, 8)), jnp.float32),
            "bias": jnp.ones(8),
        }
    }
    opt = optax.chain(optax.sgd(0.01), magnitude_pruning(0.75, begin_step=0, end_step=5))
    state = opt.init(params)
    for _ in range(8):
        grads = jax.tree.map(jnp.ones_like, params)
        upd, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, upd)
    rep = sparsity_report(params)
    assert rep == {"dense/kernel": 0.75}
    assert float(jnp.min(params["dense"]["bias"])) != 0.0  # biases untouched
    with pytest.raises(ValueError, match="sparsity"):
        magnitude_pruning(1.5)


class Branchy(nn.Module):
    @nn.compact
    def __call__(self, x):
        a = nn.Dense(6, name="a")(x)
        b = Activation("tanh", name="b_act")(nn.Dense(6, name="b")(x))
        s = Add(name="add")(a, b)
        c = Concatenate(name="cat")(s, Activation("sigmoid", name="sig")(a))
        c = nn.BatchNorm(use_running_average=True, name="bn")(c)  # after a merge: kept as a layer
        return Activation("softmax", name="out")(nn.Dense(4, name="head")(c))


class ConvNet(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = Reshape((6, 6, 1), name="img")(x)
        x = nn.Conv(4, (3, 3), padding="SAME", name="c2")(x)
        x = nn.BatchNorm(use_running_average=True, name="bn2")(x)  # folded into c2
        x = Activation("leaky_relu", negative_slope=0.1, name="lrelu")(x)
        x = Reshape((9, 16), name="seq")(x)
        x = nn.Conv(3, (2,), strides=2, padding="VALID", name="c1")(x)
        return nn.Dense(2, name="d")(Flatten(name="flat")(x))


def _randomise_stats(v, seed):
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda a: jnp.asarray(rng.uniform(0.5, 1.5, a.shape), a.dtype), v)


@pytest.mark.parametrize(
    "model,shape",
    [
        (nn.Sequential([nn.Dense(16), nn.relu, nn.Dense(8), nn.leaky_relu, nn.Dense(5), nn.softmax]), (12,)),
        (Branchy(), (7,)),
        (ConvNet(), (36,)),
        (
            nn.Sequential(
                [
                    QDense(8, input=A, weight=W, bias=W, output=O),
                    Activation("relu"),
                    FixedPoint("ap_ufixed<6,2,AP_RND,AP_SAT>"),
                    QDense(4, input="ap_ufixed<5,2,AP_RND,AP_SAT>", weight=W, bias=W, output=O),
                ]
            ),
            (9,),
        ),
    ],
    ids=["sequential", "branches_bn", "conv1d_conv2d", "quantized"],
)
def test_keras_equals_flax(model, shape):
    x = np.random.default_rng(3).normal(0, 2, (64, *shape)).astype(np.float32)
    v = model.init(jax.random.PRNGKey(4), x[:1])
    if "batch_stats" in v:
        v = {"params": v["params"], "batch_stats": _randomise_stats(v["batch_stats"], 5)}
    km = to_keras(model, v, shape)
    got = km.predict(x, batch_size=len(x), verbose=0)  # one jit-compiled call
    np.testing.assert_allclose(got, np.asarray(model.apply(v, x)), rtol=1e-6, atol=1e-6)


class BareFunction(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dense(3, name="second")(nn.relu(nn.Dense(4, name="first")(x)))


@pytest.mark.parametrize(
    "model,needle",
    [
        (nn.Sequential([nn.Dense(4), nn.gelu]), "gelu"),
        (BareFunction(), "second"),
        (nn.Sequential([nn.Dense(4), nn.LayerNorm()]), "LayerNorm"),
        (nn.Sequential([Reshape((6, 1)), nn.Conv(2, (2,), padding="CIRCULAR")]), "padding"),
    ],
    ids=["function", "bare_relu", "layernorm", "circular_conv"],
)
def test_unsupported_layers_raise_naming_them(model, needle):
    x = jnp.ones((2, 6))
    v = model.init(jax.random.PRNGKey(0), x)
    with pytest.raises(UnsupportedLayerError, match=needle):
        to_keras(model, v, (6,))
