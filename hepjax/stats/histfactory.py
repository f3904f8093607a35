"""A binned HistFactory likelihood built from a pyhf-style JSON spec, as pure JAX functions.

The spec is the ``model`` part of a pyhf workspace::

    {"channels": [{"name": "SR", "samples": [
        {"name": "signal", "data": [5.0, 3.0], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
        {"name": "bkg", "data": [50.0, 30.0], "modifiers": [
            {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
            {"name": "shape", "type": "histosys", "data": {"hi_data": [52.0, 31.0], "lo_data": [47.0, 29.0]}},
            {"name": "staterror_SR", "type": "staterror", "data": [3.0, 2.0]},
            {"name": "lumi", "type": "lumi", "data": None}]}]}],
     "parameters": [{"name": "lumi", "auxdata": [1.0], "sigmas": [0.02], "bounds": [[0.5, 1.5]], "inits": [1.0]}]}

Supported modifier types and their parameters (as in pyhf 0.7.6):

===========  =====================================  ==========  ===========  ==========================
type         effect on the sample's yields          init        bounds       constraint (aux datum)
===========  =====================================  ==========  ===========  ==========================
normfactor   multiply by the parameter              1           [0, 10]      none
lumi         multiply by the parameter              auxdatum    [0, 10 aux]  Normal(aux | lumi, sigma)
normsys      multiply by code-4 interpolation       0           [-5, 5]      Normal(0 | alpha, 1)
histosys     add code-4p interpolated delta         0           [-5, 5]      Normal(0 | alpha, 1)
staterror    multiply bin i by gamma_i              1           [1e-10, 10]  Normal(1 | gamma_i, rel_i)
===========  =====================================  ==========  ===========  ==========================

with ``rel_i = sqrt(sum_s sigma_si^2) / sum_s nominal_si`` over the samples that carry that staterror in
the channel (a bin with ``rel_i = 0`` has its gamma fixed at 1, as pyhf does). Yields are
``(nominal + sum histosys deltas) * prod(multiplicative factors)`` per sample, summed over samples.

**Parameter order**: parameter sets sorted by name; a staterror set holds one gamma per bin of its
channel, in bin order. (pyhf orders them differently; compare by name with :attr:`ModelInfo.par_names`.)
**Data**: ``data = concat(main, aux)``: ``main`` the observed counts of all channels in channel-name order (pyhf's layout)
(shape ``(n_main,)``), ``aux`` one auxiliary datum per constrained parameter in parameter order
(``(n_aux,)``, nominal values in ``model.aux_nominal``). Functions that take data also accept the
main part alone and append the nominal aux data.

The model is a NamedTuple of arrays (a pytree, so it passes through ``jit``/``grad``/``vmap``) plus a
hashable static :class:`ModelInfo` with the names. :func:`pad_model` pads a model to fixed sizes so
that many models share one compiled function.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln

from hepjax.errors import ConfigError, DataError, is_concrete

KNOWN_MODIFIERS = ("normfactor", "lumi", "normsys", "histosys", "staterror")
_CONSTRAINED = ("lumi", "normsys", "histosys", "staterror")


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Static (hashable) description of a model: names and layout. Not traced.

    Attributes:
      par_names: one name per parameter, ``"name"`` or ``"name[i]"`` for the i-th bin of a staterror set.
      paramsets: ``(name, type, start, stop)`` per parameter set, in parameter order.
      poi_index: index of the parameter of interest in the parameter vector.
      channels: ``(name, first_bin, n_bins)`` per channel, sorted by name as pyhf (bins of the main data).
      samples: ``"channel/sample"`` per sample row of ``nominal``.
      n_main, n_aux: lengths of the main and auxiliary data (without padding).
    """

    par_names: tuple
    paramsets: tuple
    poi_index: int
    channels: tuple
    samples: tuple
    n_main: int
    n_aux: int

    def par_slice(self, name: str) -> slice:
        """Slice of parameter set ``name`` in the parameter vector (ConfigError if unknown)."""
        for pname, _, start, stop in self.paramsets:
            if pname == name:
                return slice(start, stop)
        raise ConfigError(f"unknown parameter set {name!r}; known: {[p[0] for p in self.paramsets]}")


