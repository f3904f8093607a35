"""cluster_jets against hand-made events and FastJet's classic per-event interface; parton matching."""

import numpy as np
import pytest

from hepjax.data import Jets, Particles, cluster_jets, match_jets_to_partons, pad_events


def event(rows):
    """Particles dict of one event from (pt, eta, phi, mass, pdg, charge) rows."""
    a = np.array(rows, np.float64).reshape(-1, 6)
    n = len(a)
    return {
        "pt": a[:, 0],
        "eta": a[:, 1],
        "phi": a[:, 2],
        "mass": a[:, 3],
        "pdg": a[:, 4].astype(int),
        "charge": a[:, 5],
        "vx": np.arange(n) * 0.1,
        "vy": np.zeros(n),
        "vz": np.arange(n) * -0.2,
    }


def p4(pt, eta, phi, m):
    pz = pt * np.sinh(eta)
    return np.array([np.sqrt(m**2 + pt**2 + pz**2), pt * np.cos(phi), pt * np.sin(phi), pz])


def kin(v):
    e, px, py, pz = v
    pt = np.hypot(px, py)
    return pt, np.arcsinh(pz / pt), np.arctan2(py, px), np.sqrt(max(e**2 - px**2 - py**2 - pz**2, 0))


def test_two_separated_particles_give_two_jets_with_their_momenta():
    ev = event([(50.0, -1.0, 2.5, 0.13957, 211, 1.0), (100.0, 0.5, 0.1, 0.0, 22, 0.0)])
    parts = pad_events([ev, event([])], max_particles=4)  # second event: empty
    jets = cluster_jets(parts, R=0.4, ptmin=20.0, max_jets=3, max_constituents=2)
    assert isinstance(jets, Jets)
    assert jets.pt.shape == (2, 3) and jets.mask.tolist() == [[True, True, False], [False] * 3]
    np.testing.assert_allclose(jets.pt[0, :2], [100.0, 50.0], rtol=1e-6)  # pT-ordered
    np.testing.assert_allclose(jets.eta[0, :2], [0.5, -1.0], rtol=1e-6)
    np.testing.assert_allclose(jets.phi[0, :2], [0.1, 2.5], rtol=1e-6)
    np.testing.assert_allclose(jets.mass[0, :2], [0.0, 0.13957], atol=2e-3)  # float32 E^2 - p^2
    assert jets.n_constituents[0].tolist() == [1, 1, 0]
    c = jets.constituents
    assert c.pt.shape == (2, 3, 2)
    assert c.pdg[0, :, 0].tolist() == [22, 211, 0] and c.charge[0, 1, 0] == 1.0
    np.testing.assert_allclose(c.vz[0, :2, 0], [-0.2, 0.0])  # vertices follow their particle
    assert not c.mask[0, :, 1].any() and not c.mask[1].any()


def test_close_particles_merge_into_one_massive_jet():
    rows = [(30.0, 0.0, 0.0, 0.0, 22, 0.0), (20.0, 0.1, 0.15, 0.0, 22, 0.0), (5.0, 3.0, -2.0, 0.0, 22, 0.0)]
    jets = cluster_jets(pad_events([event(rows)]), R=0.4, ptmin=10.0, max_constituents=3)
    assert jets.mask[0].sum() == 1  # the 5 GeV particle alone fails ptmin
    expected = kin(p4(*rows[0][:4]) + p4(*rows[1][:4]))  # E-scheme: four-vector sum
    np.testing.assert_allclose([jets.pt[0, 0], jets.eta[0, 0], jets.phi[0, 0], jets.mass[0, 0]], expected, rtol=1e-5)
    assert jets.n_constituents[0, 0] == 2
    np.testing.assert_allclose(jets.constituents.pt[0, 0], [30.0, 20.0, 0.0])


def test_masked_entries_anywhere_are_ignored():
    parts = pad_events(
        [event([(40.0, 0.0, 0.0, 0.0, 22, 0.0), (500.0, 1.0, 1.0, 0.0, 22, 0.0), (30.0, -2.0, 3.0, 0.0, 22, 0.0)])]
    )
    mask = parts.mask.copy()
    mask[0, 1] = False  # e.g. a particle lost to detector inefficiency
    jets = cluster_jets(parts._replace(mask=mask), ptmin=10.0, max_constituents=1)
    np.testing.assert_allclose(jets.pt[0, :2], [40.0, 30.0], rtol=1e-6)
    np.testing.assert_allclose(jets.constituents.eta[0, :2, 0], [0.0, -2.0])


def test_max_constituents_keeps_leading_but_counts_all():
    rows = [(10.0 + i, 0.01 * i, 0.0, 0.0, 22, 0.0) for i in range(6)]
    jets = cluster_jets(pad_events([event(rows)]), ptmin=1.0, max_constituents=3)
    assert jets.n_constituents[0, 0] == 6
    np.testing.assert_allclose(jets.constituents.pt[0, 0], [15.0, 14.0, 13.0])


