"""from_awkward / to_awkward against pad_events (the Python-loop reference) and the vector package."""

import numpy as np
import pytest

from hepjax.data.particles import FIELDS, Particles, pad_events
from hepjax.errors import DataError

ak = pytest.importorskip("awkward")
pytest.importorskip("particle")
from hepjax.io import DELPHES, from_awkward, to_awkward  # noqa: E402

EVENTS = [
    dict(
        pt=[25.0, 3.5],
        eta=[0.5, -1.2],
        phi=[0.1, 3.0],
        mass=[0.1396, 0.0],
        pdg=[211, 22],
        charge=[1.0, 0.0],
        vx=[0.0, 0.01],
        vy=[0.0, -0.02],
        vz=[1.5, 1.5],
    ),
    {f: [] for f in FIELDS if f != "mask"},
    dict(pt=[7.25], eta=[2.0], phi=[-2.5], mass=[0.000511], pdg=[11], charge=[-1.0], vx=[0.0], vy=[0.0], vz=[-3.0]),
]


def _assert_same(a, b):
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape, f
        np.testing.assert_array_equal(x, y, err_msg=f)


def test_delphes_like_record_array_gives_the_pad_events_record():
    names = {v: EVENTS_key for EVENTS_key, v in DELPHES.items()}
    arr = ak.Array([[{n: e[names[n]][i] for n in names} for i in range(len(e["pt"]))] for e in EVENTS])
    _assert_same(from_awkward(arr, "delphes"), pad_events(EVENTS))
    _assert_same(from_awkward(arr, DELPHES, max_particles=4), pad_events(EVENTS, max_particles=4))


def test_nanoaod_like_defaults_charge_from_pdg_and_zero_vertex():
    arr = ak.zip(
        {
            "pt": ak.Array([[40.0, 12.0], [5.0]]),
            "eta": ak.Array([[0.0, 1.0], [-0.5]]),
            "phi": ak.Array([[1.0, -1.0], [2.0]]),
            "mass": ak.Array([[0.105658, 0.0], [0.938272]]),
            "pdgId": ak.Array([[-13, 22], [2212]]),
        }
    )
    p = from_awkward(arr, "nanoaod")
    np.testing.assert_array_equal(p.charge, np.array([[1.0, 0.0], [1.0, 0.0]], np.float32))  # mu+, photon, proton
    np.testing.assert_array_equal(p.pdg, np.array([[-13, 22], [2212, 0]], np.int32))
    assert not p.vx.any() and not p.vz.any() and p.mask.tolist() == [[True, True], [True, False]]
    # mass left out: 0 GeV
    assert not from_awkward(arr, {"pt": "pt", "eta": "eta", "phi": "phi"}).mass.any()


def test_cartesian_momenta_match_vector():
    vector = pytest.importorskip("vector")
    rng = np.random.default_rng(1)
    n = np.array([3, 0, 5])
    px, py, pz = (rng.normal(0, 10, n.sum()) for _ in range(3))
    arr = ak.zip(
        {
            "momentum": ak.zip({k: ak.unflatten(v, n) for k, v in zip("xyz", (px, py, pz))}),
            "PDG": ak.unflatten(np.full(n.sum(), 211), n),
        }
    )
    p = from_awkward(arr, {"px": "momentum.x", "py": "momentum.y", "pz": "momentum.z", "pdg": "PDG"})
    ref = vector.array({"px": px, "py": py, "pz": pz})
    m = p.mask
    np.testing.assert_array_equal(p.pt[m], ref.pt.astype(np.float32))
    np.testing.assert_allclose(p.eta[m], ref.eta, rtol=1e-6)
    np.testing.assert_allclose(p.phi[m], ref.phi, rtol=1e-6)
    assert (p.charge[m] == 1).all()


def test_to_awkward_round_trip_and_vector_names():
    vector = pytest.importorskip("vector")
    p = pad_events(EVENTS, max_particles=3)
    arr = to_awkward(p)
    assert ak.num(arr).tolist() == [2, 0, 1] and set(arr.fields) == {f for f in FIELDS if f != "mask"}
    _assert_same(from_awkward(arr, max_particles=3), p)
    vector.register_awkward()  # behaviours attach to arrays made after registering
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(to_awkward(p).px)),
        [25.0 * np.cos(0.1), 3.5 * np.cos(3.0), 7.25 * np.cos(-2.5)],
        rtol=1e-6,
    )
    hole = p._replace(mask=p.mask.copy())
    hole.mask[0, 0] = False
    assert ak.to_list(to_awkward(hole).pt) == [[3.5], [], [7.25]]


