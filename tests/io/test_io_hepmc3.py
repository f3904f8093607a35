"""HepMC3 through pyhepmc: a hand-written file (MeV, cm), round trips, chunks, bad files."""

import numpy as np
import pytest

from hepjax.errors import DataError

pyhepmc = pytest.importorskip("pyhepmc")
pytest.importorskip("particle")
from hepjax.io import concat, iter_hepmc3, read_hepmc3, write_hepmc3  # noqa: E402
from tests.io.samples import random_events, same_bits  # noqa: E402


def _hand_written(path, pid_final=211):
    """Two events in MeV and cm: a pi0 (status 2) decaying at a displaced vertex, a final-state pion."""
    with pyhepmc.open(path, "w") as f:
        for i, w in enumerate((2.5, -1.0)):
            evt = pyhepmc.GenEvent(pyhepmc.Units.MEV, pyhepmc.Units.CM)
            evt.event_number = i
            evt.weights = [w, 7.0]
            pi0 = pyhepmc.GenParticle(pyhepmc.FourVector(1000.0, 0.0, 500.0, 1126.4), 111, 2)
            pi0.generated_mass = 134.977
            pion = pyhepmc.GenParticle(pyhepmc.FourVector(-300.0, 400.0, -1200.0, 1308.4), pid_final, 1)
            pion.generated_mass = 139.57
            evt.add_particle(pi0)
            evt.add_particle(pion)
            decay = pyhepmc.GenVertex(pyhepmc.FourVector(0.1, -0.2, 1.5, 0.0))  # cm
            decay.add_particle_in(pi0)
            for mom in ((600.0, 50.0, 300.0), (400.0, -50.0, 200.0)):
                g = pyhepmc.GenParticle(pyhepmc.FourVector(*mom, float(np.linalg.norm(mom))), 22, 1)
                decay.add_particle_out(g)  # no generated mass: sqrt(E^2 - p^2) = 0
            evt.add_vertex(decay)
            f.write(evt)
    return path


def test_hand_written_file_gives_status_one_particles_in_gev_and_mm(tmp_path):
    s = read_hepmc3(_hand_written(tmp_path / "h.hepmc3"))
    p = s.particles
    assert p.mask.tolist() == [[True] * 3] * 2 and p.pdg.tolist() == [[211, 22, 22]] * 2
    mom = np.array([[-300.0, 400.0, -1200.0], [600.0, 50.0, 300.0], [400.0, -50.0, 200.0]]) * 1e-3
    np.testing.assert_allclose(p.pt[0], np.hypot(mom[:, 0], mom[:, 1]), rtol=1e-6)
    np.testing.assert_allclose(p.eta[0], np.arcsinh(mom[:, 2] / np.hypot(mom[:, 0], mom[:, 1])), rtol=1e-6)
    np.testing.assert_allclose(p.phi[0], np.arctan2(mom[:, 1], mom[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(p.mass[0], [0.13957, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(p.vz[0], [0.0, 15.0, 15.0]) and np.testing.assert_allclose(p.vx[0], [0.0, 1.0, 1.0])
    assert p.charge.tolist() == [[1.0, 0.0, 0.0]] * 2 and s.weights.tolist() == [2.5, -1.0]
    ordered = read_hepmc3(tmp_path / "h.hepmc3", sort_by_pt=True).particles
    assert ordered.pdg[0].tolist() == [22, 211, 22] and (np.diff(ordered.pt, axis=1) <= 0).all()


def test_round_trip_to_stored_precision_and_chunks(tmp_path):
    p = random_events(23, seed=4)
    p.vx[:, :3] = 0.0  # some particles at the origin (root vertex), the rest displaced
    w = np.linspace(-1, 1, 23)
    path = write_hepmc3(tmp_path / "r.hepmc3", p, w)
    back = read_hepmc3(path, max_particles=p.mask.shape[1])
    for f in ("pt", "eta", "phi", "mass", "vx", "vy", "vz"):
        np.testing.assert_allclose(getattr(back.particles, f), getattr(p, f), rtol=1e-6, atol=1e-7, err_msg=f)
    for f in ("pdg", "charge", "mask"):
        np.testing.assert_array_equal(getattr(back.particles, f), getattr(p, f), err_msg=f)
    assert np.array_equal(back.weights, w)
    chunks = list(iter_hepmc3(path, chunk_size=5))
    assert [len(c.weights) for c in chunks] == [5, 5, 5, 5, 3]
    assert same_bits(concat(chunks).particles, read_hepmc3(path).particles)


def test_bad_files_are_one_line_data_errors(tmp_path):
    with pytest.raises(DataError, match="unknown PDG id 9999999.*") as err:
        read_hepmc3(_hand_written(tmp_path / "pid.hepmc3", pid_final=9999999))
    assert "pid.hepmc3 (event 0)" in str(err.value)
    with pytest.raises(DataError, match="nope.hepmc3: no such file"):
        read_hepmc3(tmp_path / "nope.hepmc3")
    (tmp_path / "text.hepmc3").write_text("hello\n")
    with pytest.raises(DataError, match="text.hepmc3: no HepMC events read"):
        read_hepmc3(tmp_path / "text.hepmc3")
    good = write_hepmc3(tmp_path / "good.hepmc3", random_events(10, seed=1))
    text = good.read_text()
    (tmp_path / "cut.hepmc3").write_text(text[: len(text) // 2])
    with pytest.raises(DataError, match="cut.hepmc3: truncated HepMC3 file"):
        read_hepmc3(tmp_path / "cut.hepmc3")
    lines = text.splitlines(keepends=True)
    third = [i for i, line in enumerate(lines) if line.startswith("E ")][3]
    lines[third + 3] = "P 1 0 garbage\n"  # the fourth event's first particle line
    (tmp_path / "bad.hepmc3").write_text("".join(lines))
    with pytest.raises(DataError, match="bad.hepmc3: read 3 of the 10 events") as err:
        read_hepmc3(tmp_path / "bad.hepmc3")
    assert "\n" not in str(err.value)
