"""Calorimeter cells: histogram and cloud-in-cell deposition, energy conservation, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.detector import CaloGrid, cell_centres, deposit, threshold_cells
from hepjax.detector.reference import deposit_numpy

GRID = CaloGrid(n_eta=30, n_phi=24, eta_max=3.0)


def _sample(n_ev=4, n=50, seed=0):
    rng = np.random.default_rng(seed)
    e = rng.exponential(5.0, (n_ev, n)).astype(np.float32)
    eta = rng.uniform(-3.3, 3.3, (n_ev, n)).astype(np.float32)  # some beyond the grid: edge cells
    phi = rng.uniform(-np.pi, np.pi, (n_ev, n)).astype(np.float32)
    return e, eta, phi


_deposit = jax.jit(deposit, static_argnames=("grid", "hard"))


@pytest.mark.parametrize("hard", [False, True])
def test_energy_conserved_and_matches_numpy(hard):
    e, eta, phi = _sample()
    cells = np.asarray(_deposit(e, eta, phi, GRID, hard=hard))
    assert cells.shape == (4, 30, 24)
    np.testing.assert_allclose(cells.sum((1, 2)), e.sum(1), rtol=1e-5)
    np.testing.assert_allclose(cells, deposit_numpy(e, eta, phi, GRID, hard), rtol=1e-4, atol=1e-4)


def test_hard_is_a_histogram():
    e, eta, phi = _sample(n_ev=1, n=400, seed=1)
    inside = np.abs(eta[0]) < 3.0
    h, _, _ = np.histogram2d(
        eta[0][inside], phi[0][inside], bins=(GRID.eta_edges(), GRID.phi_edges()), weights=e[0][inside]
    )
    cells = np.asarray(_deposit(np.where(np.abs(eta) < 3.0, e, 0), eta, phi, GRID, hard=True))[0]
    np.testing.assert_allclose(cells, h, rtol=1e-5, atol=1e-5)


def test_soft_at_cell_centre_is_one_cell_and_phi_wraps():
    ce, cp = cell_centres(GRID)
    cells = np.asarray(deposit(jnp.array([2.0]), ce[7:8], cp[3:4], GRID, hard=False))
    assert cells[7, 3] == pytest.approx(2.0, rel=1e-5) and cells.sum() == pytest.approx(2.0, rel=1e-5)
    # a particle on the phi = +-pi seam shares its energy between the first and last phi cells
    seam = np.asarray(deposit(jnp.array([1.0]), ce[7:8], jnp.array([np.pi - 1e-4]), GRID, hard=False))
    assert seam[7, 0] == pytest.approx(0.5, abs=1e-3) and seam[7, -1] == pytest.approx(0.5, abs=1e-3)


def test_soft_cells_differentiable_in_direction():
    """d(Σ_c w_c E_c)/dη of cloud-in-cell deposition vs central finite differences."""
    w = jnp.asarray(np.random.default_rng(2).normal(size=(GRID.n_eta, GRID.n_phi)), jnp.float32)
    e = jnp.array([3.0, 5.0])
    phi = jnp.array([0.31, -1.2])

    def f(eta):
        return jnp.sum(w * deposit(e, eta, phi, GRID, hard=False))

    eta0 = jnp.array([0.437, -1.71])
    g = np.asarray(jax.grad(f)(eta0))
    for j in range(2):
        d = np.zeros(2, np.float32)
        d[j] = 1e-2  # stays inside one cloud-in-cell linear piece (cell size 0.2)
        fd = (float(f(eta0 + d)) - float(f(eta0 - d))) / 2e-2
        assert g[j] == pytest.approx(fd, rel=1e-3, abs=1e-4)
    assert np.abs(g).min() > 0


def test_threshold_soft_and_hard():
    cells = jnp.array([0.1, 0.49, 0.51, 3.0])
    hard = np.asarray(threshold_cells(cells, 0.5, 0.1, hard=True, temperature=1.0))
    np.testing.assert_array_equal(hard, np.array([0, 0, 0.51, 3.0], np.float32))
    soft = np.asarray(threshold_cells(cells, 0.5, 0.1, hard=False, temperature=1e-3))
    np.testing.assert_allclose(soft, hard, atol=1e-6)
    warm = np.asarray(threshold_cells(cells, 0.5, 0.1, hard=False, temperature=1.0))
    assert 0 < warm[1] < 0.49 and 0.51 > warm[2] > 0.25
