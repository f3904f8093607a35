"""One fixed-size chunk of Pythia 8 events -> flat numpy arrays (runs in a worker process).

A chunk is the unit of reproducibility: it gets a fresh ``Pythia`` instance seeded from
``(seed, chunk_index)`` only, so a sample is the same whichever process generates which chunk.
This module imports only numpy, awkward and pythia8mc (no JAX) so spawned workers start fast.
"""

from __future__ import annotations

import time

import awkward as ak
import numpy as np

from hepjax.kinematics import to_cylindrical

from .processes import COMMON, process_settings
from .sample import COLLECTIONS, FLAT_FIELDS

#: Pythia's ``Random:seed`` must lie in [0, 900_000_000]; 0 means "from the clock", so avoid it.
PYTHIA_SEED_MAX = 900_000_000
_BATCH = 25  # events per nextBatch call (progress granularity)
_MAX_RECOIL_COPIES = 64


def chunk_seed(seed: int, chunk_index: int) -> int:
    """Pythia seed in [1, 900_000_000] derived from ``(seed, chunk_index)`` (NumPy SeedSequence)."""
    state = np.random.SeedSequence([int(seed), int(chunk_index)]).generate_state(2, np.uint64)
    return int(state[0] % np.uint64(PYTHIA_SEED_MAX)) + 1


def pythia_strings(process: str, settings: tuple[str, ...], sqrt_s: float, seed: int) -> tuple[str, ...]:
    """All settings strings given to Pythia, in order (later ones override earlier ones)."""
    return (
        (f"Beams:eCM = {float(sqrt_s)}",)
        + COMMON
        + process_settings(process)
        + tuple(settings)
        + ("Random:setSeed = on", f"Random:seed = {int(seed)}")
    )


def _charges(pythia, pdg: np.ndarray, cache: dict) -> np.ndarray:
    """Electric charge (e) of each PDG id, from Pythia's particle table."""
    uniq, inv = np.unique(pdg, return_inverse=True)
    vals = np.empty(len(uniq), np.float32)
    for i, pid in enumerate(uniq.tolist()):
        if pid not in cache:
            cache[pid] = float(pythia.particleData.charge(pid))
        vals[i] = cache[pid]
    return vals[inv]


def _kinematics(px, py, pz):
    pt, eta, phi, _ = to_cylindrical(px, py, pz, np.zeros_like(px))  # the mass slot is unused
    return pt, eta, phi


