"""The jaxpr converter: models written the ordinary way (bare nn.relu, reshapes, a + b, jnp.concatenate,
functions of a parameter pytree, nn.Sequential, NNX) become Keras models that compute what JAX computes."""

import inspect
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.hls import FixedPoint, QConv, QDense, UnsupportedLayerError
from hepjax.hls.jaxpr_convert import to_keras_traced, traced_layer_outputs

X, W, O = "ap_fixed<10,4,AP_RND,AP_SAT>", "ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<12,5,AP_RND,AP_SAT>"
R = "ap_ufixed<6,2,AP_RND,AP_SAT>"


def _x(shape, n=64, seed=3):
    return np.random.default_rng(seed).normal(0, 2, (n, *shape)).astype(np.float32)


def _keras(km, x):
    return np.asarray(km.predict(x, batch_size=len(x), verbose=0))


def _layer_classes(km) -> list[str]:
    return [type(l).__name__ for l in km.layers]


class Compact(nn.Module):
    """The most ordinary Flax model: bare activations between Dense layers."""

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(16)(x))
        x = nn.leaky_relu(nn.Dense(8)(x), negative_slope=0.2)
        return nn.Dense(3)(x)


class Merges(nn.Module):
    """Concatenate, a residual add, a reshape round trip, tanh / sigmoid and a softmax head."""

    @nn.compact
    def __call__(self, x):
        h = nn.tanh(nn.Dense(6)(x))
        r = nn.Dense(6)(h) + h  # residual
        c = jnp.concatenate([r, nn.sigmoid(nn.Dense(4)(x))], axis=-1)
        c = c.reshape(c.shape[0], 2, 5).reshape(c.shape[0], -1)
        return nn.softmax(nn.Dense(4)(c))


class WithBatchNorm(nn.Module):
    """Inference batch-norm after a Dense (folded into it) and after a merge (a scale/shift layer)."""

    @nn.compact
    def __call__(self, x):
        a = nn.BatchNorm(use_running_average=True)(nn.Dense(5)(x))
        b = nn.relu(a) + nn.Dense(5, use_bias=False)(x)
        return nn.BatchNorm(use_running_average=True)(b)