# Static pytree node without leaves: the info rides in the treedef, so it never becomes a tracer.
jax.tree_util.register_pytree_node(ModelInfo, lambda info: ((), info), lambda info, _: info)


class HistFactoryModel(NamedTuple):
    """Arrays of a HistFactory model (S samples, B bins, P parameters, K normsys, H histosys, C aux data).

    nominal: (S, B) nominal yields of each sample in the global bin axis (0 outside its channel).
    scale_mask: (S, P) bool, True where parameter p (normfactor or lumi) multiplies sample s.
    ns_onehot: (K, S) bool, sample of each normsys instance; ns_par: (K,) int its parameter;
    ns_hi, ns_lo: (K,) up/down factors; ns_coef: (K, 6) code-4 polynomial coefficients a_1..a_6.
    hs_onehot: (H, S) bool; hs_par: (H,) int; hs_up, hs_dn: (H, B) ``hi - nom`` and ``nom - lo``.
    stat_index: (S, B) int, gamma parameter multiplying that sample's bin, or P (reads a constant 1).
    aux_par: (C,) int constrained parameter per aux datum; aux_sigma: (C,) Gaussian widths;
    aux_nominal: (C,) nominal aux data; aux_mask: (C,) float, 0 for padding.
    main_mask: (B,) float, 0 for padding bins.
    init: (P,) initial values; bounds: (P, 2) [low, high]; fixed: (P,) bool fixed in fits.
    positive: (P,) bool, parameters fitted in log space (normfactors other than the POI, lumi, gammas).
    info: the static :class:`ModelInfo`.
    """

    nominal: jax.Array
    scale_mask: jax.Array
    ns_onehot: jax.Array
    ns_par: jax.Array
    ns_hi: jax.Array
    ns_lo: jax.Array
    ns_coef: jax.Array
    hs_onehot: jax.Array
    hs_par: jax.Array
    hs_up: jax.Array
    hs_dn: jax.Array
    stat_index: jax.Array
    aux_par: jax.Array
    aux_sigma: jax.Array
    aux_nominal: jax.Array
    aux_mask: jax.Array
    main_mask: jax.Array
    init: jax.Array
    bounds: jax.Array
    fixed: jax.Array
    positive: jax.Array
    info: ModelInfo


# --------------------------------------------------------------------------- interpolation


def code4_coefficients(hi, lo, alpha0: float = 1.0) -> np.ndarray:
    """Coefficients a_1..a_6 of ``1 + sum_i a_i alpha^i`` matching ``hi^alpha`` at ``alpha0`` and ``lo^-alpha``
    at ``-alpha0`` in value, first and second derivative (host numpy; shapes ``(K,)`` -> ``(K, 6)``)."""
    hi = np.atleast_1d(np.asarray(hi, dtype=np.float64))
    lo = np.atleast_1d(np.asarray(lo, dtype=np.float64))
    powers = np.arange(1, 7)

    def rows(x):
        # value, first and second derivative of the monomials alpha^1..alpha^6 at x
        return np.stack(
            [x**powers, powers * x ** (powers - 1.0), powers * (powers - 1.0) * x ** np.maximum(powers - 2.0, 0.0)]
        )

    up, dn = rows(alpha0), rows(-alpha0)
    matrix = np.stack([up[0], dn[0], up[1], dn[1], up[2], dn[2]])  # (6, 6)
    lhi, llo = np.log(hi), np.log(lo)
    fhi, flo = hi**alpha0, lo**alpha0  # hi^alpha at alpha0; lo^(-alpha) at -alpha0
    rhs = np.stack([fhi - 1.0, flo - 1.0, lhi * fhi, -llo * flo, lhi**2 * fhi, llo**2 * flo], axis=-1)  # (K, 6)
    return np.linalg.solve(matrix[None], rhs[..., None])[..., 0]


