"""Detector inputs: garbage in padding never leaks, empty events work, unphysical eta is refused."""

import jax
import numpy as np
import pytest

from hepjax.data.particles import Particles
from hepjax.detector import cms_like, smear, smear_checked
from tests.detector._samples import mixed


def _with_nan_padding(p: Particles) -> Particles:
    pad = ~p.mask
    assert pad.any()
    return p._replace(
        pt=np.where(pad, np.nan, p.pt).astype(np.float32),
        eta=np.where(pad, np.inf, p.eta).astype(np.float32),
        mass=np.where(pad, -5.0, p.mass).astype(np.float32),
    )


def test_checked_smearing_refuses_nan_in_padding_naming_the_slot():
    with pytest.raises(ValueError, match=r"Particles\.pt is not finite .* \(a padding slot, mask False\)"):
        smear_checked(jax.random.key(0), _with_nan_padding(mixed(2, 16)), cms_like())


def test_garbage_in_padding_changes_neither_outputs_nor_detector_gradients():
    clean = mixed(2, 16)
    dirty = _with_nan_padding(clean)
    det = cms_like()

    def loss(params, particles):
        reco = smear(jax.random.key(1), particles, params, with_cells=True)
        return (reco.weight * reco.pt).sum() + reco.ecal_cells.sum() + reco.hcal_cells.sum()

    g_clean = jax.grad(loss)(det, clean)
    g_dirty = jax.grad(loss)(det, dirty)
    leaves = jax.tree.leaves(g_dirty)
    assert len(leaves) >= 20 and all(np.all(np.isfinite(x)) for x in leaves)
    for a, b in zip(jax.tree.leaves(g_clean), leaves):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loss(det, clean), loss(det, dirty))


@pytest.mark.parametrize("shape", [(2, 0), (0,)])
def test_events_without_particles_give_an_empty_reco(shape):
    empty = Particles(*(np.zeros(shape, np.asarray(f).dtype) for f in mixed(1, 4)))
    reco = smear_checked(jax.random.key(0), empty, cms_like(), with_cells=True)
    assert reco.pt.shape == shape and not np.asarray(reco.mask).any()
    grid = cms_like().ecal.grid
    assert reco.ecal_cells.shape == shape[:-1] + (grid.n_eta, grid.n_phi)
    assert float(np.abs(reco.ecal_cells).sum()) == 0.0


def test_eta_beyond_the_detector_reach_is_refused():
    p = mixed(1, 4)
    eta = np.array(p.eta)
    eta[0, 0] = 95.0
    p = p._replace(eta=eta, mask=np.ones_like(p.mask))
    with pytest.raises(ValueError, match=r"Particles\.eta = 95\.0 at index \(0, 0\) is beyond \|eta\| <= 25\.0"):
        smear_checked(jax.random.key(0), p, cms_like())