class Convs(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = x.reshape(x.shape[0], 6, 6, 1)
        x = nn.relu(nn.Conv(4, (3, 3), padding="SAME")(x))
        x = x.reshape(x.shape[0], 9, 16)
        x = nn.Conv(3, (2,), strides=2, padding="VALID")(x)
        return nn.Dense(2)(x.reshape(x.shape[0], -1))


def _with_stats(v, seed=5):
    rng = np.random.default_rng(seed)
    stats = jax.tree.map(lambda a: jnp.asarray(rng.uniform(0.5, 1.5, a.shape), a.dtype), v["batch_stats"])
    params = jax.tree.map(lambda a: a + jnp.asarray(rng.normal(0, 0.1, a.shape), a.dtype), v["params"])
    return {"params": params, "batch_stats": stats}


@pytest.mark.parametrize(
    "model,shape",
    [
        (Compact(), (7,)),
        (nn.Sequential([nn.Dense(16), nn.relu, nn.Dense(8), nn.tanh, nn.Dense(5), nn.softmax]), (12,)),
        (Merges(), (7,)),
        (Convs(), (36,)),
    ],
    ids=["compact", "sequential", "merges_softmax", "conv1d_conv2d"],
)
def test_keras_equals_flax(model, shape):
    x = _x(shape)
    v = jax.jit(model.init)(jax.random.PRNGKey(4), x[:1])
    km = to_keras_traced(model, v, shape)
    np.testing.assert_allclose(_keras(km, x), np.asarray(model.apply(v, x)), rtol=1e-6, atol=1e-6)


def test_batchnorm_is_folded_or_kept_as_scale_and_shift():
    model = WithBatchNorm()
    x = _x((7,))
    v = _with_stats(jax.jit(model.init)(jax.random.PRNGKey(0), x[:1]))
    want = np.asarray(model.apply(v, x))
    km = to_keras_traced(model, v, (7,))
    np.testing.assert_allclose(_keras(km, x), want, rtol=1e-5, atol=1e-6)
    # the first batch-norm went into its Dense; the one after the add is its own layer
    assert _layer_classes(km).count("BatchNormalization") == 1
    unfolded = to_keras_traced(model, v, (7,), fold_batchnorm=False)
    assert _layer_classes(unfolded).count("BatchNormalization") == 2
    np.testing.assert_allclose(_keras(unfolded, x), want, rtol=1e-5, atol=1e-6)


def test_function_of_a_parameter_pytree():
    rng = np.random.default_rng(1)
    params = {
        "w1": jnp.asarray(rng.normal(size=(5, 8)), jnp.float32),
        "b1": jnp.asarray(rng.normal(size=8), jnp.float32),
        "w2": jnp.asarray(rng.normal(size=(8, 2)), jnp.float32),
        "scale": jnp.float32(0.5),
    }

    @jax.jit  # a jitted function is inlined like any other call
    def f(p, x):
        h = jnp.tanh(jnp.dot(x, p["w1"]) + p["b1"])
        return jax.nn.sigmoid((h @ p["w2"]) * p["scale"])

    x = _x((5,))
    km = to_keras_traced(f, params, (5,))
    np.testing.assert_allclose(_keras(km, x), np.asarray(f(params, x)), rtol=1e-6, atol=1e-6)
    assert _layer_classes(km) == ["InputLayer", "Dense", "Activation", "Dense", "Activation"]
    # per-layer JAX values (what the export compares with the C simulation), against numpy
    outs = traced_layer_outputs(f, params, x[:5])
    assert set(outs) == {l.name for l in km.layers[1:]}
    w1, b1 = np.asarray(params["w1"], np.float64), np.asarray(params["b1"], np.float64)
    np.testing.assert_allclose(outs["dense"], x[:5] @ w1 + b1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outs["tanh"], np.tanh(x[:5] @ w1 + b1), rtol=1e-5, atol=1e-6)


def test_nnx_module():
    from flax import nnx

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.a = nnx.Linear(6, 8, rngs=rngs)
            self.bn = nnx.BatchNorm(8, use_running_average=True, rngs=rngs)
            self.b = nnx.Linear(8, 3, rngs=rngs)

        def __call__(self, x):
            return nnx.softmax(self.b(nnx.relu(self.bn(self.a(x)))))

    net = Net(nnx.Rngs(0))
    net.bn.mean.value = jnp.linspace(-1.0, 1.0, 8)  # running statistics that change the output
    net.bn.var.value = jnp.linspace(0.5, 2.0, 8)
    x = _x((6,))
    km = to_keras_traced(net, None, (6,))
    np.testing.assert_allclose(_keras(km, x), np.asarray(net(x)), rtol=1e-6, atol=1e-6)
    assert "BatchNormalization" not in _layer_classes(km)  # folded into the first Linear


def _line_of(fn, needle: str) -> int:
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if needle in line)


class WithSin(nn.Module):
    @nn.compact
    def __call__(self, x):
        return jnp.sin(nn.Dense(3)(x))  # no hls4ml layer computes sin


def test_unsupported_primitive_names_it_and_the_source_line():
    model = WithSin()
    v = model.init(jax.random.PRNGKey(0), jnp.ones((1, 4)))
    with pytest.raises(UnsupportedLayerError) as err:
        to_keras_traced(model, v, (4,))
    msg = str(err.value)
    assert "'sin'" in msg
    assert f"{Path(__file__).name}:{_line_of(WithSin.__call__, 'jnp.sin')}" in msg