def code4(alpha, hi, lo, coef):
    """Normsys factor (pyhf interpolation code 4, alpha0 = 1), elementwise over shape (K,)."""
    poly = jnp.zeros_like(alpha)
    for i in range(5, -1, -1):  # Horner: 1 + a (c1 + a (c2 + ... a c6))
        poly = (poly + coef[..., i]) * alpha
    poly = 1.0 + poly
    # hi, lo > 0 (checked at build), so the exponentials are finite with finite gradients
    up = jnp.exp(alpha * jnp.log(hi))
    down = jnp.exp(-alpha * jnp.log(lo))
    return jnp.where(alpha >= 1.0, up, jnp.where(alpha <= -1.0, down, poly))


def code4p(alpha, up, dn):
    """Histosys delta (pyhf code 4p): linear outside |alpha| <= 1, a 6th-order polynomial inside.

    alpha: (H,); up = hi - nom, dn = nom - lo: (H, B). Returns (H, B).
    """
    a = alpha[:, None]
    s = 0.5 * (up + dn)
    asym = (up - dn) / 16.0
    inside = a * s + asym * a**2 * (15.0 - 10.0 * a**2 + 3.0 * a**4)
    return jnp.where(a > 1.0, a * up, jnp.where(a < -1.0, a * dn, inside))


# --------------------------------------------------------------------------- likelihood


def expected_per_sample(model: HistFactoryModel, pars):
    """Expected yields per sample, shape (S, B), for parameters ``pars`` (P,)."""
    nominal = model.nominal + jnp.einsum(
        "hs,hb->sb", model.hs_onehot.astype(pars.dtype), code4p(pars[model.hs_par], model.hs_up, model.hs_dn)
    )
    scale = jnp.prod(jnp.where(model.scale_mask, pars[None, :], 1.0), axis=1)  # (S,)
    ns = code4(pars[model.ns_par], model.ns_hi, model.ns_lo, model.ns_coef)  # (K,)
    ns_factor = jnp.prod(jnp.where(model.ns_onehot, ns[:, None], 1.0), axis=0)  # (S,)
    gamma = jnp.concatenate([pars, jnp.ones((1,), pars.dtype)])[model.stat_index]  # (S, B)
    return nominal * (scale * ns_factor)[:, None] * gamma


def expected_actualdata(model: HistFactoryModel, pars):
    """Expected main-data counts, shape (B,) (summed over samples; padding bins included)."""
    return jnp.sum(expected_per_sample(model, jnp.asarray(pars)), axis=0)


def expected_auxdata(model: HistFactoryModel, pars):
    """Asimov auxiliary data (the constrained parameters' values), shape (C,)."""
    return jnp.asarray(pars)[model.aux_par]


def asimov_data(model: HistFactoryModel, pars):
    """Full Asimov data set ``concat(expected main, expected aux)``, shape (B + C,), as pyhf's expected_data."""
    return jnp.concatenate([expected_actualdata(model, pars), expected_auxdata(model, pars)])


def full_data(model: HistFactoryModel, data):
    """``data`` as ``concat(main, aux)``: main-only data (B,) get the nominal aux data appended.

    Raises DataError when the length is neither B nor B + C (a static check, valid under jit).
    """
    data = jnp.asarray(data)
    n_main, n_aux = model.nominal.shape[1], model.aux_par.shape[0]
    if data.ndim != 1 or data.shape[0] not in (n_main, n_main + n_aux):
        raise DataError(
            f"data has shape {data.shape}; the model needs {n_main} main counts "
            f"(channels {[c[0] for c in model.info.channels]}) optionally followed by {n_aux} aux data"
        )
    if is_concrete(data) and np.any(np.asarray(data[:n_main]) < 0):
        b = int(np.flatnonzero(np.asarray(data[:n_main]) < 0)[0])
        chans = [c for c in model.info.channels if c[1] <= b < c[1] + c[2]]
        where = f"channel {chans[0][0]!r} bin {b - chans[0][1]}" if chans else f"bin {b}"
        raise DataError(f"negative observed count {float(data[b])!r} in {where}")
    if data.shape[0] == n_main:
        data = jnp.concatenate([data, model.aux_nominal.astype(data.dtype)])
    return data


def _check_expected(model: HistFactoryModel, lam) -> None:
    if not is_concrete(lam):
        return
    bad = np.flatnonzero(np.asarray(lam)[: model.info.n_main] < 0)
    if bad.size:
        b = int(bad[0])
        ch = next(c for c in model.info.channels if c[1] <= b < c[1] + c[2])
        raise DataError(f"negative expected count {float(lam[b])!r} in channel {ch[0]!r} bin {b - ch[1]}")


