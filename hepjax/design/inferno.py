"""INFERNO's synthetic 3-D benchmark and an inference-aware observable (de Castro & Dorigo, arXiv:1806.04743).

The benchmark (paper §5.1): events x = (x0, x1, x2) from a two-component mixture,

    background  f_b(x | r, λ) = N((x0, x1) | (2 + r, 0), diag(5, 9)) · Exp(x2 | λ),   nominal r = 0, λ = 3
    signal      f_s(x)        = N((x0, x1) | (0, 0),     diag(1, 1)) · Exp(x2 | 2),

with expected yields s = 50 (the parameter of interest) and b = 1000. Benchmark 4 profiles r, λ and b with
Gaussian constraints r ~ N(0, 0.4), λ ~ N(3, 1), b ~ N(1000, 100). The figure of merit is the expected width
(upper minus lower end) of the 68 % profile-likelihood interval on s from the Asimov dataset of a 10-bin
histogram of the learned observable.

Sampling is reparameterised (x0 = 2 + r + √5 z0, x2 = E / λ with E ~ Exp(1)), so the expected soft counts are
differentiable in r and λ: the INFERNO loss is the (s, s) element of the inverse Hessian of the Asimov
negative log-likelihood over θ = (s, r, λ, b) (the Cramér–Rao bound of s with the nuisances profiled),
:func:`inferno_loss`. The hard-binned evaluation (:func:`hard_templates`) gets the background's dependence on
(r, λ) by weighting one nominal sample with the exact density ratio f_b(x | r, λ) / f_b(x | 0, 3), which is
smooth in (r, λ) where re-binning a re-sampled set would be piecewise constant.

The binned Poisson likelihood with Gaussian constraints (:func:`binned_nll`) is a small private one: the
``hepjax.stats`` HistFactory model has no modifier for an arbitrary differentiable function of (r, λ).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.scipy.special import xlogy
from tqdm.auto import tqdm

from hepjax.errors import ConfigError
from hepjax.nn import MLP

THETA_NAMES = ("s", "r", "lam", "b")
SIG_MEAN, SIG_STD, SIG_RATE = (0.0, 0.0), (1.0, 1.0), 2.0
BKG_MEAN, BKG_STD = (2.0, 0.0), (np.sqrt(5.0), 3.0)


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """Nominal parameters and constraints (σ = inf: unconstrained, 0: fixed is not supported; drop it)."""

    s: float = 50.0
    b: float = 1000.0
    r: float = 0.0
    lam: float = 3.0
    r_sigma: float = 0.4
    lam_sigma: float = 1.0
    b_sigma: float = 100.0

    @property
    def theta0(self) -> jnp.ndarray:
        """Nominal θ = (s, r, λ, b), [4]."""
        return jnp.array([self.s, self.r, self.lam, self.b])

    @property
    def inv_var(self) -> jnp.ndarray:
        """1/σ² of the Gaussian constraint of each θ component, [4] (0 for s: unconstrained)."""
        sig = np.array([np.inf, self.r_sigma, self.lam_sigma, self.b_sigma])
        if np.any(sig <= 0):
            raise ConfigError(f"benchmark constraint widths must be > 0, got {sig[1:].tolist()}")
        return jnp.asarray(1.0 / sig**2)


BENCHMARK4 = Benchmark()


# ---------------------------------------------------------------- sampler
def draw_noise(key, n: int) -> jnp.ndarray:
    """Base noise of n events, [n, 3]: two standard normals and one standard exponential."""
    kz, ke = jax.random.split(key)
    return jnp.concatenate([jax.random.normal(kz, (n, 2)), jax.random.exponential(ke, (n, 1))], axis=1)


def background_from_noise(noise, r, lam) -> jnp.ndarray:
    """Background events [n, 3] at shift r and rate λ from :func:`draw_noise`'s noise (differentiable in r, λ)."""
    x01 = jnp.array(BKG_MEAN) + jnp.array([1.0, 0.0]) * r + jnp.array(BKG_STD) * noise[:, :2]
    return jnp.concatenate([x01, noise[:, 2:] / lam], axis=1)


def signal_from_noise(noise) -> jnp.ndarray:
    """Signal events [n, 3] from :func:`draw_noise`'s noise."""
    x01 = jnp.array(SIG_MEAN) + jnp.array(SIG_STD) * noise[:, :2]
    return jnp.concatenate([x01, noise[:, 2:] / SIG_RATE], axis=1)


def sample_background(key, n: int, r=0.0, lam=3.0) -> jnp.ndarray:
    return background_from_noise(draw_noise(key, n), r, lam)


def sample_signal(key, n: int) -> jnp.ndarray:
    return signal_from_noise(draw_noise(key, n))


def background_logpdf(x, r, lam) -> jnp.ndarray:
    """log f_b(x | r, λ) per event, [n] (x2 ≥ 0 assumed)."""
    mu = jnp.array(BKG_MEAN) + jnp.array([1.0, 0.0]) * r
    z = (x[:, :2] - mu) / jnp.array(BKG_STD)
    gauss = -0.5 * jnp.sum(z**2, axis=1) - jnp.sum(jnp.log(jnp.array(BKG_STD))) - jnp.log(2 * jnp.pi)
    return gauss + jnp.log(lam) - lam * x[:, 2]


