"""QConv (1-D and 2-D) against integer arithmetic and Flax's nn.Conv, its gradient, the bridge, pruning,
and a tiny quantized conv model C-simulated by hls4ml bit for bit."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.hls import (
    Activation,
    FixedPoint,
    Flatten,
    QConv,
    QDense,
    Reshape,
    UnsupportedLayerError,
    codes_of,
    export_model,
    quantize,
    quantize_reference,
    sparsity_report,
    to_keras,
)
from hepjax.hls.fixed import FixedSpec
from hepjax.hls.prune import prune_to

A, W, O = "ap_fixed<10,4,AP_RND,AP_SAT>", "ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<9,4,AP_TRN,AP_WRAP>"
B = "ap_fixed<8,2,AP_TRN,AP_SAT>"
R = "ap_ufixed<6,2,AP_RND,AP_SAT>"
X = "ap_fixed<16,6,AP_RND,AP_SAT>"  # as many fractional bits as hls4ml's default input_t, which truncates


def _reference_conv_codes(x, kernel, bias, strides, padding, a, w, b, o):
    """Integer codes of cast<o>(conv(x, w) + b): explicit loops over output pixels, Python-integer exact."""
    a, w, b, o = (FixedSpec.parse(t) for t in (a, w, b, o))
    xc, wc, bc = quantize_reference(x, a), quantize_reference(kernel, w), quantize_reference(bias, b)
    ks, nd = kernel.shape[:-2], kernel.ndim - 2
    spatial = x.shape[1:-1]
    pads = []
    for n, k, s in zip(spatial, ks, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0) if padding == "SAME" else 0
        pads.append((total // 2, total - total // 2))
    xp = np.pad(xc, ((0, 0), *pads, (0, 0)))
    out_shape = [(n + lo + hi - k) // s + 1 for n, (lo, hi), k, s in zip(spatial, pads, ks, strides)]
    frac = max(a.frac + w.frac, b.frac, o.frac)
    acc = np.zeros((x.shape[0], *out_shape, kernel.shape[-1]), np.int64)
    for pos in np.ndindex(*out_shape):
        window = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, ks))
        patch = xp[(slice(None), *window, slice(None))].reshape(x.shape[0], -1)
        acc[(slice(None), *pos, slice(None))] = patch @ wc.reshape(-1, kernel.shape[-1])
    acc = acc * 2 ** (frac - a.frac - w.frac) + bc * 2 ** (frac - b.frac)
    assert nd in (1, 2)
    return quantize_reference(acc.astype(np.float64) * 2.0**-frac, o)


_CASES = {
    "1d_same": ((11, 3), (3,), (1,), "SAME"),
    "1d_valid_stride3": ((12, 2), (4,), (3,), "VALID"),
    "2d_same": ((7, 6, 2), (3, 3), (1, 1), "SAME"),
    "2d_same_stride2_even_kernel": ((8, 7, 3), (2, 3), (2, 2), "SAME"),
}


@pytest.mark.parametrize(
    "case,jit",
    [("1d_same", True), ("1d_valid_stride3", True), ("2d_same_stride2_even_kernel", True), ("2d_same", False)],
    ids=["1d_same-jit", "1d_valid_stride3-jit", "2d_same_stride2_even_kernel-jit", "2d_same-eager"],
)
def test_qconv_is_exact_integer_arithmetic(case, jit):
    shape, kernel, strides, padding = _CASES[case]
    layer = QConv(4, kernel, strides=strides, padding=padding, input=A, weight=W, bias=B, output=O)
    x = np.random.default_rng(0).normal(0, 3, (5, *shape)).astype(np.float32)
    v = jax.jit(layer.init)(jax.random.PRNGKey(1), x[:1])
    v = jax.tree.map(lambda a: a + 0.1, v)  # non-zero biases
    fn = jax.jit(layer.apply) if jit else layer.apply
    y = np.asarray(fn(v, x))
    want = _reference_conv_codes(
        x, np.asarray(v["params"]["kernel"]), np.asarray(v["params"]["bias"]), strides, padding, A, W, B, O
    )
    assert y.shape == want.shape
    np.testing.assert_array_equal(codes_of(y, FixedSpec.parse(O)), want)


def test_qconv_matches_flax_conv_when_nothing_rounds():
    """With an output type fine enough to hold every sum, QConv is nn.Conv on the quantized values (padding convention)."""
    for shape, ks, strides in (((6, 5, 2), (3, 2), (2, 1)),):
        layer = QConv(3, ks, strides=strides, padding="SAME", input=A, weight=W, bias=W, output="ap_fixed<24,10>")
        x = np.random.default_rng(1).normal(0, 2, (4, *shape)).astype(np.float32)
        v = jax.jit(layer.init)(jax.random.PRNGKey(2), x[:1])
        conv = nn.Conv(3, ks, strides=strides, padding="SAME")
        p = {"kernel": quantize(v["params"]["kernel"], W), "bias": quantize(v["params"]["bias"], W)}
        want = jax.jit(conv.apply)({"params": p}, quantize(x, A))
        np.testing.assert_allclose(np.asarray(jax.jit(layer.apply)(v, x)), np.asarray(want), rtol=0, atol=1e-6)


def test_qconv_gradient_is_straight_through():
    layer = QConv(3, (3,), padding="SAME", input=A, weight=W, bias=W, output="ap_fixed<16,6,AP_RND,AP_SAT>")
    x = np.random.default_rng(0).normal(0, 1, (4, 8, 2)).astype(np.float32)
    v = jax.jit(layer.init)(jax.random.PRNGKey(2), x[:1])

    def float_conv(xq, p):
        return nn.Conv(3, (3,), padding="SAME").apply({"params": p}, xq)

    p = v["params"]
    y = jax.jit(layer.apply)(v, x)
    xq = quantize(x, A)
    pq = {"kernel": quantize(p["kernel"], W), "bias": quantize(p["bias"], W)}
    _, vjp = jax.vjp(float_conv, xq, pq)
    want_x, want_p = vjp(2 * y)
    got_p, got_x = jax.jit(jax.grad(lambda p, x: jnp.sum(layer.apply({"params": p}, x) ** 2), argnums=(0, 1)))(
        p, jnp.asarray(x)
    )
    np.testing.assert_allclose(np.asarray(got_p["kernel"]), np.asarray(want_p["kernel"]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got_p["bias"]), np.asarray(want_p["bias"]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(got_x), np.asarray(want_x), rtol=1e-5, atol=1e-5
    )  # input range: no saturation


def test_qconv_rejects_bad_geometry():
    x = jnp.ones((1, 6, 2))
    with pytest.raises(ValueError, match="padding"):
        QConv(2, (3,), padding="CIRCULAR", input=A, weight=W, bias=W, output=O).init(jax.random.PRNGKey(0), x)
    with pytest.raises(ValueError, match="1-D and 2-D"):
        QConv(2, (1, 1, 1), input=A, weight=W, bias=W, output=O).init(jax.random.PRNGKey(0), jnp.ones((1, 2, 2, 2, 2)))
    with pytest.raises(ValueError, match="int32"):
        QConv(2, (3, 3), input="ap_fixed<24,8>", weight="ap_fixed<16,2>", bias=W, output=O).init(
            jax.random.PRNGKey(0), jnp.ones((1, 4, 4, 64))
        )


class QConvNet(nn.Module):
    """2-D then 1-D quantized convolutions, ReLU casts, a quantized Dense head and softmax."""

    @nn.compact
    def __call__(self, x):
        x = Reshape((5, 6, 1), name="img")(x)
        x = QConv(3, (3, 3), input=X, weight=W, bias=W, output=O, padding="SAME", name="qc2")(x)
        x = FixedPoint(R, name="qc2_q")(Activation("relu", name="qc2_relu")(x))
        x = Reshape((10, 9), name="seq")(x)
        x = QConv(4, (3,), strides=2, input=R, weight=W, bias=B, output=O, padding="VALID", name="qc1")(x)
        x = FixedPoint(R, name="qc1_q")(Activation("relu", name="qc1_relu")(x))
        x = QDense(3, input=R, weight=W, bias=W, output=O, name="head")(Flatten(name="flat")(x))
        return Activation("softmax", name="out")(x)


def test_keras_equals_flax_for_qconv():
    model = QConvNet()
    x = np.random.default_rng(3).normal(0, 2, (64, 30)).astype(np.float32)
    v = jax.jit(model.init)(jax.random.PRNGKey(4), x[:1])  # one compilation instead of many eager ops
    km = to_keras(model, v, (30,))
    np.testing.assert_array_equal(km.predict(x, batch_size=len(x), verbose=0), np.asarray(jax.jit(model.apply)(v, x)))
    assert {"qc1", "qc2"} <= set(km._hepjax_info.precisions)
    assert km.get_layer("qc2").__class__.__name__ == "KerasQConv2D"


def test_bridge_rejects_dilated_conv():
    """hls4ml's convolutions ignore dilation, so the bridge refuses it instead of exporting a different model."""
    bad = nn.Sequential([Reshape((8, 1)), nn.Conv(2, (3,), kernel_dilation=2, padding="VALID")])
    with pytest.raises(UnsupportedLayerError, match="dilation"):
        to_keras(bad, bad.init(jax.random.PRNGKey(0), jnp.ones((1, 8))), (8,))


