"""ROOT trees through uproot: hand-made Delphes, NanoAOD and EDM4hep trees, round trips, bad files."""

import numpy as np
import pytest

from hepjax.data.particles import pad_events
from hepjax.errors import DataError

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")
pytest.importorskip("particle")
from hepjax.io import concat, detect_format, iter_root, read_root, write_root  # noqa: E402
from tests.io.samples import random_events, same_bits  # noqa: E402


def _jagged(rows, dtype):
    return ak.values_astype(ak.Array(rows), dtype)


def _write(path, tree, branches, **names):
    """One TTree (not RNTuple) with the given jagged/flat branches, named as the convention has them."""
    with uproot.recreate(path) as f:
        types = {k: (v.type.content if isinstance(v, ak.Array) else v.dtype) for k, v in branches.items()}
        f.mktree(tree, types, **names).extend(branches)
    return path


def _delphes(path):
    # event 0: a status-2 pi0 decays to two photons; event 1: nothing final; event 2: one electron
    part = ak.zip(
        {
            "PT": _jagged([[30.0, 14.0, 16.0], [5.0], [7.25]], np.float32),
            "Eta": _jagged([[0.2, 0.25, 0.15], [1.0], [-2.0]], np.float32),
            "Phi": _jagged([[1.0, 1.1, 0.9], [0.0], [3.0]], np.float32),
            "Mass": _jagged([[0.135, 0.0, 0.0], [0.9383], [0.000511]], np.float32),
            "PID": _jagged([[111, 22, 22], [2212], [11]], np.int32),
            "Charge": _jagged([[0, 0, 0], [1], [-1]], np.int32),
            "Status": _jagged([[2, 1, 1], [4], [1]], np.int32),
            "X": _jagged([[0.0, 0.0, 0.0], [0.0], [0.5]], np.float32),
            "Y": _jagged([[0.0, 0.0, 0.0], [0.0], [-0.5]], np.float32),
            "Z": _jagged([[12.0, 12.0, 12.0], [0.0], [-40.0]], np.float32),
        }
    )
    event = ak.zip({"Weight": _jagged([[1.5], [2.0], [-0.5]], np.float32)})
    return _write(
        path,
        "Delphes",
        {"Particle": part, "Event": event},
        field_name=lambda o, i: f"{o}.{i}",
        counter_name=lambda c: f"{c}_size",
    )


def test_delphes_like_tree_gives_the_expected_final_state(tmp_path):
    path = _delphes(tmp_path / "delphes.root")
    assert detect_format(path) == "delphes"
    s = read_root(path)
    ref = pad_events(
        [
            dict(
                pt=[14.0, 16.0],
                eta=[0.25, 0.15],
                phi=[1.1, 0.9],
                mass=[0.0, 0.0],
                pdg=[22, 22],
                charge=[0, 0],
                vx=[0, 0],
                vy=[0, 0],
                vz=[12.0, 12.0],
            ),
            dict(pt=[], eta=[], phi=[], mass=[], pdg=[], charge=[], vx=[], vy=[], vz=[]),
            dict(
                pt=[7.25],
                eta=[-2.0],
                phi=[3.0],
                mass=[0.000511],
                pdg=[11],
                charge=[-1],
                vx=[0.5],
                vy=[-0.5],
                vz=[-40.0],
            ),
        ]
    )
    assert same_bits(s.particles, ref)
    assert s.weights.dtype == np.float64 and s.weights.tolist() == [1.5, 2.0, -0.5]
    assert s.info["format"] == "delphes" and s.info["source"] == str(path)
    every = read_root(path, "delphes", status=None)
    assert every.particles.n.tolist() == [3, 1, 1]
    assert read_root(path, sort_by_pt=True).particles.pt[0].tolist() == [16.0, 14.0]