# ---------------------------------------------------------------- network and templates
def network(hidden: tuple[int, ...] = (100, 100), outputs: int = 10) -> MLP:
    """INFERNO's network (paper §5.2): 3 inputs → ``hidden`` ReLU layers → ``outputs`` logits (the shared MLP)."""
    return MLP((*hidden, outputs))


def soft_fractions(logits, temperature: float) -> jnp.ndarray:
    """Mean over events of softmax(logits / τ): the soft histogram normalised to 1, [bins]."""
    return jnp.mean(jax.nn.softmax(logits / temperature, axis=-1), axis=0)


def binned_nll(theta, data, counts_fn: Callable, bench: Benchmark) -> jnp.ndarray:
    """Binned Poisson −ln L (constants dropped) + Gaussian constraints: Σ (ν − d ln ν) + ½ Σ (θ−θ0)²/σ²."""
    nu = counts_fn(theta) + 1e-9  # an empty bin (ν = d = 0) must not turn the derivatives into 0/0
    pois = jnp.sum(nu - xlogy(data, nu))
    return pois + 0.5 * jnp.sum(bench.inv_var * (theta - bench.theta0) ** 2)


def hessian_variance(counts_fn: Callable, bench: Benchmark) -> jnp.ndarray:
    """Expected variance of s: [H⁻¹]_ss of the Asimov −ln L at the nominal θ (the Fisher information)."""
    theta0 = bench.theta0
    data = counts_fn(theta0)  # Asimov; its dependence on the network is part of the Fisher information
    h = jax.hessian(binned_nll)(theta0, data, counts_fn, bench)
    return jnp.linalg.inv(h)[0, 0]


def soft_counts_fn(apply: Callable, params, noise_s, noise_b, temperature: float) -> Callable:
    """θ ↦ expected soft counts [bins]: s·p_s + b·p_b(r, λ), p from the network's tempered softmax."""
    p_s = soft_fractions(apply(params, signal_from_noise(noise_s)), temperature)

    def counts(theta):
        s, r, lam, b = theta
        p_b = soft_fractions(apply(params, background_from_noise(noise_b, r, lam)), temperature)
        return s * p_s + b * p_b

    return counts


def inferno_loss(params, key, *, apply: Callable, batch: int, temperature: float, bench: Benchmark = BENCHMARK4):
    """INFERNO loss: the expected variance of s, from a fresh batch of ``batch`` events per class."""
    ks, kb = jax.random.split(key)
    counts = soft_counts_fn(apply, params, draw_noise(ks, batch), draw_noise(kb, batch), temperature)
    return hessian_variance(counts, bench)


def bce_loss(params, key, *, apply: Callable, batch: int):
    """Binary cross entropy, signal (label 1) vs nominal background (0), ``batch`` events each."""
    ks, kb = jax.random.split(key)
    x = jnp.concatenate([sample_signal(ks, batch), sample_background(kb, batch)])
    y = jnp.concatenate([jnp.ones(batch), jnp.zeros(batch)])
    return jnp.mean(optax.sigmoid_binary_cross_entropy(apply(params, x)[:, 0], y))


def train(
    loss_fn: Callable, params, key, *, steps: int, learning_rate: float, cosine: bool = False, progress: bool = False
):
    """Adam on ``loss_fn(params, key)`` with a fresh key per step (cosine decay to 0 if asked);
    returns (params, losses [steps])."""
    opt = optax.adam(optax.cosine_decay_schedule(learning_rate, steps) if cosine else learning_rate)

    @jax.jit
    def step(p, state, k):
        loss, g = jax.value_and_grad(loss_fn)(p, k)
        upd, state = opt.update(g, state, p)
        return optax.apply_updates(p, upd), state, loss

    state, losses = opt.init(params), []
    for k in tqdm(jax.random.split(key, steps), disable=not progress, unit="step"):
        params, state, loss = step(params, state, k)
        losses.append(loss)
    return params, np.asarray(jnp.stack(losses))


# ---------------------------------------------------------------- hard-binned evaluation
def hard_templates(bins_s, bins_b, x_b, n_bins: int, bench: Benchmark = BENCHMARK4) -> Callable:
    """θ ↦ expected hard counts [n_bins] from signal/background bin indices of large test samples.

    The background at (r, λ) is the nominal sample ``x_b`` ([n, 3], at bench.r, bench.lam) weighted by
    f_b(x | r, λ) / f_b(x | r0, λ0): unbiased for the shifted template and smooth in (r, λ).
    """
    p_s = jnp.bincount(bins_s, length=n_bins) / bins_s.shape[0]
    onehot_b = jax.nn.one_hot(bins_b, n_bins)
    logp0 = background_logpdf(x_b, bench.r, bench.lam)

    def counts(theta):
        s, r, lam, b = theta
        w = jnp.exp(background_logpdf(x_b, r, lam) - logp0)
        return s * p_s + b * (w @ onehot_b) / x_b.shape[0]

    return counts


