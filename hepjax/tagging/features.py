"""Tagger inputs from detector-level jet constituents (differentiable in the detector parameters).

Example::

    reco = smear(key, constituents, cms_like(), with_cells=False)   # fields [B, M]
    feats, weights, jet = constituent_features(reco)              # [B, M, 6], [B, M], [B, 2]
    points = feats[..., ETA_PHI]                                  # [B, M, 2]: 5 Δη, 5 Δφ
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hepjax import kinematics as kin

#: Columns of :func:`constituent_features` holding (5 Δη, 5 Δφ) to the jet axis: kNN coordinates.
ETA_PHI = slice(1, 3)
#: Number of per-constituent features.
N_FEATURES = 6


def constituent_features(reco) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per-constituent features ``[..., M, 6]``, weights ``[..., M]`` and jet (pT, mass) ``[..., 2]``.

    Args:
      reco: a :class:`hepjax.detector.Reco` (or anything with ``pt`` GeV, ``eta``, ``phi`` rad,
        ``energy`` GeV, ``charge`` e and ``weight`` in [0, 1] fields ``[..., M]``; padding has weight 0).

    Returns:
      ``feats``: log(pT / pT_jet), 5 Δη, 5 Δφ, 5 ΔR (to the jet axis), charge, log(E / 100 GeV);
      ``weights``: the reconstruction weights (soft efficiencies, 0 for padding);
      ``jet``: the jet (pT, mass) in GeV. The jet four-momentum is the weight-weighted sum of the
      constituents, so all three are smooth in the detector parameters when ``weight`` is.
    """
    w = reco.weight
    px, py, pz, _ = kin.to_cartesian(reco.pt, reco.eta, reco.phi, 0.0)
    tot = kin.sum_cartesian(px, py, pz, reco.energy, w)
    # eps regularises pT and m so that gradients stay finite for (nearly) empty or massless jets
    jet_pt, jet_eta, jet_phi, jet_m = kin.to_cylindrical(*tot, eps=1e-6)
    deta = reco.eta - jet_eta[..., None]
    dphi = kin.delta_phi(reco.phi, jet_phi[..., None])
    frac = jnp.maximum(reco.pt, 1e-3) / jet_pt[..., None]
    feats = jnp.stack(
        [
            jnp.log(frac),
            deta * 5,
            dphi * 5,
            jnp.sqrt(deta**2 + dphi**2) * 5,
            reco.charge,
            jnp.log(jnp.maximum(reco.energy, 1e-3) / 100.0),
        ],
        -1,
    )
    return feats, w, jnp.stack([jet_pt, jet_m], -1)


def jet_inputs(jet: jax.Array, *, with_mass: bool = True) -> jax.Array:
    """Jet-level tagger inputs ``[..., 2]`` (mass / 100 GeV, log(pT / 400 GeV)) or ``[..., 1]`` without mass."""
    log_pt = jnp.log(jet[..., :1] / 400.0)
    return jnp.concatenate([jet[..., 1:2] / 100.0, log_pt], -1) if with_mass else log_pt
