"""Arbitrary-precision fixed point exactly as the HLS ``ap_fixed<W,I,Q,O>`` types behave.

A value of ``ap_fixed<W,I>`` is a W-bit two's-complement integer code ``k`` times ``2**-F`` with
``F = W - I`` fractional bits (``ap_ufixed``: an unsigned W-bit code). Converting a real number
``x`` first applies the quantization mode to ``x * 2**F``:

* ``AP_TRN``: floor (towards minus infinity, the HLS default);
* ``AP_RND``: round half up, ``floor(y + 1/2)``;

then the overflow mode to the integer code:

* ``AP_WRAP``: keep the low W bits (two's complement wrap, the HLS default);
* ``AP_SAT``: clip to ``[min_code, max_code]``.

:func:`quantize` does this on float32 arrays with a straight-through gradient (identity; for
``AP_SAT`` zero outside the representable range, the "clipped" straight-through estimator),
so it is the fake-quantization of quantization-aware training. Float32 holds every code of a
type with ``W <= 24`` exactly, so the fake-quantized values *are* the HLS values, not an
approximation of them. :func:`requantize_codes` does the same on integer codes (for exact
accumulators). :func:`quantize_reference` is the slow, obvious NumPy/Python-integer reference
the tests compare against.

Example::

    spec = FixedSpec.parse("ap_fixed<8,3,AP_RND,AP_SAT>")  # 5 fractional bits, range [-4, 4)
    quantize(jnp.array([0.015625, 5.0, -0.03]), spec)     # [0.03125, 3.96875, -0.03125]
"""

from __future__ import annotations

import math
import re
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.hls.optag import op_scope

ROUNDING = ("TRN", "RND")
OVERFLOW = ("WRAP", "SAT")
MAX_FLOAT_WIDTH = 24  # float32 mantissa: every code of a narrower type is exact

_PATTERN = re.compile(
    r"^\s*(?:ap_)?(u?)fixed\s*<\s*(\d+)\s*,\s*(-?\d+)\s*(?:,\s*(?:AP_)?([A-Z_]+)\s*)?(?:,\s*(?:AP_)?([A-Z_]+)\s*)?(?:,\s*0\s*)?>\s*$"
)