def reference_jets(parts, i, R, ptmin, algorithm):
    """Slow, obvious reference: FastJet's classic PseudoJet interface, one event at a time."""
    import fastjet

    vecs = []
    for k in np.flatnonzero(parts.mask[i]):
        v = p4(*(float(getattr(parts, f)[i, k]) for f in ("pt", "eta", "phi", "mass")))
        vecs.append(fastjet.PseudoJet(v[1], v[2], v[3], v[0]))
    jd = fastjet.JetDefinition(getattr(fastjet, f"{algorithm}_algorithm"), R)
    cs = fastjet.ClusterSequence(vecs, jd)
    return [
        (j.pt(), j.eta(), j.phi_std(), j.m(), len(j.constituents()))
        for j in fastjet.sorted_by_pt(cs.inclusive_jets(ptmin))
    ]


@pytest.mark.parametrize("algorithm, R", [("antikt", 0.4), ("kt", 0.6), ("cambridge", 1.0)])
def test_matches_classic_fastjet_on_pythia_events(z_sample, algorithm, R):
    parts = Particles(*(np.asarray(a)[:8] for a in z_sample.particles))
    jets = cluster_jets(parts, R=R, ptmin=5.0, algorithm=algorithm, max_jets=30)
    n_jets = 0
    for i in range(8):
        ref = reference_jets(parts, i, R, 5.0, algorithm)
        k = len(ref)
        n_jets += k
        assert jets.mask[i].sum() == k
        ref = np.array(ref).reshape(k, 5)
        np.testing.assert_allclose(jets.pt[i, :k], ref[:, 0], rtol=1e-5)
        np.testing.assert_allclose(jets.eta[i, :k], ref[:, 1], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(jets.phi[i, :k], ref[:, 2], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(jets.mass[i, :k], ref[:, 3], rtol=1e-3, atol=1e-3)
        np.testing.assert_array_equal(jets.n_constituents[i, :k], ref[:, 4])
    assert n_jets > 10


def test_accepts_jax_arrays(z_sample):
    jnp = pytest.importorskip("jax.numpy")
    parts = Particles(*(np.asarray(a)[:3] for a in z_sample.particles))
    a = cluster_jets(parts)
    b = cluster_jets(Particles(*(jnp.asarray(x) for x in parts)))
    for f in ("pt", "eta", "phi", "mass", "n_constituents", "mask"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("pt", np.nan, "pt has 1 NaN"),
        ("eta", np.inf, "eta has 1 NaN or infinite"),
        ("pt", -1.0, "pt has negative"),
        ("mass", -0.5, "mass has negative"),
    ],
)
def test_bad_particles_raise(field, value, match):
    parts = pad_events([event([(40.0, 0.0, 0.0, 0.0, 22, 0.0), (30.0, 1.0, 1.0, 0.0, 22, 0.0)])])
    getattr(parts, field)[0, 1] = value
    with pytest.raises(ValueError, match=match):
        cluster_jets(parts)
    parts.mask[0, 1] = False  # the same value in a padding slot is ignored
    assert cluster_jets(parts).mask[0].sum() == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"algorithm": "siscone"}, "siscone"),
        ({"R": 0.0}, "R"),
        ({"max_jets": 0}, "max_jets"),
        ({"ptmin": -1.0}, "ptmin"),
        ({"max_constituents": -1}, "max_constituents"),
    ],
)
def test_bad_options_raise(kwargs, match):
    parts = pad_events([event([(40.0, 0.0, 0.0, 0.0, 22, 0.0)])])
    with pytest.raises(ValueError, match=match):
        cluster_jets(parts, **kwargs)


def test_match_jets_to_partons():
    # event 0: a W at phi=0 with its quarks at dR 0.3 and 0.35; a gluon at phi=2. Event 1: nothing near.
    partons = pad_events(
        [
            event(
                [
                    (400.0, 0.0, 0.0, 80.4, 24, 1.0),
                    (200.0, 0.3, 0.0, 0.0, 2, 2 / 3),
                    (200.0, 0.0, -0.35, 0.0, -1, 1 / 3),
                    (300.0, 0.0, 2.0, 0.0, 21, 0.0),
                ]
            ),
            event([(300.0, 2.0, 1.0, 0.0, 21, 0.0)]),
        ]
    )
    z = np.zeros((2, 3), np.float32)
    jets = Jets(
        pt=z + 100,
        eta=np.array([[0.28, 0.1, 0.0], [-1.0, 0, 0]], np.float32),
        phi=np.array([[0.0, 2.1 - 2 * np.pi, -3.0], [1.0, 0, 0]], np.float32),
        mass=z,
        n_constituents=z,
        mask=np.array([[True, True, True], [True, False, False]]),
    )
    lab = match_jets_to_partons(jets, partons, dr=0.8)
    assert lab.dtype == np.int32
    assert lab.tolist() == [[24, 21, 0], [0, 0, 0]]  # the W wins over the nearer u quark; phi wraps
    lab = match_jets_to_partons(jets, partons, dr=0.8, prefer_resonances=False)
    assert lab[0].tolist() == [2, 21, 0]  # nearest parton
    assert match_jets_to_partons(jets, partons, dr=0.05)[0].tolist() == [2, 0, 0]
    with pytest.raises(ValueError, match="dr"):
        match_jets_to_partons(jets, partons, dr=-1.0)


@pytest.mark.parametrize("shape", [(3, 5), (0, 5)])
def test_empty_inputs_give_no_jets(shape):
    from hepjax.data import empty

    jets = cluster_jets(empty(shape), max_jets=4, max_constituents=2)
    assert jets.pt.shape == (shape[0], 4) and jets.constituents.pt.shape == (shape[0], 4, 2)
    assert not jets.mask.any() and not jets.constituents.mask.any()
