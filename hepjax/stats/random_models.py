"""Seeded generator of random HistFactory specs with every supported modifier type (tests, benchmarks).

Each spec has 1-2 channels of 1-4 bins; a signal sample (normfactor ``mu`` and ``lumi``) and 1-2
backgrounds per channel carrying normsys, histosys and a per-channel staterror, with modifier names
shared across channels at random (correlated nuisances). The observed counts are Poisson draws around
the expectation at a random signal strength in [0, 2] (continuous values are not needed: pyhf's
Poisson is continuous, but integer counts are what an analysis sees). All randomness comes from the
explicit ``key``; the same key gives the same spec.
"""

from __future__ import annotations

import jax
import numpy as np

LUMI_SIGMA = 0.02


def _rng(key) -> np.random.Generator:
    # a host numpy generator seeded from the jax key's bits: the spec is host data (Python lists)
    return np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())


def random_spec(key, *, max_channels: int = 2, max_bins: int = 4) -> tuple[dict, list[float]]:
    """A random spec (pyhf-style dict with ``parameters`` for lumi) and observed main data.

    Args:
      key: a jax PRNG key.
      max_channels, max_bins: upper bounds of the channel count and the bins per channel.

    Returns:
      ``(spec, observed)``: ``observed`` is a list of n_main counts (all channels, spec order).
    """
    rng = _rng(key)
    mu_true = rng.uniform(0.0, 2.0)
    n_ch = int(rng.integers(1, max_channels + 1))
    channels, observed = [], []
    for c in range(n_ch):
        nb = int(rng.integers(1, max_bins + 1))
        sig = rng.uniform(1.0, 15.0, nb)
        samples = [
            {
                "name": "signal",
                "data": sig.tolist(),
                "modifiers": [
                    {"name": "mu", "type": "normfactor", "data": None},
                    {"name": "lumi", "type": "lumi", "data": None},
                ],
            }
        ]
        expected = mu_true * sig
        for j in range(int(rng.integers(1, 3))):
            bkg = rng.uniform(20.0, 200.0, nb)
            # histosys templates: a few-percent shape variation, asymmetric
            hi = bkg * (1.0 + rng.uniform(0.01, 0.08, nb))
            lo = bkg * (1.0 - rng.uniform(0.01, 0.08, nb))
            mods = [
                {
                    "name": f"norm_{rng.integers(0, 3)}",
                    "type": "normsys",
                    "data": {"hi": float(1.0 + rng.uniform(0.02, 0.2)), "lo": float(1.0 - rng.uniform(0.02, 0.2))},
                },
                {
                    "name": f"shape_{rng.integers(0, 3)}",
                    "type": "histosys",
                    "data": {"hi_data": hi.tolist(), "lo_data": lo.tolist()},
                },
                {"name": f"staterror_ch{c}", "type": "staterror", "data": (bkg * rng.uniform(0.01, 0.1, nb)).tolist()},
            ]
            if rng.uniform() < 0.5:
                mods.append({"name": "lumi", "type": "lumi", "data": None})
            samples.append({"name": f"bkg{j}", "data": bkg.tolist(), "modifiers": mods})
            expected = expected + bkg
        channels.append({"name": f"ch{c}", "samples": samples})
        observed.extend(rng.poisson(expected).astype(float).tolist())
    params = [{"name": "lumi", "auxdata": [1.0], "sigmas": [LUMI_SIGMA], "inits": [1.0], "bounds": [[0.5, 1.5]]}]
    return {"channels": channels, "parameters": params}, observed


def random_specs(key, n: int, **kwargs) -> list[tuple[dict, list[float]]]:
    """``n`` random ``(spec, observed)`` pairs from independent subkeys of ``key``."""
    return [random_spec(k, **kwargs) for k in jax.random.split(key, n)]


__all__ = ["LUMI_SIGMA", "random_spec", "random_specs"]