def logpdf(model: HistFactoryModel, pars, data):
    """Log-likelihood ``sum_bins log Pois(n | lam) + sum_aux log Normal(aux | par, sigma)`` (a scalar).

    Args:
      model: a :class:`HistFactoryModel`.
      pars: (P,) parameter values.
      data: (B + C,) ``concat(main, aux)`` or (B,) main counts (nominal aux appended).

    Poisson terms are continuous in n (``n log lam - lam - lgamma(n + 1)``), as pyhf's.
    """
    pars = jnp.asarray(pars)
    data = full_data(model, data)
    n_main = model.nominal.shape[0 + 1]
    main, aux = data[:n_main], data[n_main:]
    lam = expected_actualdata(model, pars)
    _check_expected(model, lam)
    # padding bins: lam -> 1 and weight 0, so neither the value nor the gradient sees log(0)
    lam_safe = jnp.where(model.main_mask > 0, lam, 1.0)
    # n log(lam) with 0 log 0 = 0 (as xlogy), written out: cheaper to compile in second derivatives
    log_lam = jnp.log(jnp.where(main > 0, lam_safe, 1.0))
    pois = jnp.where(main > 0, main * log_lam, 0.0) - lam_safe - gammaln(main + 1.0)
    mean = pars[model.aux_par]
    z = (aux - mean) / model.aux_sigma
    gauss = -0.5 * z**2 - jnp.log(model.aux_sigma) - 0.5 * math.log(2.0 * math.pi)
    return jnp.sum(model.main_mask * pois) + jnp.sum(model.aux_mask * gauss)


def twice_nll(model: HistFactoryModel, pars, data):
    """``-2 logpdf``, the fit objective (scalar), as pyhf.infer.mle.twice_nll."""
    return -2.0 * logpdf(model, pars, data)


# --------------------------------------------------------------------------- building from a spec


