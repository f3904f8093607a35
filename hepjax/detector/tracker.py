"""A cylindrical silicon tracker in a solenoid: charged particles -> hits, and pileup overlay.

The default geometry follows the TrackML detector (Amrouche et al., "The Tracking Machine Learning
challenge", 2019): four pixel barrel layers at 32-172 mm and six strip barrel layers out to
1020 mm, in a 2 T solenoid. Endcap disks are optional (none by default).

Each charged particle (``|q| > 0``, ``pT >= min_pt``) moves on a helix from its production vertex
(``pT = 0.3 B R``, see :mod:`hepjax.detector.helix`). Its *outgoing half-arc* (turning angles up to
the point farthest from the beam line) is intersected with every surface; each crossed surface
records one hit, in order of arc length. Loopers therefore leave one hit per crossed layer and do
not record the hits of their returning half-turn. At every crossing the surface's material deflects
the particle (Highland formula, optional), the hit is kept with probability ``efficiency``
(optional) and its position is smeared by the layer resolution (rphi and z in the barrel, rphi and
r on disks). Noise hits are scattered uniformly over every surface with ``noise_density`` hits/mm^2.

NumPy, not on a gradient path; vectorised over particles (a loop over at most ``n_surfaces``
crossing steps). Throughput is in the ``detector`` and ``tracking`` bench areas.

Example::

    import numpy as np
    from hepjax.data.particles import pad_events
    from hepjax.detector.tracker import TrackerGeometry, simulate_event_hits

    ev = pad_events([dict(pt=[2.0], eta=[0.3], phi=[0.1], mass=[0.1396], pdg=[211], charge=[1.0],
                          vx=[0.0], vy=[0.0], vz=[0.0])])
    one = type(ev)(*(f[0] for f in ev))
    hits = simulate_event_hits(one, TrackerGeometry(), seed_or_key=0, noise=False, efficiency=False)
    hits.layer  # array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=int32): one hit per barrel layer
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from hepjax.config.schema import param
from hepjax.data.particles import FIELDS, Particles
from hepjax.detector import helix as hx

_BARREL_R = (32.0, 72.0, 116.0, 172.0, 260.0, 360.0, 500.0, 660.0, 820.0, 1020.0)
_BARREL_HL = (455.0,) * 4 + (1030.0,) * 6


@dataclasses.dataclass(frozen=True)
class TrackerGeometry:
    """Barrel layers, optional endcap disks, field, resolution and material (usable as a config section).

    Per-layer tuples have one entry per barrel layer; per-disk tuples one per disk and side (a disk
    at ``z`` is placed at ``+z`` and ``-z``). Units: mm, T, radiation lengths, hits/mm^2.
    """

    barrel_radii: tuple[float, ...] = param(_BARREL_R, gt=0.0, doc="barrel layer radii, mm, increasing")
    barrel_half_lengths: tuple[float, ...] = param(_BARREL_HL, gt=0.0, doc="barrel half-lengths in z, mm")
    endcap_z: tuple[float, ...] = param((), gt=0.0, doc="|z| of endcap disks, mm (each at +z and -z)")
    endcap_r_min: float = param(40.0, ge=0.0, doc="disk inner radius, mm")
    endcap_r_max: float = param(1000.0, gt=0.0, doc="disk outer radius, mm")
    b_field: float = param(2.0, gt=0.0, doc="solenoid field along +z, T")
    sigma_rphi: tuple[float, ...] = param((0.015,) * 4 + (0.035,) * 6, ge=0.0, doc="barrel rphi resolution, mm")
    sigma_z: tuple[float, ...] = param((0.05,) * 4 + (0.35,) * 6, ge=0.0, doc="barrel z resolution, mm")
    endcap_sigma_rphi: float = param(0.035, ge=0.0, doc="disk rphi resolution, mm")
    endcap_sigma_r: float = param(0.35, ge=0.0, doc="disk r resolution, mm")
    material: tuple[float, ...] = param((0.015,) * 4 + (0.025,) * 6, ge=0.0, doc="barrel X/X0 at normal incidence")
    endcap_material: float = param(0.025, ge=0.0, doc="disk X/X0 at normal incidence")
    efficiency: float = param(0.99, ge=0.0, le=1.0, doc="probability that a crossing records a hit")
    noise_density: float = param(2e-6, ge=0.0, doc="noise hits per mm^2 of sensitive surface")

    def __post_init__(self):
        n = len(self.barrel_radii)
        if n == 0 and not self.endcap_z:
            raise ValueError("TrackerGeometry needs at least one barrel layer or endcap disk")
        for name in ("barrel_half_lengths", "sigma_rphi", "sigma_z", "material"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"TrackerGeometry.{name} has {len(getattr(self, name))} entries, expected {n} (one per barrel layer)"
                )
        if any(b <= a for a, b in zip(self.barrel_radii, self.barrel_radii[1:])):
            raise ValueError(f"TrackerGeometry.barrel_radii must increase, got {self.barrel_radii}")
        if self.endcap_r_max <= self.endcap_r_min:
            raise ValueError("TrackerGeometry.endcap_r_max must exceed endcap_r_min")

    @property
    def n_barrel(self) -> int:
        return len(self.barrel_radii)

    @property
    def n_layers(self) -> int:
        """Barrel layers ``0..n_barrel-1``, then disks at ``-z`` (outermost first... by index) and ``+z``."""
        return self.n_barrel + 2 * len(self.endcap_z)

    def disk_z(self) -> np.ndarray:
        """Signed z of every disk, mm, in layer-id order (after the barrel): ``-z`` disks then ``+z``."""
        z = np.asarray(self.endcap_z, np.float64)
        return np.concatenate([-z, z])

    def layer_radius(self) -> np.ndarray:
        """Nominal radius of every barrel layer (mm) and NaN for disks, ``[n_layers]``."""
        return np.concatenate([np.asarray(self.barrel_radii, np.float64), np.full(2 * len(self.endcap_z), np.nan)])


class Hits(NamedTuple):
    """The hits of one event; every field is a 1-D numpy array ``[n_hits]``.

    x, y, z, r, phi: measured position (mm, rad); layer: int32 surface id (barrel ``0..n_barrel-1``,
    then disks); particle_id: int32 index into the event's particles, -1 for noise;
    true_x/true_y/true_z: position of the crossing before smearing (mm; the measured one for noise);
    order: int32 position of the hit along its particle's trajectory (0, 1, ...; -1 for noise).
    Hits are sorted by particle and then trajectory order; noise hits come last.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    r: np.ndarray
    phi: np.ndarray
    layer: np.ndarray
    particle_id: np.ndarray
    true_x: np.ndarray
    true_y: np.ndarray
    true_z: np.ndarray
    order: np.ndarray

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