class FixedSpec(NamedTuple):
    """One ``ap_fixed<width, integer, AP_<rounding>, AP_<overflow>>`` type (hashable, static).

    Attributes:
      width: total bits W (1..24 for float32-exact fake quantization).
      integer: integer bits I, sign bit included for signed types; ``F = W - I >= 0``.
      signed: ``ap_fixed`` (True) or ``ap_ufixed`` (False).
      rounding: ``"TRN"`` (floor) or ``"RND"`` (round half up).
      overflow: ``"WRAP"`` or ``"SAT"``.
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    overflow: str = "WRAP"

    @classmethod
    def parse(cls, text: str | FixedSpec) -> FixedSpec:
        """Parse ``ap_fixed<W,I[,AP_RND][,AP_SAT]>`` / ``ap_ufixed<...>`` (also hls4ml's ``fixed<...>``)."""
        if isinstance(text, FixedSpec):
            return text
        m = _PATTERN.match(str(text))
        if not m:
            raise ValueError(f"cannot parse fixed-point type {text!r}; expected e.g. 'ap_fixed<16,6,AP_RND,AP_SAT>'")
        u, w, i, q, o = m.groups()
        return cls.make(int(w), int(i), signed=not u, rounding=q or "TRN", overflow=o or "WRAP")

    @classmethod
    def make(
        cls, width: int, integer: int, *, signed: bool = True, rounding: str = "TRN", overflow: str = "WRAP"
    ) -> FixedSpec:
        """Validated constructor: a clear error for unsupported widths or modes."""
        if rounding not in ROUNDING:
            raise ValueError(f"rounding mode {rounding!r} not supported; choose one of {ROUNDING}")
        if overflow not in OVERFLOW:
            raise ValueError(f"overflow mode {overflow!r} not supported; choose one of {OVERFLOW}")
        if not 1 <= width <= 32:
            raise ValueError(f"fixed-point width {width} must be in [1, 32]")
        if integer > width:
            raise ValueError(f"ap_fixed<{width},{integer}>: integer bits may not exceed the width here")
        if width - integer > 30:
            raise ValueError(f"ap_fixed<{width},{integer}>: more than 30 fractional bits are not supported")
        if signed and width < 2:
            raise ValueError("a signed fixed-point type needs at least 2 bits")
        return cls(int(width), int(integer), bool(signed), rounding, overflow)

    @property
    def frac(self) -> int:
        """Fractional bits F = W - I."""
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        return 2.0**-self.frac

    @property
    def min_code(self) -> int:
        return -(2 ** (self.width - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        return 2 ** (self.width - 1) - 1 if self.signed else 2**self.width - 1

    @property
    def min_value(self) -> float:
        return self.min_code * self.lsb

    @property
    def max_value(self) -> float:
        return self.max_code * self.lsb

    def hls_type(self) -> str:
        """The C++ type, e.g. ``ap_fixed<8,3,AP_RND,AP_SAT>`` (hls4ml parses this form)."""
        base = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{base}<{self.width},{self.integer},AP_{self.rounding},AP_{self.overflow}>"

    def __str__(self) -> str:
        return self.hls_type()


def as_spec(spec: str | FixedSpec | None) -> FixedSpec | None:
    """``None`` stays ``None`` (a float, unquantized tensor); strings are parsed."""
    return None if spec is None else FixedSpec.parse(spec)


def accumulator_spec(max_abs_code: int, frac: int) -> FixedSpec:
    """The narrowest signed ``ap_fixed`` with ``frac`` fractional bits holding codes up to ``max_abs_code``."""
    width = max(2, int(max_abs_code).bit_length() + 1)
    return FixedSpec(width, width - frac, True, "TRN", "WRAP")


# ----------------------------------------------------------------------------- float path


def _check_float_exact(spec: FixedSpec) -> None:
    if spec.width > MAX_FLOAT_WIDTH:
        raise ValueError(
            f"{spec.hls_type()} has {spec.width} bits; float32 fake quantization is exact only up to "
            f"{MAX_FLOAT_WIDTH} bits"
        )


def _round_codes(y: jax.Array, rounding: str) -> jax.Array:
    """Apply the quantization mode to ``y = x * 2**F`` (float32, exact: no ``y + 0.5`` rounding)."""
    r = jnp.floor(y)
    if rounding == "RND":
        r = r + (y - r >= 0.5).astype(y.dtype)  # y - floor(y) is exact in floating point
    return r


def _overflow_codes(r: jax.Array, spec: FixedSpec) -> jax.Array:
    lo, hi = float(spec.min_code), float(spec.max_code)
    if spec.overflow == "SAT":
        return jnp.clip(r, lo, hi)
    period = float(2**spec.width)
    m = jnp.mod(r, period)  # exact (fmod), in [0, 2**W): the low W bits
    return jnp.where(m > hi, m - period, m)  # two's complement reading of those bits


def quantize_codes(x: jax.typing.ArrayLike, spec: FixedSpec | str) -> jax.Array:
    """Integer codes (int32) of ``x`` converted to ``spec``: ``value = code * 2**-F``.

    NaN raises at the call site only if checked by the caller; infinities saturate or wrap like
    very large numbers.
    """
    spec = FixedSpec.parse(spec)
    _check_float_exact(spec)
    x = jnp.asarray(x, jnp.float32)
    y = x * jnp.float32(2.0**spec.frac)
    y = jnp.clip(y, -3.0e38, 3.0e38)  # keep infinities finite so WRAP/SAT stay defined
    return _overflow_codes(_round_codes(y, spec.rounding), spec).astype(jnp.int32)


def _quantize_value(x: jax.Array, spec: FixedSpec) -> jax.Array:
    y = jnp.clip(x * jnp.float32(2.0**spec.frac), -3.0e38, 3.0e38)
    return _overflow_codes(_round_codes(y, spec.rounding), spec) * jnp.float32(spec.lsb)


@jax.custom_jvp
def _ste(x, q, mask):
    return q


@_ste.defjvp
def _ste_jvp(primals, tangents):
    x, q, mask = primals
    dx, _, _ = tangents
    return q, dx * mask


def quantize(x: jax.typing.ArrayLike, spec: FixedSpec | str) -> jax.Array:
    """Fake-quantize float32 ``x`` (any shape) to ``spec``; values equal the HLS type's exactly.

    Gradient: straight-through (1); with ``AP_SAT`` it is 0 where ``x`` lies outside
    ``[min_value, max_value]`` (clipped straight-through estimator).
    """
    spec = FixedSpec.parse(spec)
    _check_float_exact(spec)
    x = jnp.asarray(x, jnp.float32)
    with op_scope("quantize", spec=str(spec)):  # one tagged call: the jaxpr converter reads it as a layer
        return _quantize_call(x, spec)


@partial(jax.jit, static_argnums=1)
def _quantize_call(x: jax.Array, spec: FixedSpec) -> jax.Array:
    q = _quantize_value(jax.lax.stop_gradient(x), spec)
    if spec.overflow == "SAT":
        mask = ((x >= spec.min_value) & (x <= spec.max_value)).astype(jnp.float32)
    else:
        mask = jnp.ones_like(x)
    return _ste(x, q, jax.lax.stop_gradient(mask))


# ----------------------------------------------------------------------------- integer path


def requantize_codes(codes: jax.Array, frac_in: int, spec: FixedSpec) -> jax.Array:
    """Convert exact integer codes with ``frac_in`` fractional bits to ``spec`` (int32 in, int32 out).

    This is the cast ``res_T(acc)`` of an HLS accumulator: shift by ``frac_in - F`` with the
    rounding mode, then wrap or saturate. ``codes`` must be int32 and leave head-room of one bit
    for the rounding offset (the caller checks its bounds).
    """
    shift = frac_in - spec.frac
    c = codes.astype(jnp.int32)
    if shift > 0:
        if spec.rounding == "RND":
            c = c + jnp.int32(1 << (shift - 1))
        c = jnp.right_shift(c, jnp.int32(shift))  # arithmetic shift = floor division by 2**shift
    elif shift < 0:
        c = jnp.left_shift(c, jnp.int32(-shift))
    if spec.overflow == "SAT":
        return jnp.clip(c, spec.min_code, spec.max_code)
    if spec.width >= 32:
        return c
    mask = jnp.int32((1 << spec.width) - 1)
    low = jnp.bitwise_and(c - jnp.int32(spec.min_code), mask)  # two's complement: low W bits
    return low + jnp.int32(spec.min_code)


def codes_to_float(codes: jax.Array, spec_or_frac: FixedSpec | int) -> jax.Array:
    frac = spec_or_frac.frac if isinstance(spec_or_frac, FixedSpec) else int(spec_or_frac)
    return codes.astype(jnp.float32) * jnp.float32(2.0**-frac)


# ----------------------------------------------------------------------------- reference


def quantize_reference(x: np.ndarray, spec: FixedSpec | str) -> np.ndarray:
    """Slow reference: each float converted with Python's exact rationals and integers.

    Returns the integer codes (int64). Written from the HLS type definition, independent of
    :func:`quantize_codes`.
    """
    from fractions import Fraction

    spec = FixedSpec.parse(spec)
    out = np.empty(np.shape(x), np.int64)
    for idx, v in np.ndenumerate(np.asarray(x, np.float64)):
        y = Fraction(float(v)) * Fraction(2) ** spec.frac
        k = math.floor(y) if spec.rounding == "TRN" else math.floor(y + Fraction(1, 2))
        if spec.overflow == "SAT":
            k = min(max(k, spec.min_code), spec.max_code)
        else:
            k = k % (2**spec.width)
            if spec.signed and k >= 2 ** (spec.width - 1):
                k -= 2**spec.width
        out[idx] = k
    return out


def codes_of(values: np.ndarray, spec: FixedSpec | int) -> np.ndarray:
    """Integer codes of values known to lie on the grid of ``spec`` (raises if any does not)."""
    frac = spec.frac if isinstance(spec, FixedSpec) else int(spec)
    y = np.asarray(values, np.float64) * 2.0**frac
    k = np.rint(y)
    if not np.array_equal(k, y):
        bad = np.flatnonzero((k != y).ravel())[:3]
        raise ValueError(f"values are not on the 2**-{frac} grid (e.g. flat indices {bad.tolist()})")
    return k.astype(np.int64)