def profile_scan(counts_fn: Callable, bench: Benchmark, s_values, *, newton_steps: int = 12):
    """q(s) = 2[−ln L(s, ν̂(s)) − −ln L(θ0)] on the Asimov data at the s values [m]; ν by Newton's method."""
    theta0 = bench.theta0
    data = counts_fn(theta0)

    def nll_nu(nu, s):
        return binned_nll(jnp.concatenate([s[None], nu]), data, counts_fn, bench)

    def one(s):
        def newton(_, nu):
            g = jax.grad(nll_nu)(nu, s)
            h = jax.hessian(nll_nu)(nu, s)
            return nu - jnp.linalg.solve(h, g)

        nu = jax.lax.fori_loop(0, newton_steps, newton, theta0[1:])
        return 2.0 * (nll_nu(nu, s) - binned_nll(theta0, data, counts_fn, bench))

    return jax.lax.map(one, jnp.asarray(s_values))


def interval_width(s_values, q) -> tuple[float, float]:
    """(lower, upper) ends of {q ≤ 1}, by linear interpolation of ±√q (near-linear in s) around the minimum.

    Scan points whose profile fit failed (q not finite, e.g. at an s so low that a bin's yield nearly vanishes)
    are dropped; the finite points must still bracket both crossings, else a ConfigError.
    """
    s_values, q = np.asarray(s_values), np.asarray(q)
    ok = np.isfinite(q)
    if ok.sum() < 3:
        raise ConfigError(f"profile scan: only {int(ok.sum())} of {len(q)} points have a finite fit")
    s_values, q = s_values[ok], np.maximum(q[ok], 0.0)
    i0 = int(np.argmin(q))
    z = np.sqrt(q) * np.where(np.arange(len(q)) < i0, -1.0, 1.0)
    if z[0] > -1.0 or z[-1] < 1.0:
        raise ConfigError(f"profile scan [{s_values[0]:.3g}, {s_values[-1]:.3g}] does not reach Δ(−2 ln L) = 1")
    return float(np.interp(-1.0, z, s_values)), float(np.interp(1.0, z, s_values))


def widths(counts_fn: Callable, bench: Benchmark = BENCHMARK4, *, points: int = 25, span: float = 2.0) -> dict:
    """Hessian width 2√([H⁻¹]_ss) and profile-likelihood width (scan over s0 ± span·σ_H) of ``counts_fn``."""
    sigma_h = float(jnp.sqrt(hessian_variance(counts_fn, bench)))
    # s < 0 is allowed (the Asimov interval is not clipped at the physical boundary) as long as every bin's
    # ν stays well positive: no lower than half the most signal-rich bin's −background/signal ratio
    nu0 = np.asarray(counts_fn(bench.theta0))
    bkg = np.asarray(counts_fn(bench.theta0.at[0].set(0.0)))
    sig = (nu0 - bkg) / bench.s
    s_min = -0.5 * np.min(np.where(sig > 0, bkg / np.where(sig > 0, sig, 1.0), np.inf))
    s_values = np.linspace(max(bench.s - span * sigma_h, s_min), bench.s + span * sigma_h, points)
    q = np.asarray(jax.jit(lambda sv: profile_scan(counts_fn, bench, sv))(jnp.asarray(s_values)))
    lo, hi = interval_width(s_values, q)
    return {"width_hessian": 2 * sigma_h, "width_profile": hi - lo, "lo": lo, "hi": hi, "s_scan": s_values, "q": q}


def signal_logpdf(x) -> jnp.ndarray:
    """log f_s(x) per event, [n]."""
    z = (x[:, :2] - jnp.array(SIG_MEAN)) / jnp.array(SIG_STD)
    gauss = -0.5 * jnp.sum(z**2, axis=1) - jnp.sum(jnp.log(jnp.array(SIG_STD))) - jnp.log(2 * jnp.pi)
    return gauss + jnp.log(SIG_RATE) - SIG_RATE * x[:, 2]


def unbinned_sigma_bound(key, bench: Benchmark = BENCHMARK4, n: int = 200_000) -> float:
    """Cramér–Rao bound on σ_s of the unbinned extended likelihood (no observable can do better), by MC.

    I = ∫ ∂ν ∂νᵀ / ν dx + constraints with ν(x|θ) = s f_s(x) + b f_b(x|r, λ), the integral over the mixture
    estimated from ``n`` events per class.
    """
    ks, kb = jax.random.split(key)

    def score(x):  # ∂ν/∂θ / ν per event, [n, 4]
        def nu(th):
            s, r, lam, b = th
            return s * jnp.exp(signal_logpdf(x)) + b * jnp.exp(background_logpdf(x, r, lam))

        return jax.jacfwd(nu)(bench.theta0) / nu(bench.theta0)[:, None]

    js, jb = score(sample_signal(ks, n)), score(sample_background(kb, n, bench.r, bench.lam))
    fisher = (bench.s * js.T @ js + bench.b * jb.T @ jb) / n + jnp.diag(bench.inv_var)
    return float(jnp.sqrt(jnp.linalg.inv(fisher)[0, 0]))