def test_training_mode_batchnorm_and_batch_mixing_are_refused():
    model = nn.Sequential([nn.Dense(4), nn.BatchNorm(use_running_average=False)])
    v = model.init(jax.random.PRNGKey(0), jnp.ones((2, 3)))
    with pytest.raises(UnsupportedLayerError, match="batch axis"):
        to_keras_traced(model, v, (3,), mutable=["batch_stats"])
    with pytest.raises(UnsupportedLayerError, match="'reshape'.*batch axis"):
        to_keras_traced(lambda p, x: x.reshape(-1), {}, (3,))
    with pytest.raises(UnsupportedLayerError, match="'scan'.*control flow"):  # never inlined as one pass
        to_keras_traced(lambda p, x: jax.lax.fori_loop(0, 3, lambda i, h: jnp.tanh(h), x), {}, (3,))
    with pytest.raises(UnsupportedLayerError, match="'dot_general'.*two input-dependent"):
        to_keras_traced(lambda p, x: jax.lax.dot_general(x, x, (((1,), (1,)), ((0,), (0,)))), {}, (3,))


class QNet(nn.Module):
    """A quantized model written the ordinary way: bare reshapes and relus between hepjax's layers."""

    @nn.compact
    def __call__(self, x):
        x = x.reshape(x.shape[0], 5, 6, 1)
        x = QConv(3, (3, 3), input=X, weight=W, bias=W, output=O, padding="SAME")(x)
        x = FixedPoint(R)(nn.relu(x))
        x = x.reshape(x.shape[0], -1)
        x = FixedPoint(R)(nn.relu(QDense(8, input=R, weight=W, bias=W, output=O)(x)))
        return QDense(3, input=R, weight=W, bias=W, output=O)(x)


def test_quantized_model_keras_is_bit_exact():
    model = QNet()
    x = _x((30,), n=128)
    v = jax.jit(model.init)(jax.random.PRNGKey(0), x[:1])
    km = to_keras_traced(model, v, (30,))
    np.testing.assert_array_equal(_keras(km, x), np.asarray(jax.jit(model.apply)(v, x)))
    classes = _layer_classes(km)
    assert classes.count("KerasQDense") == 2 and classes.count("KerasQConv2D") == 1
    info = km._hepjax_info
    assert str(info.input_spec) == X  # the input is typed with the first QConv's input type, through the reshape


@pytest.mark.slow  # ~30 s: writes and compiles the hls4ml C simulation
def test_quantized_model_csim_bit_exact(tmp_path):
    """hls4ml's C simulation of the converted model reproduces every fixed-point layer of JAX bit for bit."""
    pytest.importorskip("hls4ml")
    from hepjax.hls import export_model

    model = QNet()
    x = np.random.default_rng(0).normal(0, 1.5, (200, 30)).astype(np.float32)
    v = jax.jit(model.init)(jax.random.PRNGKey(0), x[:1])
    rep = export_model(model, v, (30,), x, tmp_path / "prj", converter="traced")
    agree = rep["agreement"]
    assert agree["n_inputs"] == 200 and agree["bit_mismatches"] == 0
    assert agree["output_is_fixed_point"] and agree["max_abs_diff"] == 0.0
    assert {"QConv_0", "FixedPoint_0", "QDense_0", "FixedPoint_1", "QDense_1"} <= set(agree["bit_exact_layers"])


def test_same_keras_graph_and_precisions_as_the_interception_bridge():
    """On a model both converters accept, they build the same layers with the same hls4ml precision record."""
    from hepjax.hls import Activation, to_keras

    model = nn.Sequential(
        [
            QDense(8, input=X, weight=W, bias=W, output=O),
            Activation("relu"),
            FixedPoint(R),
            QDense(4, input=R, weight=W, bias=W, output=O),
            Activation("softmax"),
        ]
    )
    x = _x((9,))
    v = jax.jit(model.init)(jax.random.PRNGKey(4), x[:1])
    traced, bridged = to_keras_traced(model, v, (9,)), to_keras(model, v, (9,))
    assert _layer_classes(traced) == _layer_classes(bridged)
    ti, bi = traced._hepjax_info, bridged._hepjax_info
    assert ti.input_spec == bi.input_spec and list(ti.precisions.values()) == list(bi.precisions.values())
    assert list(ti.specs.values()) == list(bi.specs.values())
    np.testing.assert_array_equal(_keras(traced, x), _keras(bridged, x))