def test_tiny_qconv_model_csim_bit_exact_with_pruning(tmp_path):
    """hls4ml's own Conv1D/Conv2D (its padding, its accumulation) reproduce QConvNet bit for bit, pruned kernels included."""
    model = QConvNet()
    x = np.random.default_rng(0).normal(0, 1.5, (300, 30)).astype(np.float32)
    v = jax.jit(model.init)(jax.random.PRNGKey(0), x[:1])
    params = dict(v["params"])
    params["qc1"] = {**params["qc1"], "kernel": prune_to(params["qc1"]["kernel"], jnp.float32(0.5))}
    assert sparsity_report(params)["qc1/kernel"] == 0.5
    rep = export_model(model, {"params": params}, (30,), x, tmp_path / "prj")
    agree = rep["agreement"]
    assert agree["bit_mismatches"] == 0 and agree["n_inputs"] == 300
    assert {"qc2", "qc1", "head", "qc2_q", "qc1_q"} <= set(agree["bit_exact_layers"])
    assert agree["argmax_agreement"] >= 0.999
    layers = {l["name"]: l for l in rep["layers"]}
    # the input is converted with the first QConv's rounding, seen through the Reshape in front of it
    assert layers["model_input"]["precision"]["result_t"].startswith("fixed<16,6,RND,SAT")
    assert layers["qc2"]["class"] == "Conv2D" and layers["qc1"]["class"] == "Conv1D"
    assert layers["qc1"]["precision"]["bias_t"].startswith("fixed<8,2,TRN,SAT")
    assert layers["qc1"]["nonzero_weights"] == 3 * 9 * 4 // 2
    assert layers["qc1"]["multiplications"] == 4 * (3 * 9 * 4 // 2)  # 4 output positions