def _rng(seed_or_key: Any) -> np.random.Generator:
    if isinstance(seed_or_key, np.random.Generator):
        return seed_or_key
    if isinstance(seed_or_key, (int, np.integer)):
        return np.random.default_rng(int(seed_or_key))
    try:  # a jax PRNG key (typed or raw uint32[2])
        import jax

        data = seed_or_key
        if hasattr(data, "dtype") and jax.dtypes.issubdtype(data.dtype, jax.dtypes.prng_key):
            data = jax.random.key_data(data)
        return np.random.default_rng(np.asarray(data, np.uint32).ravel().tolist())
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"seed_or_key must be an int, a numpy Generator or a jax PRNG key, got {seed_or_key!r}"
        ) from err


def _check_event(p: Particles) -> None:
    if not isinstance(p, Particles):
        raise TypeError(f"particles must be a hepjax Particles record, got {type(p).__name__}")
    shapes = {np.shape(getattr(p, f)) for f in FIELDS}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(
            f"simulate_event_hits takes ONE event (1-D Particles fields); got field shapes {sorted(shapes)}"
        )
    m = np.asarray(p.mask, bool)
    for f in ("pt", "eta", "phi", "mass", "charge", "vx", "vy", "vz"):
        v = np.asarray(getattr(p, f))[m]
        bad = ~np.isfinite(v)
        if bad.any():
            raise ValueError(
                f"particles.{f} is not finite for {int(bad.sum())} particle(s), e.g. index {int(np.flatnonzero(m)[np.argmax(bad)])}"
            )
    if (np.asarray(p.pt)[m] < 0).any():
        raise ValueError("particles.pt is negative for some particle")
    if (np.asarray(p.mass)[m] < 0).any():
        raise ValueError("particles.mass is negative for some particle")