def test_truncation_warns_and_sort_keeps_the_hardest():
    arr = ak.Array({"pt": [[1.0, 9.0, 4.0], [2.0]]})
    with pytest.warns(RuntimeWarning, match="1 of 2 events"):
        p = from_awkward(arr, max_particles=2)
    assert p.pt.tolist() == [[1.0, 9.0], [2.0, 0.0]]
    with pytest.warns(RuntimeWarning):
        assert from_awkward(arr, max_particles=2, sort_by_pt=True).pt.tolist() == [[9.0, 4.0], [2.0, 0.0]]


def test_bad_arrays_are_one_line_data_errors():
    arr = ak.Array({"PT": [[1.0], [2.0, 3.0]], "Eta": [[0.0], [1.0]], "PID": [[211], [99999999, 211]]})
    with pytest.raises(DataError, match="'Eta' have different particle counts"):
        from_awkward(arr, {"pt": "PT", "eta": "Eta"}, source="x.root")
    with pytest.raises(DataError, match=r"x.root: no field 'Phi'.*'PT'"):
        from_awkward(arr, {"pt": "PT", "phi": "Phi"}, source="x.root")
    with pytest.raises(DataError, match="unknown PDG id 99999999"):
        from_awkward(arr, {"pt": "PT", "pdg": "PID"})
    with pytest.raises(DataError, match="NaN or infinite pt"):
        from_awkward(ak.Array({"pt": [[np.nan]]}))
    with pytest.raises(DataError, match="unknown field preset"):
        from_awkward(arr, "cms")


def test_particles_from_awkward_delegates():
    arr = ak.Array({"PT": [[2.0, 1.0], []], "PID": [[22, 211], []]})
    p = Particles.from_awkward(arr, {"pt": "PT", "pdg": "PID"}, max_particles=3)
    _assert_same(p, from_awkward(arr, {"pt": "PT", "pdg": "PID"}, 3))
    assert p.charge.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]


def test_a_missing_library_names_the_io_extra(monkeypatch, tmp_path):
    from hepjax.errors import MissingExtraError
    from hepjax.io import read_root

    monkeypatch.setitem(__import__("sys").modules, "uproot", None)  # what `import uproot` sees when absent
    with pytest.raises(
        MissingExtraError, match=r"uproot is not installed \(needed by hepjax.io.read_root\).*hepjax\[io\]"
    ):
        read_root(tmp_path / "any.root")


def test_to_awkward_of_jets_with_constituents_and_a_reco_like_record():
    from typing import NamedTuple

    from hepjax.data.jets import Jets

    cons = pad_events([EVENTS[0], EVENTS[2], EVENTS[1], EVENTS[0]], max_particles=2)
    cons = type(cons)(*(np.asarray(a).reshape(2, 2, 2) for a in cons))  # [events, jets, constituents]
    f32 = lambda x: np.array(x, np.float32)
    jets = Jets(
        f32([[30, 7], [0, 25]]),
        f32([[0.4, -2], [0, 0.5]]),
        f32([[1, -2.5], [0, 0.1]]),
        f32([[5, 0.5], [0, 4]]),
        np.array([[2, 1], [0, 2]], np.int32),
        np.array([[True, True], [False, True]]),
        cons,
    )
    arr = to_awkward(jets)
    assert ak.to_list(arr.pt) == [[30.0, 7.0], [25.0]] and ak.to_list(arr.n_constituents) == [[2, 1], [2]]
    assert ak.to_list(arr.constituents.pt) == [[[25.0, 3.5], [7.25]], [[25.0, 3.5]]]
    assert ak.to_list(arr.constituents.pdg) == [[[211, 22], [11]], [[211, 22]]]

    class RecoLike(NamedTuple):  # per-particle fields, an energy, and per-event cells
        pt: np.ndarray
        eta: np.ndarray
        phi: np.ndarray
        mass: np.ndarray
        energy: np.ndarray
        cells: np.ndarray
        mask: np.ndarray

    r = RecoLike(
        *(f32([[1, 2], [3, 4]]) for _ in range(5)), np.zeros((2, 3, 3)), np.array([[True, False], [True, True]])
    )
    out = to_awkward(r)
    assert set(out.fields) == {"pt", "eta", "phi", "mass", "energy"} and ak.to_list(out.energy) == [[1.0], [3.0, 4.0]]
    assert "Momentum4D" not in str(out.type) and "Momentum4D" in str(to_awkward(pad_events(EVENTS)).type)
