"""ap_fixed quantizer vs exact integer arithmetic, every rounding/overflow mode, signed and unsigned."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.hls.fixed import (
    FixedSpec,
    quantize,
    quantize_codes,
    quantize_reference,
    requantize_codes,
)

MODES = list(itertools.product((True, False), ("TRN", "RND"), ("WRAP", "SAT")))


def _values(spec: FixedSpec, n=400, seed=0):
    rng = np.random.default_rng(seed)
    lsb = spec.lsb
    grid = np.arange(spec.min_code - 40, spec.max_code + 40, dtype=np.float64) * lsb
    halves = grid + lsb / 2  # exact ties: RND rounds up, TRN floors
    near = np.concatenate([halves - lsb * 2.0**-12, halves + lsb * 2.0**-12])
    wide = rng.normal(0, 4 * max(abs(spec.min_value), spec.max_value, 1), n)
    x = np.concatenate([grid, halves, near, wide, [0.0, -0.0, 1e30, -1e30]])
    return x.astype(np.float32)


@pytest.mark.parametrize("signed,rounding,overflow", MODES)
def test_codes_match_integer_reference(signed, rounding, overflow):
    spec = FixedSpec.make(6, 2 if signed else 1, signed=signed, rounding=rounding, overflow=overflow)
    x = _values(spec)
    got = np.asarray(quantize_codes(x, spec)).astype(np.int64)
    want = quantize_reference(x, spec)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.asarray(quantize(x, spec)), want * spec.lsb)


def test_hand_checked_values():
    s = FixedSpec.parse("ap_fixed<4,2>")  # TRN, WRAP: codes -8..7, lsb 0.25
    x = jnp.array([0.3, -0.3, 1.9, 2.0, -2.25, 0.125])
    # 0.3 -> floor(1.2)=1 ; -0.3 -> floor(-1.2)=-2 ; 1.9 -> 7 ; 2.0 -> 8 wraps to -8 ; -2.25 -> -9 wraps to 7 ; 0.125 -> 0
    np.testing.assert_array_equal(np.asarray(quantize_codes(x, s)), [1, -2, 7, -8, 7, 0])
    r = FixedSpec.parse("ap_fixed<4,2,AP_RND,AP_SAT>")
    # 0.3 -> floor(1.7)=1 ; -0.3 -> floor(-0.7)=-1 ; 1.9 -> 8 saturates 7 ; 0.125 -> floor(1.0) = 1 (half up) ; -0.125 -> 0
    x2 = jnp.array([0.3, -0.3, 1.9, 0.125, -0.125, -5.0])
    np.testing.assert_array_equal(np.asarray(quantize_codes(x2, r)), [1, -1, 7, 1, 0, -8])
    u = FixedSpec.parse("ap_ufixed<3,1,AP_TRN,AP_WRAP>")  # codes 0..7, lsb 0.25
    np.testing.assert_array_equal(np.asarray(quantize_codes(jnp.array([-0.25, 2.0, 1.8]), u)), [7, 0, 7])


@pytest.mark.parametrize("signed,rounding,overflow", MODES)
def test_requantize_matches_python_integers(signed, rounding, overflow):
    spec = FixedSpec.make(7, 3 if signed else 2, signed=signed, rounding=rounding, overflow=overflow)
    frac_in = spec.frac + 5
    codes = np.random.default_rng(1).integers(-(2**16), 2**16, 3000).astype(np.int32)
    got = np.asarray(requantize_codes(jnp.asarray(codes), frac_in, spec)).astype(np.int64)
    want = quantize_reference(codes.astype(np.float64) * 2.0**-frac_in, spec)  # values exact in float64
    np.testing.assert_array_equal(got, want)


def test_parse_and_errors():
    s = FixedSpec.parse("ap_ufixed<8,3,AP_RND,AP_SAT>")
    assert (s.width, s.integer, s.signed, s.rounding, s.overflow) == (8, 3, False, "RND", "SAT")
    assert FixedSpec.parse("fixed<16,6,RND,SAT,0>") == FixedSpec(16, 6, True, "RND", "SAT")
    assert FixedSpec.parse(s.hls_type()) == s
    with pytest.raises(ValueError, match="cannot parse"):
        FixedSpec.parse("float<16>")
    with pytest.raises(ValueError, match="rounding mode"):
        FixedSpec.parse("ap_fixed<8,3,AP_RND_CONV>")
    with pytest.raises(ValueError, match="exact only up to 24"):
        quantize(jnp.ones(3), "ap_fixed<28,6>")


class QuantizeVariants(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_straight_through_gradient(self):
        spec = FixedSpec.parse("ap_fixed<6,2,AP_RND,AP_SAT>")  # range [-2, 1.9375]
        f = self.variant(jax.grad(lambda x: jnp.sum(quantize(x, spec) * jnp.arange(4.0))))
        g = f(jnp.array([0.1, -1.0, 5.0, -3.0]))
        np.testing.assert_array_equal(np.asarray(g), [0.0, 1.0, 0.0, 0.0])  # saturated entries get 0
        wrap = FixedSpec.parse("ap_fixed<6,2>")
        g2 = self.variant(jax.grad(lambda x: jnp.sum(quantize(x, wrap))))(jnp.array([0.1, 5.0]))
        np.testing.assert_array_equal(np.asarray(g2), [1.0, 1.0])

    @chex.variants(with_jit=True, without_jit=True)
    def test_shapes_and_dtype(self):
        q = self.variant(lambda x: quantize(x, "ap_fixed<8,3>"))(jnp.ones((3, 5, 2)))
        chex.assert_shape(q, (3, 5, 2))
        chex.assert_type(q, jnp.float32)