def _empty_hits() -> Hits:
    f = np.zeros(0, np.float32)
    i = np.zeros(0, np.int32)
    return Hits(f, f, f, f, f, i, i, f, f, f, i)


def simulate_event_hits(
    particles: Particles,
    geometry: TrackerGeometry,
    seed_or_key: Any,
    *,
    multiple_scattering: bool = True,
    noise: bool = True,
    efficiency: bool = True,
    min_pt: float = 0.1,
) -> Hits:
    """Propagate ONE event's charged particles through ``geometry`` and return its hits.

    Args:
      particles: one event, :class:`Particles` with 1-D fields ``[n_particles]`` (GeV, rad, mm).
      geometry: the tracker.
      seed_or_key: int seed, ``np.random.Generator`` or jax PRNG key; same seed -> same hits.
      multiple_scattering: deflect at each surface (Highland, thickness / |cos incidence|).
      noise: add ``Poisson(noise_density * area)`` uniform noise hits per surface.
      efficiency: drop each crossing with probability ``1 - geometry.efficiency``.
      min_pt: charged particles below this pT (GeV) are not propagated.

    Returns:
      :class:`Hits` (float32 positions in mm, int32 ids).

    Raises:
      ValueError: non-finite or negative momenta/masses, or a batch instead of one event.
    """
    _check_event(particles)
    rng = _rng(seed_or_key)
    g = geometry
    m = np.asarray(particles.mask, bool) & (np.asarray(particles.charge) != 0) & (np.asarray(particles.pt) >= min_pt)
    idx = np.flatnonzero(m).astype(np.int32)
    f64 = lambda a: np.asarray(a, np.float64)[idx]
    state = hx.HelixState(
        f64(particles.vx),
        f64(particles.vy),
        f64(particles.vz),
        f64(particles.phi),
        np.sinh(f64(particles.eta)),
        f64(particles.pt),
        f64(particles.charge),
    )
    mass = f64(particles.mass)

    nb = g.n_barrel
    radii = np.asarray(g.barrel_radii, np.float64)
    half = np.asarray(g.barrel_half_lengths, np.float64)
    dz = g.disk_z()
    n_surf = g.n_layers
    done = np.zeros((idx.size, n_surf), bool)
    alive = np.ones(idx.size, bool)
    rows = []  # (particle index into idx, layer, true x, y, z, order)
    for step in range(n_surf):
        if not alive.any():
            break
        c = hx.circle_of(state, g.b_field)
        s = np.full((idx.size, n_surf), np.inf)
        if nb:
            alpha = hx.cylinder_turning(c, radii)
            sb = alpha * c.rho[:, None]
            zb = state.z0[:, None] + np.where(np.isfinite(sb), sb, 0.0) * state.cot_theta[:, None]
            s[:, :nb] = np.where(np.isfinite(sb) & (np.abs(zb) <= half[None, :]), sb, np.inf)
        if dz.size:
            with np.errstate(divide="ignore", invalid="ignore"):
                sd = (dz[None, :] - state.z0[:, None]) / state.cot_theta[:, None]
            far = hx.farthest_turning(c)[:, None]
            ok = np.isfinite(sd) & (sd > 1e-9) & (sd / c.rho[:, None] <= far + 1e-9)
            th = c.theta0[:, None] + c.h[:, None] * np.where(ok, sd, 0.0) / c.rho[:, None]
            rd = np.hypot(c.cx[:, None] + c.rho[:, None] * np.cos(th), c.cy[:, None] + c.rho[:, None] * np.sin(th))
            ok &= (rd >= g.endcap_r_min) & (rd <= g.endcap_r_max)
            s[:, nb:] = np.where(ok, sd, np.inf)
        s[done] = np.inf
        s[~alive] = np.inf
        layer = np.argmin(s, axis=1)
        s_min = s[np.arange(idx.size), layer]
        alive &= np.isfinite(s_min)
        if not alive.any():
            break
        a = np.flatnonzero(alive)
        sub = hx.HelixState(*(v[a] for v in state))
        x, y, z = hx.position(sub, s_min[a], g.b_field)
        lay = layer[a]
        done[a, lay] = True
        rows.append((a, lay, x, y, z, np.full(a.size, step)))
        # direction at the crossing, then the material kink
        ca = hx.Circle(*(v[a] for v in c))
        phi_dir = ca.theta0 + ca.h * s_min[a] / ca.rho + ca.h * np.pi / 2.0
        cot = sub.cot_theta
        if multiple_scattering:
            is_disk = lay >= nb
            x0 = np.where(
                is_disk, g.endcap_material, np.asarray(g.material + (0.0,))[np.minimum(lay, nb)] if nb else 0.0
            )
            sin_t = 1.0 / np.sqrt(1.0 + cot**2)
            cos_t = cot * sin_t
            rad = np.arctan2(y, x)
            cos_inc = np.where(is_disk, np.abs(cos_t), np.abs(sin_t * np.cos(phi_dir - rad)))
            p = sub.pt * np.sqrt(1.0 + cot**2)
            theta0 = hx.highland_theta0(p, mass[a], sub.charge, x0 / np.maximum(cos_inc, 0.05))
            phi_new, cot_new = hx.scatter(phi_dir, cot, theta0, rng)
            pt_new = p / np.sqrt(1.0 + cot_new**2)
        else:
            phi_new, cot_new, pt_new = phi_dir, cot, sub.pt
        upd = [v.copy() for v in state]
        for k, v in enumerate((x, y, z, phi_new, cot_new, pt_new)):
            upd[k][a] = v
        state = hx.HelixState(*upd)

    if rows:
        a, lay, x, y, z, order = (np.concatenate(c) for c in zip(*rows))
    else:
        a = lay = order = np.zeros(0, np.int64)
        x = y = z = np.zeros(0)
    keep = rng.random(a.size) < g.efficiency if efficiency else np.ones(a.size, bool)
    a, lay, x, y, z, order = (v[keep] for v in (a, lay, x, y, z, order))
    mx, my, mz = _smear(g, lay, x, y, z, rng)
    pid = idx[a]
    sort = np.lexsort((order, pid))
    cols = [v[sort] for v in (mx, my, mz, lay, pid, x, y, z)]
    # trajectory order counts recorded hits only, so it is 0..k-1 for each particle
    pid_sorted = cols[4]
    first = np.searchsorted(pid_sorted, pid_sorted, side="left")
    order = np.arange(pid_sorted.size) - first
    hits = Hits(
        *(
            np.asarray(v)
            for v in (
                cols[0],
                cols[1],
                cols[2],
                np.hypot(cols[0], cols[1]),
                np.arctan2(cols[1], cols[0]),
                cols[3],
                cols[4],
                cols[5],
                cols[6],
                cols[7],
                order,
            )
        )
    )
    if noise and g.noise_density > 0:
        hits = _concat(hits, _noise_hits(g, rng))
    return _as_dtypes(hits)


