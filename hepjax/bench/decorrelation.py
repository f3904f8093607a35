"""Bench area ``decorrelation``: distance correlation vs dcor (numba) and a PyTorch O(N^2) peer.

Times (median, jit-compiled, blocked on results) of the value and of value+gradient of
:func:`hepjax.decorrelation.distance_correlation` for 1-D x, y at N = 1k ... 256k (quick:
1k ... 16k), against ``dcor.distance_correlation_sqr`` (default method: O(N log N) for 1-D)
and a straightforward PyTorch O(N^2) implementation (at N <= 16k), all in the same process;
3-D x at N = 4k against dcor (O(N^2) there); and the peak memory of the dense and the tiled
paths, read from XLA's compiled memory analysis (``lower(...).compile().memory_analysis()``:
arguments + outputs + temporaries, in bytes) without running them, plus (full mode) a real
tiled run at N = 100k with its wall time. Given ``study_metrics=PATH`` (the ``metrics.json`` of a
``hepjax run configs/decorrelation.yaml``; the bench never looks in the working directory for it),
the study's best R50 at 1/JSD >= 10 per method is copied in.

Threads: the harness gives torch and numba (dcor) as many threads as XLA:CPU uses.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.bench.harness import time_call
from hepjax.decorrelation import distance_correlation

_NAMES = {1024: "1k", 4096: "4k", 16384: "16k", 65536: "64k", 262144: "256k", 100_000: "100k"}


def torch_dcor2(x, y):
    """DisCo-style O(N^2) squared distance correlation in PyTorch (float32, unit weights)."""
    import torch

    def centred(v):
        m = torch.cdist(v[:, None], v[:, None]) if v.ndim == 1 else torch.cdist(v, v)
        m -= m.mean(0, keepdim=True)
        m -= m.mean(1, keepdim=True)  # grand mean already removed by the row step
        return m

    a = centred(x)
    b = centred(y)
    cov = (a * b).mean()
    vx = (a * a).mean()
    vy = (b * b).mean()
    return cov / torch.sqrt(vx * vy)


def _memory_bytes(fn, *args) -> int:
    ma = jax.jit(fn).lower(*args).compile().memory_analysis()
    return int(ma.argument_size_in_bytes + ma.output_size_in_bytes + ma.temp_size_in_bytes)


def _sample(n: int, seed: int, dim: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim) if dim > 1 else n)
    base = x[:, 0] if dim > 1 else x
    y = base**2 + rng.normal(size=n)
    return x.astype(np.float32), y.astype(np.float32)


def copy_study_metrics(path: Path, metrics: dict) -> str:
    """Copy the study's R50 figures from ``path`` into ``metrics``; return a note saying what was done.

    Keys: ``r50_undecorrelated``, ``inv_jsd_undecorrelated``, ``best_r50_at_inv_jsd_10_<method>``
    for each scanned method (None: no run reached 1/JSD >= 10), and ``..._mode``: the better of
    the MoDe orders.
    """
    if not path.is_file():
        return f"Study figures absent: {path} does not exist (run `hepjax run configs/decorrelation.yaml`)."
    res = json.loads(path.read_text())
    prefix = "best_r50_at_inv_jsd_10_"
    for key in ("r50_undecorrelated", "inv_jsd_undecorrelated"):
        metrics[key] = res.get(key)
    for key, val in res.items():
        if key.startswith(prefix):
            metrics[key] = val
    modes = [v for k, v in res.items() if k.startswith(prefix + "mode") and v is not None]
    if any(k.startswith(prefix + "mode") for k in res):
        metrics[prefix + "mode"] = max(modes) if modes else None
    return (
        f"Study figures copied from {path} (model {res.get('model')}, "
        f"{res.get('n_test_background')} test QCD jets); None: no λ reached 1/JSD >= 10."
    )


def run(*, quick: bool, study_metrics: str | Path | None = None) -> dict:
    """Time the JAX distance correlation against dcor and torch; ``study_metrics``: see the module docstring."""
    import dcor
    import torch

    sizes = (1024, 4096, 16384) if quick else (1024, 4096, 16384, 65536, 262144)
    metrics: dict = {}
    peer: dict = {}
    ratios: dict = {}
    max_diff = 0.0
    value = jax.jit(lambda x, y: distance_correlation(x, y))
    value_grad = jax.jit(jax.value_and_grad(lambda x, y: distance_correlation(x, y), argnums=(0, 1)))
    for n in sizes:
        tag = _NAMES[n]
        x, y = _sample(n, seed=n)
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        reps = 5 if n <= 16384 else 3
        t_val = time_call(lambda: value(xj, yj), repeats=reps)
        t_vg = time_call(lambda: value_grad(xj, yj), repeats=reps)
        x64, y64 = x.astype(np.float64), y.astype(np.float64)
        t_dcor = time_call(lambda: dcor.distance_correlation_sqr(x64, y64), repeats=reps)
        ref = float(dcor.distance_correlation_sqr(x64, y64))
        max_diff = max(max_diff, abs(float(value(xj, yj)) - ref))
        metrics[f"value_s_{tag}"] = t_val
        metrics[f"value_and_grad_s_{tag}"] = t_vg
        peer[f"dcor_value_s_{tag}"] = t_dcor
        ratios[f"speedup_vs_dcor_{tag}"] = t_dcor / t_val
        if n <= 16384:
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)
            with torch.no_grad():
                t_torch = time_call(lambda: torch_dcor2(xt, yt), repeats=3)
                max_diff = max(max_diff, abs(float(torch_dcor2(xt, yt)) - ref))
            peer[f"torch_value_s_{tag}"] = t_torch
            ratios[f"speedup_vs_torch_{tag}"] = t_torch / t_val

    # 3-D x at N = 4k: dense O(N^2) path vs dcor's O(N^2) path.
    x3, y3 = _sample(4096, seed=3, dim=3)
    x3j, y3j = jnp.asarray(x3), jnp.asarray(y3)
    t3 = time_call(lambda: value(x3j, y3j), repeats=5)
    t3_dcor = time_call(lambda: dcor.distance_correlation_sqr(x3.astype(np.float64), y3.astype(np.float64)), repeats=3)
    max_diff = max(
        max_diff, abs(float(value(x3j, y3j)) - dcor.distance_correlation_sqr(x3.astype(float), y3.astype(float)))
    )
    metrics["value_s_3d_4k"] = t3
    peer["dcor_value_s_3d_4k"] = t3_dcor
    ratios["speedup_vs_dcor_3d_4k"] = t3_dcor / t3

    # Peak memory (XLA compiled memory analysis) of dense vs tiled, value+gradient, 3-D x at 100k.
    n_mem = 100_000
    xs = jax.ShapeDtypeStruct((n_mem, 3), jnp.float32)
    ys = jax.ShapeDtypeStruct((n_mem,), jnp.float32)
    for method in ("dense", "tiled"):
        f = jax.value_and_grad(lambda a, b, m=method: distance_correlation(a, b, method=m))
        metrics[f"memory_bytes_{method}_value_and_grad_100k"] = _memory_bytes(f, xs, ys)
        g = lambda a, b, m=method: distance_correlation(a, b, method=m)
        metrics[f"memory_bytes_{method}_value_100k"] = _memory_bytes(g, xs, ys)
    if not quick:
        xl, yl = _sample(n_mem, seed=7, dim=3)
        metrics["tiled_value_s_3d_100k"] = time_call(
            lambda: distance_correlation(jnp.asarray(xl), jnp.asarray(yl), method="tiled"), repeats=1, warmup=1
        )
    metrics["max_abs_diff_vs_dcor"] = max_diff

    study_note = (
        copy_study_metrics(Path(study_metrics), metrics)
        if study_metrics is not None
        else "Study figures not included (pass study_metrics=PATH to the area's run)."
    )
    notes = (
        "float32 on the JAX side; dcor runs in float64 (its numba path). Memory: XLA compiled "
        "memory analysis (arguments + outputs + temporaries) of value and value+grad at N = 100k, 3-D x. " + study_note
    )
    return {"metrics": metrics, "peer": peer, "ratios": ratios, "notes": notes}
