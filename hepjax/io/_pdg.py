"""Electric charge from a PDG id, through the ``particle`` package (the PDG's own tables)."""

from __future__ import annotations

import functools

import numpy as np

from hepjax.errors import DataError

from ._extra import require


@functools.lru_cache(maxsize=4096)
def _charge(pid: int) -> float | None:
    """Charge in units of e of one PDG id; None when it is neither in the PDG table nor a nucleus."""
    particle = require("particle", "charges from PDG ids")
    try:
        return float(particle.Particle.from_pdgid(pid).charge)
    except Exception:  # not in the table: only a nucleus (10LZZZAAAI) has a charge the numbering fixes
        pass
    if not particle.pdgid.is_nucleus(pid):
        return None
    q = particle.pdgid.charge(pid)
    return None if q is None else float(q)


def charges(pdg: np.ndarray, source: str) -> np.ndarray:
    """float32 charges (e) of an int array of PDG ids; an unknown id raises DataError naming ``source``."""
    pdg = np.asarray(pdg)
    uniq, inverse = np.unique(pdg, return_inverse=True)
    table = np.empty(len(uniq), np.float32)
    for i, pid in enumerate(uniq.tolist()):
        q = _charge(int(pid))
        if q is None:
            raise DataError(
                f"{source}: unknown PDG id {pid} (neither in the PDG tables of the 'particle' package nor a nucleus)"
            )
        table[i] = q
    return table[inverse].reshape(pdg.shape)
