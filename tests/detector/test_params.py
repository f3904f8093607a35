"""``cms_like()`` against the Delphes CMS card formulas, the pytree structure, parameter checks."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.detector import CaloGrid, DetectorParams, cms_like, validate_params
from hepjax.detector.response import (
    blend,
    calo_relative,
    edge_steps,
    efficiency,
    quadrature,
    region_weights,
    step,
)

P = cms_like()


def _w(eta, edges):
    return edge_steps(jnp.abs(jnp.asarray(eta)), edges, P.edge_width, hard=True, temperature=1.0)


def delphes_ecal_sigma_over_e(e, eta):
    """Delphes CMS card ECAL formula (barrel/endcap η shape × quadrature), |η| < 2.5."""
    a = abs(eta)
    f = 1 + 0.64 * eta**2 if a <= 1.5 else 2.16 + 5.6 * (a - 2) ** 2
    return f * np.sqrt(e**2 * 0.008**2 + e * 0.11**2 + 0.40**2) / e


@pytest.mark.parametrize("eta", [0.25, 0.75, 1.25, 1.75, 2.25])
@pytest.mark.parametrize("e", [1.0, 10.0, 100.0, 1000.0])
def test_ecal_equals_delphes_at_region_centres(eta, e):
    got = float(calo_relative(P.ecal.resolution, jnp.asarray(e), _w(eta, P.ecal.resolution.eta_edges)))
    assert got == pytest.approx(delphes_ecal_sigma_over_e(e, eta), rel=1e-5)


@pytest.mark.parametrize("eta,s,c", [(0.0, 1.5, 0.05), (2.9, 1.5, 0.05), (3.5, 2.7, 0.13)])
def test_hcal_equals_delphes(eta, s, c):
    for e in (2.0, 50.0, 800.0):
        got = float(calo_relative(P.hcal.resolution, jnp.asarray(e), _w(eta, P.hcal.resolution.eta_edges)))
        assert got == pytest.approx(np.sqrt(e**2 * c**2 + e * s**2) / e, rel=1e-5)


@pytest.mark.parametrize(
    "row,eta,a,b",
    [
        (0, 0.2, 0.010, 1.5e-4),
        (0, 1.0, 0.015, 2.5e-4),
        (0, 2.0, 0.025, 5.5e-4),
        (1, 0.2, 0.03, 1.3e-3),
        (1, 2.0, 0.15, 3.1e-3),
        (2, 1.0, 0.015, 1.5e-4),
        (2, 2.4, 0.025, 3.5e-4),
    ],
)
def test_tracker_pt_resolution_equals_delphes(row, eta, a, b):
    pt = jnp.array([1.0, 30.0, 700.0])
    got = quadrature(P.tracker.pt, pt, _w(jnp.full(3, eta), P.tracker.pt.eta_edges), jnp.full(3, row))
    np.testing.assert_allclose(np.asarray(got), np.sqrt(a**2 + (np.asarray(pt) * b) ** 2), rtol=1e-5)


def test_tracking_efficiency_hard_matches_delphes_plateaus():
    pt = jnp.array([0.05, 5.0, 5.0, 5.0, 50.0])
    eta = jnp.array([0.0, 0.5, 2.0, 0.5, 2.0])
    row = jnp.array([0, 0, 0, 2, 2])
    w = _w(eta, P.tracker.efficiency.eta_edges)
    eff = efficiency(P.tracker.efficiency, pt, w, row, hard=True, temperature=1.0)
    np.testing.assert_allclose(np.asarray(eff), [0.0, 0.95, 0.85, 0.99, 0.98], rtol=1e-6)


def test_region_weights_sum_to_one_and_soften():
    eta = jnp.linspace(0, 3, 301)
    for hard in (True, False):
        w = region_weights(eta, P.tracker.pt.eta_edges, 0.05, hard=hard, temperature=1.0)
        np.testing.assert_allclose(np.asarray(w.sum(-1)), 1.0, rtol=1e-6)
    # the telescoping blend equals the weighted sum over regions
    for hard in (True, False):
        w = region_weights(eta, P.ecal.resolution.eta_edges, 0.05, hard=hard, temperature=1.0)
        s = edge_steps(eta, P.ecal.resolution.eta_edges, 0.05, hard=hard, temperature=1.0)
        v = P.ecal.resolution.stochastic
        np.testing.assert_allclose(np.asarray(blend(v, s)), np.asarray((w * v).sum(-1)), rtol=1e-5)
    soft = region_weights(jnp.array([0.5]), P.tracker.pt.eta_edges, 0.05, hard=False, temperature=1.0)
    np.testing.assert_allclose(np.asarray(soft[0]), [0.5, 0.5, 0.0], atol=1e-6)
    assert float(step(jnp.array(0.01), 0.1, hard=False, temperature=1e-4)) == pytest.approx(1.0)


def test_pytree_leaves_are_floats_and_grid_is_static():
    leaves, treedef = jax.tree_util.tree_flatten(P)
    assert all(jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) for x in leaves)
    assert len(leaves) == 35  # every float field is a leaf
    other = cms_like(ecal_grid=CaloGrid(10, 10, 3.0))
    assert jax.tree_util.tree_structure(other) != treedef  # geometry lives in the treedef (static)
    traced = jax.jit(lambda d: d.ecal.grid.n_eta * d.edge_width)(P)  # grid usable as a Python int under jit
    assert float(traced) == pytest.approx(344 * 0.02)


def test_validate_params_names_the_field():
    validate_params(P)
    bad = dataclasses.replace(P, ecal=dataclasses.replace(P.ecal, e_min=jnp.asarray(np.nan)))
    with pytest.raises(ValueError, match=r"ecal.*e_min.*non-finite"):
        validate_params(bad)
    eff = dataclasses.replace(P.tracker.efficiency, plateau=P.tracker.efficiency.plateau.at[0, 0].set(1.2))
    with pytest.raises(ValueError, match=r"plateau.*<= 1"):
        validate_params(dataclasses.replace(P, tracker=dataclasses.replace(P.tracker, efficiency=eff)))
    edges = dataclasses.replace(P.tracker.pt, eta_edges=jnp.array([1.5, 0.5]))
    with pytest.raises(ValueError, match="strictly increasing"):
        validate_params(dataclasses.replace(P, tracker=dataclasses.replace(P.tracker, pt=edges)))
    assert isinstance(P, DetectorParams)