def _smear(g: TrackerGeometry, lay, x, y, z, rng):
    nb = g.n_barrel
    disk = lay >= nb
    li = np.minimum(lay, max(nb - 1, 0))
    s_rphi = np.where(disk, g.endcap_sigma_rphi, np.asarray(g.sigma_rphi or (0.0,))[li])
    s_2 = np.where(disk, g.endcap_sigma_r, np.asarray(g.sigma_z or (0.0,))[li])
    r = np.hypot(x, y)
    phi = np.arctan2(y, x) + rng.normal(size=r.size) * s_rphi / np.maximum(r, 1e-9)
    e2 = rng.normal(size=r.size) * s_2
    r_new = np.where(disk, r + e2, r)
    z_new = np.where(disk, z, z + e2)
    return r_new * np.cos(phi), r_new * np.sin(phi), z_new


def _noise_hits(g: TrackerGeometry, rng) -> Hits:
    parts = []
    for k, (R, L) in enumerate(zip(g.barrel_radii, g.barrel_half_lengths)):
        n = rng.poisson(g.noise_density * 2 * np.pi * R * 2 * L)
        phi = rng.uniform(-np.pi, np.pi, n)
        parts.append((np.full(n, R) * np.cos(phi), np.full(n, R) * np.sin(phi), rng.uniform(-L, L, n), np.full(n, k)))
    for j, zd in enumerate(g.disk_z()):
        area = np.pi * (g.endcap_r_max**2 - g.endcap_r_min**2)
        n = rng.poisson(g.noise_density * area)
        r = np.sqrt(rng.uniform(g.endcap_r_min**2, g.endcap_r_max**2, n))
        phi = rng.uniform(-np.pi, np.pi, n)
        parts.append((r * np.cos(phi), r * np.sin(phi), np.full(n, zd), np.full(n, g.n_barrel + j)))
    if not parts:
        return _empty_hits()
    x, y, z, lay = (np.concatenate(c) for c in zip(*parts))
    neg = np.full(x.size, -1)
    return Hits(x, y, z, np.hypot(x, y), np.arctan2(y, x), lay, neg, x, y, z, neg)