def _floats(values, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: expected a list of numbers, got {values!r}") from exc
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise DataError(f"{what}: expected a flat list of finite numbers, got {values!r}")
    return arr


def build_model(spec: dict, *, poi_name: str | None = None, lumi_sigma: float | None = None) -> HistFactoryModel:
    """Build a :class:`HistFactoryModel` from a pyhf-style spec (host code, run once).

    Args:
      spec: ``{"channels": [...], "parameters": [...]?}`` (see the module docstring). ``parameters`` are
        measurement-config overrides per parameter set: ``inits``, ``bounds``, ``fixed`` and, for lumi,
        ``auxdata`` and ``sigmas``.
      poi_name: the parameter of interest; default: the normfactor ``mu``, else the only normfactor.
      lumi_sigma: relative lumi uncertainty when the spec's parameters do not give ``sigmas`` for lumi.

    Raises:
      ConfigError: unknown modifier type, unknown/ambiguous POI, lumi without a sigma, a parameter override
        naming no parameter set, a modifier with malformed data.
      DataError: negative yields, bin counts that differ between samples of a channel or from a modifier.
    """
    if not isinstance(spec, dict) or not spec.get("channels"):
        raise ConfigError("spec must be a dict with a non-empty 'channels' list")
    channels, samples, nominal_rows = [], [], []
    first_bin = 0
    # paramset name -> dict(type, n, per-type data)
    psets: dict[str, dict] = {}
    ns_entries, hs_entries, scale_entries, stat_entries = [], [], [], []  # (sample_row, name, data...)
    # channels in name order, as pyhf lays out the main data (so data vectors are interchangeable)
    for ch in sorted(spec["channels"], key=lambda c: str(c.get("name"))):
        cname = ch.get("name")
        if not ch.get("samples"):
            raise ConfigError(f"channel {cname!r} has no samples")
        nbins = None
        stat_channel: dict[str, list] = {}
        for smp in ch["samples"]:
            sname = smp.get("name")
            where = f"channel {cname!r} sample {sname!r}"
            nom = _floats(smp.get("data"), f"{where} data")
            if nbins is None:
                nbins = nom.size
            elif nom.size != nbins:
                raise DataError(f"{where} has {nom.size} bins but the channel's first sample has {nbins}")
            if np.any(nom < 0):
                raise DataError(f"{where}: negative expected count {nom.min()!r}")
            row = len(samples)
            samples.append(f"{cname}/{sname}")
            nominal_rows.append((first_bin, nom))
            for mod in smp.get("modifiers", []):
                mname, mtype, mdata = mod.get("name"), mod.get("type"), mod.get("data")
                mwhere = f"{where} modifier {mname!r}"
                if mtype not in KNOWN_MODIFIERS:
                    raise ConfigError(f"{mwhere}: unknown modifier type {mtype!r}; supported: {KNOWN_MODIFIERS}")
                prev = psets.get(mname)
                if prev is not None and prev["type"] != mtype:
                    raise ConfigError(f"{mwhere}: type {mtype!r} but the name is already a {prev['type']!r}")
                if mtype in ("normfactor", "lumi"):
                    psets.setdefault(mname, {"type": mtype, "n": 1})
                    scale_entries.append((row, mname))
                elif mtype == "normsys":
                    try:
                        hi, lo = float(mdata["hi"]), float(mdata["lo"])
                    except (TypeError, KeyError, ValueError) as exc:
                        raise ConfigError(f"{mwhere}: data must be {{'hi': float, 'lo': float}}") from exc
                    if not (hi > 0 and lo > 0):
                        raise DataError(f"{mwhere}: hi and lo must be > 0, got hi={hi!r} lo={lo!r}")
                    psets.setdefault(mname, {"type": mtype, "n": 1})
                    ns_entries.append((row, mname, hi, lo))
                elif mtype == "histosys":
                    if not isinstance(mdata, dict) or "hi_data" not in mdata or "lo_data" not in mdata:
                        raise ConfigError(f"{mwhere}: data must be {{'hi_data': [...], 'lo_data': [...]}}")
                    hi = _floats(mdata["hi_data"], f"{mwhere} hi_data")
                    lo = _floats(mdata["lo_data"], f"{mwhere} lo_data")
                    if hi.size != nbins or lo.size != nbins:
                        raise DataError(f"{mwhere}: hi/lo data have {hi.size}/{lo.size} bins, the sample {nbins}")
                    if np.any(hi < 0) or np.any(lo < 0):
                        raise DataError(f"{mwhere}: negative expected count in hi_data/lo_data")
                    psets.setdefault(mname, {"type": mtype, "n": 1})
                    hs_entries.append((row, mname, first_bin, hi - nom, nom - lo))
                else:  # staterror
                    unc = _floats(mdata, f"{mwhere} data")
                    if unc.size != nbins:
                        raise DataError(f"{mwhere}: {unc.size} uncertainties for {nbins} bins")
                    if prev is not None and prev.get("channel") != cname:
                        raise ConfigError(f"{mwhere}: staterror {mname!r} is already used in another channel")
                    psets.setdefault(mname, {"type": mtype, "n": nbins, "channel": cname})
                    stat_channel.setdefault(mname, []).append((row, nom, unc))
        # per-bin relative uncertainty of each staterror set, over the samples that carry it
        for mname, members in stat_channel.items():
            nom_sum = np.sum([m[1] for m in members], axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                rel2 = np.sum([np.where(nom_sum > 0, (m[2] / nom_sum) ** 2, 0.0) for m in members], axis=0)
            psets[mname]["rel"] = np.sqrt(rel2)
            for row, _, _ in members:
                stat_entries.append((row, mname, first_bin, nbins))
        channels.append((cname, first_bin, nbins))
        first_bin += nbins
    n_bins = first_bin

    # parameters: sets sorted by name, contiguous
    names = sorted(psets)
    if poi_name is None:
        nfs = [n for n in names if psets[n]["type"] == "normfactor"]
        if "mu" in nfs:
            nfs = ["mu"]
        if len(nfs) != 1:
            raise ConfigError(f"cannot choose the POI: normfactors {nfs}; pass poi_name=")
        poi_name = nfs[0]
    if poi_name not in psets or psets[poi_name]["type"] != "normfactor":
        raise ConfigError(f"poi_name {poi_name!r} is not a normfactor of the spec (parameter sets: {names})")

    overrides = {}
    for par in spec.get("parameters", []) or []:
        pname = par.get("name")
        if pname not in psets:
            raise ConfigError(f"measurement parameter {pname!r} names no modifier of the spec (known: {names})")
        overrides[pname] = par

    par_names, paramsets, init, bounds, fixed, positive = [], [], [], [], [], []
    aux_par, aux_sigma, aux_nominal = [], [], []
    start = {}
    for name in names:
        ps, ov = psets[name], overrides.get(name, {})
        n, ptype = ps["n"], ps["type"]
        start[name] = len(init)
        sigma = None
        if ptype == "normfactor":
            p_init, p_bounds = [1.0], [(0.0, 10.0)]
        elif ptype in ("normsys", "histosys"):
            p_init, p_bounds, sigma, auxn = [0.0], [(-5.0, 5.0)], [1.0], [0.0]
        elif ptype == "lumi":
            auxn = [float(v) for v in ov.get("auxdata", [1.0])]
            sig = ov.get("sigmas")
            if sig is None:
                if lumi_sigma is None:
                    raise ConfigError(f"lumi modifier {name!r} needs sigmas in spec['parameters'] or lumi_sigma=")
                sig = [float(lumi_sigma) * auxn[0]]
            sigma = [float(v) for v in sig]
            p_init, p_bounds = list(auxn), [(0.0, 10.0 * auxn[0])]
        else:  # staterror
            rel = ps["rel"]
            p_init, p_bounds = [1.0] * n, [(1e-10, 10.0)] * n
            sigma, auxn = list(np.where(rel > 0, rel, 1.0)), [1.0] * n
        p_fixed = [False] * n if ptype != "staterror" else list(ps["rel"] == 0)
        if "inits" in ov:
            p_init = [float(v) for v in ov["inits"]]
        if "bounds" in ov:
            p_bounds = [tuple(float(x) for x in b) for b in ov["bounds"]]
        if "fixed" in ov:
            p_fixed = [bool(ov["fixed"])] * n
        if len(p_init) != n or len(p_bounds) != n:
            raise ConfigError(f"measurement parameter {name!r}: inits/bounds need {n} entries")
        if sigma is not None:
            if len(sigma) != n or min(sigma) <= 0:
                raise ConfigError(f"parameter {name!r}: sigmas must be {n} positive numbers, got {sigma}")
            aux_par.extend(range(start[name], start[name] + n))
            aux_sigma.extend(sigma)
            aux_nominal.extend(auxn)
        paramsets.append((name, ptype, start[name], start[name] + n))
        par_names.extend([name] if n == 1 and ptype != "staterror" else [f"{name}[{i}]" for i in range(n)])
        init.extend(p_init)
        bounds.extend(p_bounds)
        fixed.extend(p_fixed)
        positive.extend([ptype in ("lumi", "staterror") or (ptype == "normfactor" and name != poi_name)] * n)
    n_par = len(init)

    S = len(samples)
    nominal = np.zeros((S, n_bins))
    for row, (b0, nom) in enumerate(nominal_rows):
        nominal[row, b0 : b0 + nom.size] = nom
    scale_mask = np.zeros((S, n_par), bool)
    for row, name in scale_entries:
        scale_mask[row, start[name]] = True
    K = len(ns_entries)
    ns_onehot = np.zeros((K, S), bool)
    for k, (row, _, _, _) in enumerate(ns_entries):
        ns_onehot[k, row] = True
    ns_hi = np.array([e[2] for e in ns_entries], np.float64)
    ns_lo = np.array([e[3] for e in ns_entries], np.float64)
    H = len(hs_entries)
    hs_onehot = np.zeros((H, S), bool)
    hs_up, hs_dn = np.zeros((H, n_bins)), np.zeros((H, n_bins))
    for h, (row, _, b0, up, dn) in enumerate(hs_entries):
        hs_onehot[h, row] = True
        hs_up[h, b0 : b0 + up.size], hs_dn[h, b0 : b0 + dn.size] = up, dn
    stat_index = np.full((S, n_bins), n_par, np.int32)
    for row, name, b0, nb in stat_entries:
        stat_index[row, b0 : b0 + nb] = np.arange(start[name], start[name] + nb)

    info = ModelInfo(
        par_names=tuple(par_names),
        paramsets=tuple(paramsets),
        poi_index=start[poi_name],
        channels=tuple(channels),
        samples=tuple(samples),
        n_main=n_bins,
        n_aux=len(aux_par),
    )
    return HistFactoryModel(
        nominal=jnp.asarray(nominal),
        scale_mask=jnp.asarray(scale_mask),
        ns_onehot=jnp.asarray(ns_onehot),
        ns_par=jnp.asarray(np.array([start[e[1]] for e in ns_entries], np.int32)),
        ns_hi=jnp.asarray(ns_hi),
        ns_lo=jnp.asarray(ns_lo),
        ns_coef=jnp.asarray(code4_coefficients(ns_hi, ns_lo) if K else np.zeros((0, 6))),
        hs_onehot=jnp.asarray(hs_onehot),
        hs_par=jnp.asarray(np.array([start[e[1]] for e in hs_entries], np.int32)),
        hs_up=jnp.asarray(hs_up),
        hs_dn=jnp.asarray(hs_dn),
        stat_index=jnp.asarray(stat_index),
        aux_par=jnp.asarray(np.array(aux_par, np.int32)),
        aux_sigma=jnp.asarray(np.array(aux_sigma, np.float64)),
        aux_nominal=jnp.asarray(np.array(aux_nominal, np.float64)),
        aux_mask=jnp.ones(len(aux_par)),
        main_mask=jnp.ones(n_bins),
        init=jnp.asarray(np.array(init, np.float64)),
        bounds=jnp.asarray(np.array(bounds, np.float64).reshape(n_par, 2)),
        fixed=jnp.asarray(np.array(fixed, bool)),
        positive=jnp.asarray(np.array(positive, bool)),
        info=info,
    )


def with_templates(model: HistFactoryModel, nominal, histosys_hi=None, histosys_lo=None) -> HistFactoryModel:
    """``model`` with its sample templates replaced by (traceable) arrays, for objectives built on templates.

    Build the model once with :func:`build_model` from a spec of the right layout (any positive placeholder
    yields), then swap in templates computed inside ``jit``/``grad``: the likelihood is then differentiable in
    the templates (e.g. soft histograms of a network's output).

    Args:
      nominal: ``(S, B)`` yields per sample row (``model.info.samples`` order, global bin axis).
      histosys_hi, histosys_lo: ``(H, B)`` the up / down templates of each histosys instance (instances in
        build order: channels by name, samples and modifiers in spec order); both or neither.
    """
    nominal = jnp.asarray(nominal)
    if nominal.shape != model.nominal.shape:
        raise DataError(f"with_templates: nominal has shape {nominal.shape}, the model's is {model.nominal.shape}")
    new = model._replace(nominal=nominal)
    if (histosys_hi is None) != (histosys_lo is None):
        raise ConfigError("with_templates: give both histosys_hi and histosys_lo, or neither")
    if histosys_hi is None:
        return new
    hi, lo = jnp.asarray(histosys_hi), jnp.asarray(histosys_lo)
    for name, arr in (("histosys_hi", hi), ("histosys_lo", lo)):
        if arr.shape != model.hs_up.shape:
            raise DataError(
                f"with_templates: {name} has shape {arr.shape}, the model's histosys is {model.hs_up.shape}"
            )
    nom_h = model.hs_onehot.astype(nominal.dtype) @ nominal  # (H, B): the nominal of each instance's sample
    return new._replace(hs_up=hi - nom_h, hs_dn=nom_h - lo)


def pad_model(model: HistFactoryModel, *, samples: int, bins: int, pars: int, normsys: int, histosys: int, aux: int):
    """Pad a model to fixed sizes so that models of different structure share compiled functions.

    Padding samples have zero yields, padding bins weight 0 in the likelihood (their data can be any
    value; :func:`pad_data` writes zeros), padding parameters are fixed, unconstrained and touch no yield,
    padding aux data weigh 0. Real entries keep their indices, so ``pars[:P]`` and the data prefixes mean
    the same as in the unpadded model, and logpdf, fits and test statistics are unchanged. ``info`` is
    kept (it describes the real part); the fits compile on the model without its info, so models padded
    to equal sizes share one compiled fit.
    """
    S, B = model.nominal.shape
    P, K, H, C = model.init.shape[0], model.ns_par.shape[0], model.hs_par.shape[0], model.aux_par.shape[0]
    sizes = {"samples": (samples, S), "bins": (bins, B), "pars": (pars, P), "normsys": (normsys, K)}
    sizes.update({"histosys": (histosys, H), "aux": (aux, C)})
    for key, (want, have) in sizes.items():
        if want < have:
            raise ConfigError(f"pad_model: {key}={want} is smaller than the model's {have}")
    dS, dB, dP, dK, dH, dC = samples - S, bins - B, pars - P, normsys - K, histosys - H, aux - C

    def pad(x, widths, value=0):
        # host numpy: padding is set-up work, and eager jnp ops would compile once per new shape
        return jnp.asarray(np.pad(np.asarray(x), widths, constant_values=value))

    stat_index = np.where(np.asarray(model.stat_index) == P, pars, np.asarray(model.stat_index))  # "no gamma"
    return model._replace(
        nominal=pad(model.nominal, ((0, dS), (0, dB))),
        scale_mask=pad(model.scale_mask, ((0, dS), (0, dP)), False),
        ns_onehot=pad(model.ns_onehot, ((0, dK), (0, dS)), False),
        ns_par=pad(model.ns_par, ((0, dK),)),
        ns_hi=pad(model.ns_hi, ((0, dK),), 1.0),
        ns_lo=pad(model.ns_lo, ((0, dK),), 1.0),
        ns_coef=pad(model.ns_coef, ((0, dK), (0, 0))),
        hs_onehot=pad(model.hs_onehot, ((0, dH), (0, dS)), False),
        hs_par=pad(model.hs_par, ((0, dH),)),
        hs_up=pad(model.hs_up, ((0, dH), (0, dB))),
        hs_dn=pad(model.hs_dn, ((0, dH), (0, dB))),
        stat_index=pad(stat_index, ((0, dS), (0, dB)), pars),
        aux_par=pad(model.aux_par, ((0, dC),), P if dP else 0),
        aux_sigma=pad(model.aux_sigma, ((0, dC),), 1.0),
        aux_nominal=pad(model.aux_nominal, ((0, dC),)),
        aux_mask=pad(model.aux_mask, ((0, dC),)),
        main_mask=pad(model.main_mask, ((0, dB),)),
        init=pad(model.init, ((0, dP),)),
        bounds=jnp.asarray(np.concatenate([np.asarray(model.bounds), np.tile([[-1.0, 1.0]], (dP, 1))])),
        fixed=pad(model.fixed, ((0, dP),), True),
        positive=pad(model.positive, ((0, dP),), False),
    )


def pad_data(model: HistFactoryModel, padded: HistFactoryModel, data):
    """Map ``data`` of ``model`` (main or main + aux) to the layout of ``padded`` (zeros in padding slots)."""
    data = full_data(model, data)
    B, C = model.nominal.shape[1], model.aux_par.shape[0]
    Bp, Cp = padded.nominal.shape[1], padded.aux_par.shape[0]
    if not is_concrete(data):
        return jnp.concatenate([jnp.pad(data[:B], (0, Bp - B)), jnp.pad(data[B:], (0, Cp - C))])
    data = np.asarray(data)
    return jnp.asarray(np.concatenate([np.pad(data[:B], (0, Bp - B)), np.pad(data[B:], (0, Cp - C))]))


__all__ = [
    "HistFactoryModel",
    "KNOWN_MODIFIERS",
    "ModelInfo",
    "asimov_data",
    "build_model",
    "code4",
    "code4_coefficients",
    "code4p",
    "expected_actualdata",
    "expected_auxdata",
    "expected_per_sample",
    "full_data",
    "logpdf",
    "pad_data",
    "pad_model",
    "twice_nll",
]
