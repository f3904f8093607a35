"""Detector parameters: a registered pytree of float arrays, plus static calorimeter geometry.

Every float field is a pytree *leaf* (so ``jax.grad`` of a smeared observable w.r.t. the
detector description works field by field); the calorimeter cell geometry is a *static*
(meta) field, declared explicitly, because it fixes array shapes.

η dependence is piecewise in ``|η|`` regions: a quantity with ``R`` regions carries
``eta_edges`` of shape ``[R-1]`` (the region boundaries in ``|η|``) and values ``[..., R]``.
Between regions the value is blended with a sigmoid of width ``DetectorParams.edge_width``
(× temperature) when ``hard=False`` and switched exactly when ``hard=True``.

The numbers of :func:`cms_like` are taken from the public Delphes CMS card
(``cards/delphes_card_CMS.tcl``) and its tracker card (``cards/trackResolutionCMS.tcl``,
from CMS, JINST 9 (2014) P10009, arXiv:1405.6569); see the docstring there.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

# Species rows of the [3, R] tracker arrays.
HADRON, ELECTRON, MUON = 0, 1, 2


def _register(cls, meta=()):
    data = [f.name for f in dataclasses.fields(cls) if f.name not in meta]
    return jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=list(meta))


@dataclasses.dataclass(frozen=True)
class QuadratureResolution:
    """σ(x) = a ⊕ b·x (sum in quadrature) per ``|η|`` region.

    Fields:
      eta_edges: ``[R-1]`` region boundaries in ``|η|``.
      a: ``[..., R]`` constant term (units of σ).
      b: ``[..., R]`` slope term (units of σ per unit of ``x``).
    """

    eta_edges: jax.Array
    a: jax.Array
    b: jax.Array


@dataclasses.dataclass(frozen=True)
class CaloResolution:
    """σ(E)/E = S/√E ⊕ N/E ⊕ C per ``|η|`` region (E in GeV).

    Fields:
      eta_edges: ``[R-1]`` region boundaries in ``|η|``.
      stochastic: ``[R]`` S, GeV^½.
      noise: ``[R]`` N, GeV.
      constant: ``[R]`` C, dimensionless.
    """

    eta_edges: jax.Array
    stochastic: jax.Array
    noise: jax.Array
    constant: jax.Array


@dataclasses.dataclass(frozen=True)
class Efficiency:
    """ε(pT, η) = plateau(|η| region) · step((pT − threshold)/width) · acceptance.

    The turn-on is a sigmoid of width ``width`` × temperature when soft, the exact step
    ``pT > threshold`` when hard.

    Fields:
      eta_edges: ``[R-1]`` region boundaries in ``|η|``.
      plateau: ``[..., R]`` plateau efficiency in [0, 1].
      threshold: ``[...]`` turn-on threshold, GeV.
      width: ``[...]`` turn-on width, GeV (soft mode only).
    """

    eta_edges: jax.Array
    plateau: jax.Array
    threshold: jax.Array
    width: jax.Array


@dataclasses.dataclass(frozen=True)
class CaloGrid:
    """Static (η, φ) cell geometry: ``n_eta × n_phi`` cells covering |η| < ``eta_max``, φ ∈ [−π, π).

    A hashable meta field of :class:`CaloParams`: it fixes the cell array shapes, so
    changing it recompiles.
    """

    n_eta: int
    n_phi: int
    eta_max: float

    @property
    def d_eta(self) -> float:
        return 2.0 * self.eta_max / self.n_eta

    @property
    def d_phi(self) -> float:
        return 2.0 * math.pi / self.n_phi

    def eta_edges(self) -> np.ndarray:
        return np.linspace(-self.eta_max, self.eta_max, self.n_eta + 1)

    def phi_edges(self) -> np.ndarray:
        return np.linspace(-math.pi, math.pi, self.n_phi + 1)


@dataclasses.dataclass(frozen=True)
class TrackerParams:
    """Tracker response.

    Fields:
      pt: σ(pT)/pT = a ⊕ b·pT; ``a`` dimensionless, ``b`` in 1/GeV; shape ``[3, R]`` for
        (charged hadron, electron, muon).
      d0: σ(d0) = a ⊕ b/pT; ``a`` in mm, ``b`` in mm·GeV; ``[R]``.
      z0: σ(z0) = a ⊕ b/pT; mm, mm·GeV; ``[R]``.
      phi: σ(φ) = a ⊕ b/pT; rad, rad·GeV; ``[R]``.
      cot_theta: σ(cot θ) = a ⊕ b/pT; dimensionless, GeV; ``[R]`` (η is smeared through
        cot θ = sinh η).
      efficiency: tracking efficiency, plateau ``[3, R]``, threshold/width ``[3]`` GeV.
      eta_max: tracker acceptance |η| < eta_max (scalar).
    """

    pt: QuadratureResolution
    d0: QuadratureResolution
    z0: QuadratureResolution
    phi: QuadratureResolution
    cot_theta: QuadratureResolution
    efficiency: Efficiency
    eta_max: jax.Array


@dataclasses.dataclass(frozen=True)
class CaloParams:
    """One calorimeter (ECAL or HCAL).

    Fields:
      resolution: σ(E)/E per |η| region.
      eta_max: acceptance |η| < eta_max (scalar).
      e_min: energy threshold for a cell and for a neutral particle, GeV (scalar).
      e_min_width: soft-threshold width, GeV (scalar).
      grid: static cell geometry (meta field).
    """

    resolution: CaloResolution
    eta_max: jax.Array
    e_min: jax.Array
    e_min_width: jax.Array
    grid: CaloGrid


@dataclasses.dataclass(frozen=True)
class DetectorParams:
    """The whole detector: tracker, ECAL, HCAL, and the η-edge softness (scalar, units of η)."""

    tracker: TrackerParams
    ecal: CaloParams
    hcal: CaloParams
    edge_width: jax.Array


for _cls in (QuadratureResolution, CaloResolution, Efficiency, TrackerParams, DetectorParams):
    _register(_cls)
_register(CaloParams, meta=("grid",))


def _f(x) -> jax.Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _cms_ecal_factor(eta: float) -> float:
    """η shape of the Delphes CMS ECAL resolution (arXiv:1306.2016)."""
    a = abs(eta)
    return 1.0 + 0.64 * a**2 if a <= 1.5 else 2.16 + 5.6 * (a - 2.0) ** 2


def cms_like(
    *,
    ecal_grid: CaloGrid = CaloGrid(n_eta=344, n_phi=360, eta_max=3.0),
    hcal_grid: CaloGrid = CaloGrid(n_eta=114, n_phi=72, eta_max=5.0),
) -> DetectorParams:
    """A CMS-like detector from the public Delphes CMS card (Delphes 3, ``delphes_card_CMS.tcl``).

    Tracker σ(pT)/pT = a ⊕ b·pT, |η| regions [0, 0.5), [0.5, 1.5), [1.5, 2.5) (arXiv:1405.6569):

    ============  =========================  =========================  =========================
    species       |η|<0.5: a, b [1/GeV]      0.5–1.5                    1.5–2.5
    ============  =========================  =========================  =========================
    ch. hadron    0.010, 1.5e-4              0.015, 2.5e-4              0.025, 5.5e-4
    electron      0.030, 1.3e-3              0.050, 1.7e-3              0.150, 3.1e-3
    muon          0.010, 1.0e-4              0.015, 1.5e-4              0.025, 3.5e-4
    ============  =========================  =========================  =========================

    Impact parameters and angles, σ = a ⊕ b/pT in |η| regions [0, 0.9), [0.9, 1.4), [1.4, 2.5),
    fitted by hand to the binned tables of Delphes ``trackResolutionCMS.tcl``
    (arXiv:1405.6569 fig. 15 and the CMS tracker TDR):
    d0: a = 0.011, 0.010, 0.014 mm; b = 0.072, 0.090, 0.15 mm·GeV.
    z0: a = 0.030, 0.034, 0.080 mm; b = 0.10, 0.19, 0.66 mm·GeV.
    φ: a = 1e-4, 1.5e-4, 2.5e-4 rad; b = 1.7e-3, 2.3e-3, 3.5e-3 rad·GeV.
    cot θ: a = 3e-4, 4e-4, 1.3e-3; b = 1.9e-3, 3.3e-3, 1.2e-2 GeV.

    Tracking efficiency (Delphes: 0 below 0.1 GeV; barrel 0.70 for 0.1–1 GeV, 0.95 above;
    endcap 0.60/0.85; electrons 0.95/0.83; muons 0.99/0.98), modelled as a plateau
    (barrel |η|<1.5 / endcap 1.5–2.5) times a turn-on at 0.2 GeV of width 0.1 GeV.
    Tracker acceptance |η| < 2.5.

    ECAL σ(E)/E = f(η)·(0.11/√E ⊕ 0.40/E ⊕ 0.008) for |η| < 2.5 (arXiv:1502.02701), with the
    card's η shape f = 1 + 0.64η² (barrel) and 2.16 + 5.6(|η|−2)² (endcap) evaluated at the
    centres of the regions [0, .5), [.5, 1), [1, 1.5), [1.5, 2), [2, 2.5); 2.08/√E ⊕ 0.107 above
    (forward). ECAL acceptance |η| < 3.0, cell threshold 0.5 GeV, cells 0.0174 × 1° (CMS crystals).

    HCAL σ(E)/E = 1.50/√E ⊕ 0.050 for |η| < 3.0 and 2.70/√E ⊕ 0.130 for 3 < |η| < 5 (HF);
    acceptance |η| < 5.0, threshold 1.0 GeV, cells 0.087 × 5° (|η| < 5, uniform).

    Returns:
      :class:`DetectorParams` with float leaves in the default float dtype.

    >>> p = cms_like()
    >>> p.tracker.pt.a.shape, p.ecal.grid.n_eta
    ((3, 3), 344)
    """
    ecal_centres = (0.25, 0.75, 1.25, 1.75, 2.25)
    f = [_cms_ecal_factor(e) for e in ecal_centres]
    tracker = TrackerParams(
        pt=QuadratureResolution(
            eta_edges=_f([0.5, 1.5]),
            a=_f([[0.010, 0.015, 0.025], [0.030, 0.050, 0.150], [0.010, 0.015, 0.025]]),
            b=_f([[1.5e-4, 2.5e-4, 5.5e-4], [1.3e-3, 1.7e-3, 3.1e-3], [1.0e-4, 1.5e-4, 3.5e-4]]),
        ),
        d0=QuadratureResolution(_f([0.9, 1.4]), _f([0.011, 0.010, 0.014]), _f([0.072, 0.090, 0.15])),
        z0=QuadratureResolution(_f([0.9, 1.4]), _f([0.030, 0.034, 0.080]), _f([0.10, 0.19, 0.66])),
        phi=QuadratureResolution(_f([0.9, 1.4]), _f([1e-4, 1.5e-4, 2.5e-4]), _f([1.7e-3, 2.3e-3, 3.5e-3])),
        cot_theta=QuadratureResolution(_f([0.9, 1.4]), _f([3e-4, 4e-4, 1.3e-3]), _f([1.9e-3, 3.3e-3, 1.2e-2])),
        efficiency=Efficiency(
            eta_edges=_f([1.5]),
            plateau=_f([[0.95, 0.85], [0.95, 0.83], [0.99, 0.98]]),
            threshold=_f([0.2, 0.2, 0.2]),
            width=_f([0.1, 0.1, 0.1]),
        ),
        eta_max=_f(2.5),
    )
    ecal = CaloParams(
        resolution=CaloResolution(
            eta_edges=_f([0.5, 1.0, 1.5, 2.0, 2.5]),
            stochastic=_f([0.11 * x for x in f] + [2.08]),
            noise=_f([0.40 * x for x in f] + [0.0]),
            constant=_f([0.008 * x for x in f] + [0.107]),
        ),
        eta_max=_f(3.0),
        e_min=_f(0.5),
        e_min_width=_f(0.1),
        grid=ecal_grid,
    )
    hcal = CaloParams(
        resolution=CaloResolution(
            eta_edges=_f([3.0]), stochastic=_f([1.50, 2.70]), noise=_f([0.0, 0.0]), constant=_f([0.050, 0.130])
        ),
        eta_max=_f(5.0),
        e_min=_f(1.0),
        e_min_width=_f(0.2),
        grid=hcal_grid,
    )
    return DetectorParams(tracker=tracker, ecal=ecal, hcal=hcal, edge_width=_f(0.02))


def validate_params(params: DetectorParams) -> None:
    """Host-side check: every float leaf finite, resolutions and widths ≥ 0, plateaus in [0, 1].

    Raises:
      ValueError: naming the offending field (dotted path) and its values.
    """
    flat, _ = jax.tree_util.tree_flatten_with_path(params)
    for path, leaf in flat:
        name = jax.tree_util.keystr(path)
        arr = np.asarray(leaf)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"det_params{name} has non-finite values: {arr}")
        nonneg = not name.endswith(".eta_edges")
        if nonneg and np.any(arr < 0):
            raise ValueError(f"det_params{name} must be >= 0, got {arr}")
        if name.endswith(".plateau") and np.any(arr > 1):
            raise ValueError(f"det_params{name} is an efficiency and must be <= 1, got {arr}")
        if name.endswith(".eta_edges") and np.any(np.diff(arr) <= 0):
            raise ValueError(f"det_params{name} must be strictly increasing, got {arr}")