def _batch_to_flat(batch, pythia, charge_cache: dict) -> dict:
    """Flat particle/parton arrays of one ``nextBatch`` awkward result."""
    prt = batch.prt
    counts = ak.num(prt.id).to_numpy().astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = {
        "id": ak.flatten(prt.id).to_numpy().astype(np.int32),
        "status": ak.flatten(prt.status).to_numpy(),
        "d1": ak.flatten(prt.daughter1).to_numpy().astype(np.int64),
        "d2": ak.flatten(prt.daughter2).to_numpy().astype(np.int64),
        "px": ak.flatten(prt.p.px).to_numpy(),
        "py": ak.flatten(prt.p.py).to_numpy(),
        "pz": ak.flatten(prt.p.pz).to_numpy(),
        "m": ak.flatten(prt.m).to_numpy(),
    }
    for src, dst in (("px", "vx"), ("py", "vy"), ("pz", "vz")):
        flat[dst] = ak.fill_none(ak.flatten(getattr(prt.vProd, src)), 0.0).to_numpy()
    event = np.repeat(np.arange(len(counts)), counts)
    out: dict[str, np.ndarray] = {}

    def collect(name: str, sel: np.ndarray, kin_index: np.ndarray, order: np.ndarray | None):
        ev = event[sel]
        idx = np.flatnonzero(sel)
        kin = kin_index
        if order is not None:
            perm = np.lexsort((order, ev))  # by event, then by `order`
            ev, idx, kin = ev[perm], idx[perm], kin[perm]
        pt, eta, phi = _kinematics(flat["px"][kin], flat["py"][kin], flat["pz"][kin])
        pdg = flat["id"][idx]
        out[f"{name}/counts"] = np.bincount(ev, minlength=len(counts)).astype(np.int64)
        out[f"{name}/pt"] = pt.astype(np.float32)
        out[f"{name}/eta"] = eta.astype(np.float32)
        out[f"{name}/phi"] = phi.astype(np.float32)
        out[f"{name}/mass"] = flat["m"][kin].astype(np.float32)
        out[f"{name}/pdg"] = pdg
        out[f"{name}/charge"] = _charges(pythia, pdg, charge_cache)
        for v in ("vx", "vy", "vz"):
            out[f"{name}/{v}"] = flat[v][idx].astype(np.float32)

    final = flat["status"] > 0
    pt_all = np.hypot(flat["px"], flat["py"])
    collect("particles", final, np.flatnonzero(final), -pt_all[final])

    hard = np.isin(np.abs(flat["status"]), (22, 23))
    cur = np.flatnonzero(hard)
    # resonances (|status| 22): follow carbon copies (single daughter, same id) to the last one
    res = np.abs(flat["status"][cur]) == 22
    base = np.repeat(offsets, counts)[cur]
    for _ in range(_MAX_RECOIL_COPIES):
        d1, d2 = flat["d1"][cur], flat["d2"][cur]
        nxt = base + d1
        step = res & (d1 > 0) & (d1 == d2)
        step &= flat["id"][np.where(step, nxt, cur)] == flat["id"][cur]
        if not step.any():
            break
        cur = np.where(step, nxt, cur)
    collect("partons", hard, cur, None)
    return out


def generate_chunk(
    process: str,
    settings: tuple[str, ...],
    sqrt_s: float,
    seed: int,
    chunk_index: int,
    n_events: int,
    progress=None,
) -> tuple[dict, dict]:
    """Generate ``n_events`` events of one chunk; returns ``(flat_arrays, chunk_info)``.

    ``progress`` is an optional callable (or a queue with ``put``) told how many events were
    just generated. ``chunk_info`` holds the cross-section (mb) and its error, the number of
    accepted events and the wall time (s).
    """
    import pythia8mc

    t0 = time.perf_counter()
    pythia = pythia8mc.Pythia("", False)
    for s in pythia_strings(process, settings, sqrt_s, chunk_seed(seed, chunk_index)):
        if not pythia.readString(s, False):
            raise ValueError(f"Pythia rejected the setting {s!r} for process {process!r}")
    if not pythia.init():
        raise ValueError(f"Pythia failed to initialise process {process!r} with settings {settings!r}")
    report = getattr(progress, "put", progress)
    charge_cache: dict = {}
    parts, weights, done, empty_tries = [], [], 0, 0
    while done < n_events:
        batch = pythia.nextBatch(min(_BATCH, n_events - done), "skip")
        got = len(batch)
        if got == 0:
            empty_tries += 1
            if empty_tries > 100:
                raise RuntimeError(f"Pythia keeps failing to generate {process!r} events (chunk {chunk_index})")
            continue
        parts.append(_batch_to_flat(batch, pythia, charge_cache))
        w = batch.info.weights
        has = ak.num(w).to_numpy() > 0
        weights.append(np.where(has, ak.fill_none(ak.firsts(w), 1.0).to_numpy(), 1.0))
        done += got
        if report is not None:
            report(got)
    flat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    flat["weights"] = np.concatenate(weights).astype(np.float64)
    info = pythia.infoPython()
    chunk_info = {
        "cross_section_mb": float(info.sigmaGen()),
        "cross_section_err_mb": float(info.sigmaErr()),
        "n_accepted": int(info.nAccepted()),
        "time_s": time.perf_counter() - t0,
    }
    assert set(flat) == {f"{c}/{f}" for c in COLLECTIONS for f in ("counts",) + FLAT_FIELDS} | {"weights"}
    return flat, chunk_info
