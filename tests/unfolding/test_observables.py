"""The six OmniFold-benchmark observables of the leading jet, on hand-made jets."""

import numpy as np
import pytest

from hepjax.data.jets import Jets
from hepjax.data.particles import pad_events
from hepjax.errors import DataError
from hepjax.kinematics import invariant_mass
from hepjax.unfolding.observables import BINS, OBSERVABLES, omnifold_observables


def _jets(constituent_lists):
    """One jet per event from lists of (pt, eta, phi) constituents (massless); an empty list: no jet."""
    n_max = max(len(c) for c in constituent_lists)
    events = []
    for c in constituent_lists:
        events.append(
            dict(
                pt=[x[0] for x in c],
                eta=[x[1] for x in c],
                phi=[x[2] for x in c],
                mass=[0.0] * len(c),
                pdg=[211] * len(c),
                charge=[1.0] * len(c),
                vx=[0.0] * len(c),
                vy=[0.0] * len(c),
                vz=[0.0] * len(c),
            )
        )
    p = pad_events(events, max_particles=n_max)
    m = np.asarray(invariant_mass(p.pt, p.eta, p.phi, p.mass, p.mask))
    px, py = (np.where(p.mask, p.pt * f(p.phi), 0).sum(1) for f in (np.cos, np.sin))
    has = p.mask.any(1)
    cons = type(p)(*(np.asarray(x)[:, None] for x in p))
    return Jets(
        pt=np.hypot(px, py)[:, None].astype(np.float32),
        eta=np.zeros((len(events), 1), np.float32),
        phi=np.arctan2(py, px)[:, None].astype(np.float32),
        mass=m[:, None].astype(np.float32),
        n_constituents=p.mask.sum(1)[:, None].astype(np.int32),
        mask=has[:, None],
        constituents=cons,
    )


def test_two_prong_jet_by_hand():
    jets = _jets([[(70.0, 0.0, 0.1), (30.0, 0.0, -0.2)], []])
    obs, has = omnifold_observables(jets)
    assert list(obs) == list(OBSERVABLES) and has.tolist() == [True, False]
    pt, m = float(jets.pt[0, 0]), float(jets.mass[0, 0])
    axis_phi = float(jets.phi[0, 0])
    width = (70.0 * abs(0.1 - axis_phi) + 30.0 * abs(-0.2 - axis_phi)) / pt
    assert obs["mass"][0] == pytest.approx(m, rel=1e-5)
    assert m == pytest.approx(np.sqrt(2 * 70 * 30 * (1 - np.cos(0.3))), rel=1e-4)
    assert obs["multiplicity"][0] == 2
    assert obs["width"][0] == pytest.approx(width, rel=1e-4)
    assert obs["log_rho"][0] == pytest.approx(np.log(m**2 / pt**2), rel=1e-5)
    assert obs["tau21"][0] == pytest.approx(0.0, abs=1e-6)  # two constituents, two axes: τ2 = 0
    assert obs["zg"][0] == pytest.approx(30.0 / 100.0, rel=1e-3)  # the one splitting passes z_cut = 0.1
    assert all(np.isnan(v[1]) for v in obs.values())


def test_bins_are_increasing_and_constituents_are_required():
    for name in OBSERVABLES:
        assert np.all(np.diff(BINS[name]) > 0), name
    jets = _jets([[(50.0, 0.0, 0.0)]])
    with pytest.raises(DataError, match="max_constituents"):
        omnifold_observables(jets._replace(constituents=None))