def test_nanoaod_like_tree_charges_from_pdg_and_gen_weight(tmp_path):
    gen = ak.zip(
        {
            "pt": _jagged([[45.0, 40.0, 3.0], [20.0, 10.0]], np.float32),
            "eta": _jagged([[0.5, -0.5, 2.0], [1.0, -1.0]], np.float32),
            "phi": _jagged([[0.0, 3.0, -1.0], [1.5, -1.5]], np.float32),
            "mass": _jagged([[0.105658, 0.105658, 0.0], [0.0, 0.13957]], np.float32),
            "pdgId": _jagged([[13, -13, 22], [23, -211]], np.int32),
            "status": _jagged([[1, 1, 1], [62, 1]], np.int32),
        }
    )
    path = _write(tmp_path / "nano.root", "Events", {"GenPart": gen, "genWeight": np.array([0.25, -1.0], np.float32)})
    assert detect_format(path) == "nanoaod"
    s = read_root(path)
    assert s.particles.pdg.tolist() == [[13, -13, 22], [-211, 0, 0]]
    assert s.particles.charge.tolist() == [[-1.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]  # mu- has charge -1
    np.testing.assert_array_equal(s.particles.pt, np.array([[45.0, 40.0, 3.0], [10.0, 0.0, 0.0]], np.float32))
    assert not s.particles.vz.any() and s.weights.tolist() == [0.25, -1.0]


def test_edm4hep_like_tree_from_cartesian_momenta(tmp_path):
    px, py, pz = [[3.0, 0.0]], [[4.0, -2.0]], [[0.0, 5.0]]
    mc = ak.zip(
        {
            "momentum.x": _jagged(px, np.float32),
            "momentum.y": _jagged(py, np.float32),
            "momentum.z": _jagged(pz, np.float32),
            "mass": _jagged([[0.13957, 0.0]], np.float64),
            "PDG": _jagged([[211, 22]], np.int32),
            "charge": _jagged([[1.0, 0.0]], np.float32),
            "generatorStatus": _jagged([[1, 1]], np.int32),
            "vertex.x": _jagged([[0.1, 0.0]], np.float64),
            "vertex.y": _jagged([[0.2, 0.0]], np.float64),
            "vertex.z": _jagged([[0.3, 0.0]], np.float64),
        }
    )
    header = ak.zip({"weight": _jagged([[3.0]], np.float32)})
    path = _write(
        tmp_path / "edm.root",
        "events",
        {"MCParticles": mc, "EventHeader": header},
        field_name=lambda o, i: f"{o}.{i}",
        counter_name=lambda c: f"{c}_size",
    )
    s = read_root(path, "auto")
    assert s.info["format"] == "edm4hep"
    np.testing.assert_allclose(s.particles.pt, [[5.0, 2.0]])
    np.testing.assert_allclose(s.particles.eta, [[0.0, np.arcsinh(2.5)]], rtol=1e-6)
    np.testing.assert_allclose(s.particles.phi, [[np.arctan2(4, 3), -np.pi / 2]], rtol=1e-6)
    np.testing.assert_allclose(s.particles.vz, [[0.3, 0.0]]) and s.weights.tolist() == [3.0]


def test_write_read_round_trip_and_chunked_equals_one_shot(tmp_path):
    p = random_events(40, seed=11)
    w = np.random.default_rng(0).normal(size=40)
    path = write_root(tmp_path / "h.root", p, w, step_size=9)
    whole = read_root(path)
    assert same_bits(whole.particles, p) and whole.weights.tobytes() == w.tobytes()
    chunks = list(iter_root(path, step_size=16))
    assert [len(c.weights) for c in chunks] == [16, 16, 8]
    assert same_bits(concat(chunks).particles, whole.particles)
    # a foreign format's chunks pad to their own widths; concat pads them back to the one-shot width
    d = _delphes(tmp_path / "d.root")
    assert same_bits(concat(iter_root(d, step_size=1)).particles, read_root(d).particles)
    assert read_root(write_root(tmp_path / "e.root", random_events(0))).particles.mask.shape == (0, 6)
    # a whole sample: partons and info come back too
    from hepjax.data.sample import EventSample

    full = EventSample(p, random_events(40, seed=12, max_n=3), w, {"process": "toy"})
    back = read_root(write_root(tmp_path / "full.root", full, step_size=13), step_size=7)
    assert same_bits(back.particles, p) and same_bits(back.partons, full.partons) and back.info["process"] == "toy"


def test_bad_files_are_one_line_data_errors(tmp_path):
    with pytest.raises(DataError, match="nope.root: no such file"):
        read_root(tmp_path / "nope.root")
    (tmp_path / "text.root").write_text("not root")
    with pytest.raises(DataError, match="text.root: not a readable ROOT file"):
        read_root(tmp_path / "text.root")
    good = write_root(tmp_path / "good.root", random_events(30, seed=2))
    data = good.read_bytes()
    (tmp_path / "cut.root").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut.root: truncated ROOT file \(\d+ of \d+ bytes\)") as err:
        read_root(tmp_path / "cut.root")
    assert "\n" not in str(err.value)
    part = ak.zip({"PT": _jagged([[1.0]], np.float32), "Eta": _jagged([[0.0]], np.float32)})
    wrong = _write(tmp_path / "wrong.root", "Delphes", {"Particle": part}, field_name=lambda o, i: f"{o}.{i}")
    with pytest.raises(DataError, match=r"wrong.root: no tree with the particle branches.*Particle.Eta") as err:
        read_root(wrong)
    with pytest.raises(DataError, match=r"wrong.root: tree 'Delphes' lacks the delphes branches \['Particle.Phi'"):
        read_root(wrong, "delphes")
    with pytest.raises(DataError, match="unknown ROOT format 'lhe'"):
        read_root(good, "lhe")
