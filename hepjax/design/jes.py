"""An inference-aware jet observable under a jet-energy-scale (JES) shape systematic.

The hepjax variant of design study (b): W-boson jets (signal) against QCD jets (background), four jet-level
features per jet (:func:`jet_features`: mass and pT in GeV, τ21, D2), and a HistFactory likelihood
(:mod:`hepjax.stats`) with three parameters:

- ``mu``: the signal-strength normfactor (the parameter of interest; s = mu · s0 expected signal jets);
- ``jes``: a histosys on signal and background, its ±1σ templates the observable's histograms with every
  jet's pT and mass scaled by (1 ± σ_JES) (a uniform scaling of all constituent momenta: τ21 and D2,
  ratios of energy-correlation sums, do not change);
- ``bkg_norm``: a normsys on the background (1 ± σ_b).

:func:`inference_loss` is the Asimov variance of mu, [H⁻¹]_μμ of the negative log-likelihood at the nominal
point with the templates the network's tempered-softmax soft histograms (differentiable in the network
through :func:`hepjax.stats.with_templates`); the JES-scaled templates come from scaling the inputs, so the
gradient sees how each bin moves with the energy scale. :func:`hard_model` builds the same likelihood from
hard (argmax) histograms for the evaluation, whose expected interval is :func:`hepjax.stats.expected_mu_interval`.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax import kinematics as kin
from hepjax.design.inferno import soft_fractions
from hepjax.errors import DataError
from hepjax.stats import asimov_data, build_model, twice_nll, with_templates

#: Names of the columns of :func:`jet_features`; the first two scale with the jet energy scale.
FEATURES = ("mass", "pt", "tau21", "d2")
JES_SCALED = np.array([1.0, 1.0, 0.0, 0.0])


@dataclasses.dataclass(frozen=True)
class JesModel:
    """Yields and uncertainties of the likelihood: s0 signal and b0 background jets expected at mu = 1,
    JES uncertainty ``jes_sigma`` (relative, 1σ) and background normalisation uncertainty ``bkg_sigma``."""

    s0: float = 100.0
    b0: float = 1000.0
    jes_sigma: float = 0.05
    bkg_sigma: float = 0.1


def jet_features(reco, *, R: float = 0.8) -> np.ndarray:
    """``[n_jets, 4]`` (mass GeV, pT GeV, τ21, D2^(β=1)) of detector-level jets from their constituents.

    ``reco``: a :class:`hepjax.detector.Reco` of jet constituents ``[n_jets, M]`` (hard, sampled: a
    constituent is in the jet when ``mask``). τ21 = τ2/τ1 with exclusive-kT axes (0 if τ1 = 0). The jet
    four-momentum is summed over the *sampled* constituents, not weighted by the reconstruction probabilities as
    in :func:`hepjax.tagging.constituent_features` (the taggers' smooth version): an event as measured.
    """
    mask = np.asarray(reco.mask) & (np.asarray(reco.weight) > 0)
    pt, eta, phi = (np.where(mask, np.asarray(a), 0.0) for a in (reco.pt, reco.eta, reco.phi))
    energy = np.where(mask, np.asarray(reco.energy), 0.0)
    px, py, pz, _ = kin.to_cartesian(pt, eta, phi, 0.0)
    tot = kin.sum_cartesian(np.asarray(px), np.asarray(py), np.asarray(pz), energy)
    jet_pt, _, _, jet_m = kin.to_cylindrical(*(np.asarray(t) for t in tot), eps=1e-6)
    m0 = np.zeros_like(pt)
    tau1 = kin.nsubjettiness(pt, eta, phi, m0, mask, 1, R=R)
    tau2 = kin.nsubjettiness(pt, eta, phi, m0, mask, 2, R=R)
    tau21 = np.where(tau1 > 0, tau2 / np.where(tau1 > 0, tau1, 1.0), 0.0)
    d2 = np.asarray(kin.d2(jnp.asarray(pt), jnp.asarray(eta), jnp.asarray(phi), jnp.asarray(mask)))
    return np.stack([np.asarray(jet_m), np.asarray(jet_pt), tau21, d2], axis=1).astype(np.float32)


def scale_jes(features, alpha):
    """Features ``[n, 4]`` of jets whose energy scale is multiplied by ``1 + alpha`` (mass and pT scale)."""
    return features * (1.0 + alpha * jnp.asarray(JES_SCALED, features.dtype))


def likelihood_model(bins: int, m: JesModel = JesModel()):
    """The HistFactory model (placeholder templates; swap them in with :func:`hepjax.stats.with_templates`)."""
    ones = [1.0] * bins
    hs = {"hi_data": [1.1] * bins, "lo_data": [0.9] * bins}
    spec = {
        "channels": [
            {
                "name": "jets",
                "samples": [
                    {
                        "name": "signal",
                        "data": ones,
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None},
                            {"name": "jes", "type": "histosys", "data": hs},
                        ],
                    },
                    {
                        "name": "background",
                        "data": ones,
                        "modifiers": [
                            {
                                "name": "bkg_norm",
                                "type": "normsys",
                                "data": {"hi": 1 + m.bkg_sigma, "lo": 1 - m.bkg_sigma},
                            },
                            {"name": "jes", "type": "histosys", "data": hs},
                        ],
                    },
                ],
            }
        ],
        "parameters": [{"name": "mu", "bounds": [[-10.0, 10.0]]}],
    }
    return build_model(spec)


def templated(model, fractions, m: JesModel = JesModel()):
    """``model`` with the templates of ``fractions``: a dict ``{(sample, alpha): [bins]}`` of normalised
    histograms at alpha ∈ (0, +1, −1) (in units of σ_JES), sample ∈ ("signal", "background")."""
    yields = {"signal": m.s0, "background": m.b0}
    order = ("signal", "background")  # the spec's sample order = the model's sample rows and histosys order
    nominal = jnp.stack([yields[k] * fractions[(k, 0)] for k in order])
    hi = jnp.stack([yields[k] * fractions[(k, 1)] for k in order])
    lo = jnp.stack([yields[k] * fractions[(k, -1)] for k in order])
    return with_templates(model, nominal, hi, lo)


def mu_variance(model) -> jnp.ndarray:
    """Expected variance of mu: [H⁻¹]_μμ of −ln L on the Asimov data at the model's initial point (mu = 1)."""
    pars = model.init
    data = asimov_data(model, pars)
    h = 0.5 * jax.hessian(lambda p: twice_nll(model, p, data))(pars)
    return jnp.linalg.inv(h)[model.info.poi_index, model.info.poi_index]


def inference_loss(score_fn, x_s, x_b, model, temperature: float, m: JesModel = JesModel()) -> jnp.ndarray:
    """INFERNO loss with the JES systematic: the Asimov variance of mu from soft histograms.

    ``score_fn(features [n, 4]) -> logits [n, bins]`` (the network on raw features, standardisation inside);
    ``x_s``, ``x_b``: signal and background jet features ``[n, 4]`` (a batch).
    """
    fr = {}
    for name, x in (("signal", x_s), ("background", x_b)):
        for a in (0, 1, -1):
            fr[(name, a)] = soft_fractions(score_fn(scale_jes(x, a * m.jes_sigma)), temperature)
    return mu_variance(templated(model, fr, m))


def hard_fractions(bin_fn, x, bins: int, alpha: float) -> np.ndarray:
    """Normalised hard histogram ``[bins]`` of ``bin_fn(features) -> int bins`` at JES shift ``alpha``."""
    idx = np.asarray(bin_fn(scale_jes(jnp.asarray(x), alpha)))
    if idx.size == 0:
        raise DataError("hard_fractions: no jets")
    return np.bincount(idx, minlength=bins)[:bins] / idx.size


def hard_model(bin_fn, x_s, x_b, bins: int, m: JesModel = JesModel()):
    """The likelihood with hard-binned templates of held-out jets (for the evaluation); empty bins get a
    floor of 1e-6 expected jets so the Poisson terms stay finite."""
    fr = {
        (name, a): np.maximum(hard_fractions(bin_fn, x, bins, a * m.jes_sigma), 1e-6 / max(m.s0, m.b0))
        for name, x in (("signal", x_s), ("background", x_b))
        for a in (0, 1, -1)
    }
    return templated(likelihood_model(bins, m), {k: jnp.asarray(v) for k, v in fr.items()}, m)


def batch_loss(kind: str, apply, standardizer, x_s, x_b, *, bins: int, batch: int, temperature: float, m=JesModel()):
    """``loss(params, key)`` on ``batch`` jets per class drawn (with replacement) from ``x_s``, ``x_b`` ``[n, 4]``.

    ``kind``: ``"inferno"`` (:func:`inference_loss`; the network has ``bins`` outputs) or ``"bce"`` (binary
    cross entropy of the first output, signal = 1, at the nominal energy scale). Features are standardised
    with ``standardizer`` (a :class:`hepjax.train.Standardizer` fitted on nominal training jets) before the
    network, so the JES scaling acts on the physical features.
    """
    if kind not in ("inferno", "bce"):
        raise DataError(f"batch_loss: kind must be 'inferno' or 'bce', got {kind!r}")
    mean, std = jnp.asarray(standardizer.mean, jnp.float32), jnp.asarray(standardizer.std, jnp.float32)
    x_s, x_b = jnp.asarray(x_s, jnp.float32), jnp.asarray(x_b, jnp.float32)
    lik = likelihood_model(bins, m) if kind == "inferno" else None

    def loss(params, key):
        ks, kb = jax.random.split(key)
        bs = x_s[jax.random.randint(ks, (batch,), 0, x_s.shape[0])]
        bb = x_b[jax.random.randint(kb, (batch,), 0, x_b.shape[0])]

        def score(x):
            return apply(params, (x - mean) / std)

        if kind == "bce":
            logits = jnp.concatenate([score(bs)[:, 0], score(bb)[:, 0]])
            labels = jnp.concatenate([jnp.ones(batch), jnp.zeros(batch)])
            return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels))
        return inference_loss(score, bs, bb, lik, temperature, m)

    return loss


def bin_function(kind: str, apply, params, standardizer, bins: int):
    """``features [n, 4] -> int bins [n]``: argmax of the outputs (inferno) or the sigmoid of the first output
    in ``bins`` equal-width bins of [0, 1] (bce), as the evaluation's hard histogram."""
    mean, std = jnp.asarray(standardizer.mean), jnp.asarray(standardizer.std)

    def fn(x):
        out = apply(params, ((x - mean) / std).astype(jnp.float32))
        if kind == "inferno":
            return jnp.argmax(out, axis=-1)
        return jnp.clip(jnp.floor(jax.nn.sigmoid(out[:, 0]) * bins), 0, bins - 1).astype(jnp.int32)

    return jax.jit(fn)