def _concat(a: Hits, b: Hits) -> Hits:
    return Hits(*(np.concatenate([u, v]) for u, v in zip(a, b)))


def _as_dtypes(h: Hits) -> Hits:
    ints = {"layer", "particle_id", "order"}
    return Hits(*(np.asarray(v, np.int32 if f in ints else np.float32) for f, v in zip(Hits._fields, h)))


def overlay_pileup(
    hard_event: Particles,
    minbias: Particles,
    mu: float,
    rng: np.random.Generator,
    *,
    sigma_z: float = 50.0,
    sigma_xy: float = 0.015,
    return_origin: bool = False,
):
    """Add ``Poisson(mu)`` minimum-bias events to one hard-scatter event.

    Every collision of the crossing (the hard one included) is moved to its own vertex drawn from
    the beam spot, ``N(0, sigma_xy)`` in x, y and ``N(0, sigma_z)`` in z (mm). Pileup events are
    drawn from the pool ``minbias`` (``[n_pool, max_particles]``) without replacement while the pool
    lasts.

    Args:
      hard_event: one event, 1-D :class:`Particles` fields.
      minbias: pool of minimum-bias events, 2-D fields.
      mu: mean number of pileup collisions, >= 0.
      rng: NumPy generator (the only randomness).
      return_origin: also return ``origin`` (int32 ``[n]``): 0 for the hard scatter, ``k >= 1`` for
        the k-th pileup collision.

    Returns:
      Unpadded 1-D :class:`Particles`; the hard-scatter particles come first and keep their order,
      so ``particle_id < hard_event.n`` identifies them. ``(particles, origin)`` with ``return_origin``.
    """
    if not np.isfinite(mu) or mu < 0:
        raise ValueError(f"pileup mu must be finite and >= 0, got {mu}")
    if np.ndim(hard_event.pt) != 1:
        raise ValueError("overlay_pileup: hard_event must be ONE event (1-D fields)")
    if np.ndim(minbias.pt) != 2:
        raise ValueError("overlay_pileup: minbias must be a pool of events ([n_events, max_particles] fields)")
    n_pu = int(rng.poisson(mu))
    pool = minbias.pt.shape[0]
    if n_pu and pool == 0:
        raise ValueError("overlay_pileup: the minimum-bias pool is empty")
    pick = rng.permutation(pool)[:n_pu] if n_pu <= pool else rng.integers(0, pool, n_pu)
    events = [Particles(*(np.asarray(f) for f in hard_event))] + [
        Particles(*(np.asarray(f)[i] for f in minbias)) for i in pick
    ]
    out = {f: [] for f in FIELDS}
    origin = []
    for k, ev in enumerate(events):
        sel = np.asarray(ev.mask, bool)
        shift = (rng.normal(0, sigma_xy), rng.normal(0, sigma_xy), rng.normal(0, sigma_z))
        for f in FIELDS:
            v = np.asarray(getattr(ev, f))[sel]
            if f in ("vx", "vy", "vz"):
                v = v + shift["xyz".index(f[1])]
            out[f].append(v)
        origin.append(np.full(int(sel.sum()), k, np.int32))
    from hepjax.data.particles import DTYPES

    res = Particles(**{f: np.concatenate(out[f]).astype(DTYPES[f]) for f in FIELDS})
    return (res, np.concatenate(origin)) if return_origin else res
