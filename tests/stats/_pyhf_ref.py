"""Helpers mapping between hepjax.stats.histfactory layouts and pyhf's (parameters and aux data by name)."""

from __future__ import annotations

import contextlib

import numpy as np


def to_pyhf_pars(model, pyhf_model, pars):
    """hepjax parameter vector (P,) -> pyhf's ordering, matched by parameter-set name."""
    out = np.zeros(len(pyhf_model.config.suggested_init()))
    for name, _, a, b in model.info.paramsets:
        out[pyhf_model.config.par_slice(name)] = np.asarray(pars)[a:b]
    return out


def to_pyhf_data(model, pyhf_model, data):
    """hepjax data concat(main, aux) -> pyhf's concat(main, aux in auxdata_order)."""
    data = np.asarray(data)
    n_main = model.info.n_main
    aux = data[n_main : n_main + model.info.n_aux]
    aux_par = list(np.asarray(model.aux_par)[: model.info.n_aux])
    out = []
    for name in pyhf_model.config.auxdata_order:
        sl = model.info.par_slice(name)
        out.extend(aux[aux_par.index(j)] for j in range(sl.start, sl.stop))
    return np.concatenate([data[:n_main], out])


@contextlib.contextmanager
def pyhf_backend(name, **opt):
    """Temporarily switch pyhf's backend (global state) and restore numpy + default scipy afterwards."""
    import pyhf

    pyhf.set_backend(name, pyhf.optimize.scipy_optimizer(**opt))
    try:
        yield pyhf
    finally:
        pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())


# One padded shape for every model in the stats tests: the fit is compiled once per session.
PAD = dict(samples=8, bins=8, pars=20, normsys=8, histosys=8, aux=20)


def padded(spec, observed=None, **kwargs):
    """(model, padded model, padded data or None) for a spec and its observed main counts."""
    from hepjax.stats import build_model, pad_data, pad_model

    model = build_model(spec, **kwargs)
    pm = pad_model(model, **PAD)
    data = None if observed is None else pad_data(model, pm, np.asarray(observed, float))
    return model, pm, data


def rel_diff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
