"""Export a trained trigger model to an hls4ml project, C-simulate it and check it against JAX.

:func:`export_model` bridges the Flax model to Keras, writes the hls4ml project with the
matching precisions (:func:`hepjax.hls.config.hls4ml_config`), compiles the C simulation (g++,
a few seconds) with per-layer tracing, runs it on a validation set and compares every layer
whose output has an ``ap_fixed`` type **bit for bit** (integer codes) with the JAX model's own
layer outputs, plus max |diff| and argmax agreement of the final output. It writes
``hepjax_report.json`` into the project.

:func:`export_checkpoint` (``hepjax export-hls RUN --out DIR``) does the same from a run folder
that holds ``checkpoints/`` (written by :func:`hepjax.train.fit`), ``hls_export.json``
(:func:`save_export_spec`: model class and arguments, input shape) and ``validation.npz``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from hepjax.errors import CheckpointError

SPEC_FILE = "hls_export.json"
VALIDATION_FILE = "validation.npz"
REPORT_FILE = "hepjax_report.json"


def save_export_spec(
    workdir: str | Path,
    module,
    input_shape: tuple[int, ...],
    x_val: np.ndarray,
    *,
    y_val: np.ndarray | None = None,
    params_path: tuple[str, ...] = (),
    default_precision: str = "ap_fixed<16,6>",
    note: str = "",
) -> Path:
    """Write what :func:`export_checkpoint` needs beside ``workdir/checkpoints``."""
    from hepjax.hls.models import module_spec

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    spec = {
        "module": module_spec(module),
        "input_shape": list(input_shape),
        "params_path": list(params_path),
        "default_precision": default_precision,
        "validation": VALIDATION_FILE,
        "note": note,
    }
    (workdir / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    arrays = {"x": np.asarray(x_val, np.float32)}
    if y_val is not None:
        arrays["y"] = np.asarray(y_val)
    np.savez_compressed(workdir / VALIDATION_FILE, **arrays)
    return workdir / SPEC_FILE


def _run_dir(checkpoint: str | Path) -> Path:
    p = Path(checkpoint)
    if not p.exists():
        raise CheckpointError(f"{p}: no such run folder")
    run = p.parent if p.name == "checkpoints" else p
    if not (run / SPEC_FILE).is_file():
        inside = sorted(d for d in run.iterdir() if (d / SPEC_FILE).is_file()) if run.is_dir() else []
        if len(inside) == 1:  # a run whose one exportable model sits in a sub-folder
            run = inside[0]
        elif inside:
            names = ", ".join(str(d) for d in inside)
            raise CheckpointError(f"{run} holds {len(inside)} exportable models ({names}); pass one of them")
        else:
            raise CheckpointError(
                f"{run / SPEC_FILE} not found: export needs a run written by a hepjax trigger experiment"
            )
    if not (run / "checkpoints").is_dir():
        raise CheckpointError(f"{run / 'checkpoints'} not found")
    return run


def _subtree(params: Any, path: list[str]) -> Any:
    for k in path:
        params = params[k]
    return params


def export_checkpoint(
    checkpoint: str | Path, out: str | Path, *, backend: str = "Vitis", reuse_factor: int = 1, io_type: str = "parallel"
) -> dict:
    """Export the run at ``checkpoint`` (its folder or ``checkpoints/``) into the hls4ml project ``out``.

    Returns the report dict (also written to ``out/hepjax_report.json``); ``report["agreement"]``
    holds the bit mismatches, max |diff| and argmax agreement on the run's validation set.
    """
    from hepjax.hls.models import build_module
    from hepjax.train import load_params

    run = _run_dir(checkpoint)
    spec = json.loads((run / SPEC_FILE).read_text())
    module = build_module(spec["module"])
    params, meta = load_params(run / "checkpoints")
    variables = {"params": _subtree(params, spec.get("params_path", []))}
    with np.load(run / spec.get("validation", VALIDATION_FILE)) as f:
        x_val = f["x"]
        y_val = f["y"] if "y" in f else None
    report = export_model(
        module,
        variables,
        tuple(spec["input_shape"]),
        x_val,
        out,
        y_val=y_val,
        backend=backend,
        reuse_factor=reuse_factor,
        io_type=io_type,
        default_precision=spec.get("default_precision", "ap_fixed<16,6>"),
    )
    report["checkpoint"] = {"run": str(run), "step": meta.get("step")}
    Path(out, REPORT_FILE).write_text(json.dumps(report, indent=2, default=_json) + "\n")
    return report


def _json(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def export_model(
    module,
    variables: Any,
    input_shape: tuple[int, ...],
    x_val: np.ndarray,
    out: str | Path,
    *,
    y_val: np.ndarray | None = None,
    backend: str = "Vitis",
    reuse_factor: int = 1,
    io_type: str = "parallel",
    default_precision: str = "ap_fixed<16,6>",
    apply_kwargs: dict | None = None,
    converter: str = "interception",
) -> dict:
    """Bridge, write, compile and C-simulate ``module``; compare with JAX on ``x_val [n, *input_shape]``.

    ``converter``: ``"interception"`` (:func:`hepjax.hls.to_keras`, Flax linen modules built from
    supported layers) or ``"traced"`` (:func:`hepjax.hls.jaxpr_convert.to_keras_traced`, any model
    whose jaxpr it reads: bare functions between layers, NNX modules, functions ``f(params, x)``).

    Returns a report with ``agreement`` (``bit_mismatches``: validation inputs where any
    fixed-point layer output differs in any bit, ``None`` for a float model; ``argmax_agreement``;
    ``max_abs_diff``), per-layer multiplications / non-zero weights / precisions, timings and the
    synthesis command.
    """
    import hls4ml

    from hepjax.hls.bridge import bridge_info, layer_outputs, to_keras
    from hepjax.hls.config import hls4ml_config
    from hepjax.hls.jaxpr_convert import to_keras_traced, traced_layer_outputs

    converters = {"interception": (to_keras, layer_outputs), "traced": (to_keras_traced, traced_layer_outputs)}
    if converter not in converters:
        raise ValueError(f"converter must be one of {sorted(converters)}, got {converter!r}")
    to_keras, layer_outputs = converters[converter]

    if io_type not in ("parallel", "stream"):
        raise ValueError(f"io_type must be 'parallel' or 'stream', got {io_type!r}")
    known = hls4ml.backends.get_available_backends()
    if backend.lower() not in known:
        raise ValueError(f"unknown hls4ml backend {backend!r}; hls4ml {hls4ml.__version__} has: {', '.join(known)}")
    if reuse_factor < 1:
        raise ValueError(f"reuse_factor must be >= 1, got {reuse_factor}")
    x_val = np.asarray(x_val, np.float32)
    if x_val.shape[1:] != tuple(input_shape):
        raise ValueError(f"validation inputs have shape {x_val.shape[1:]}, the model expects {tuple(input_shape)}")
    if not np.all(np.isfinite(x_val)):
        raise ValueError("validation inputs contain NaN or infinite values")
    apply_kwargs = apply_kwargs or {}
    out = Path(out)
    t0 = time.perf_counter()
    kmodel = to_keras(module, variables, tuple(input_shape), **apply_kwargs)
    info = bridge_info(kmodel)
    cfg = hls4ml_config(kmodel, default_precision=default_precision, reuse_factor=reuse_factor, backend=backend)
    t1 = time.perf_counter()
    hmodel = hls4ml.converters.convert_from_keras_model(
        kmodel, hls_config=cfg, output_dir=str(out), backend=backend, io_type=f"io_{io_type}", project_name="myproject"
    )
    hmodel.write()
    t2 = time.perf_counter()
    pred, trace = hmodel.trace(x_val.astype(np.float64))  # compiles the C simulation with tracing
    t3 = time.perf_counter()
    jax_layers = layer_outputs(module, variables, x_val, **apply_kwargs)
    t4 = time.perf_counter()

    n = len(x_val)
    bad_any = np.zeros(n, bool)
    per_layer = {}
    for name, spec in info.specs.items():
        node = info.node_of.get(name)
        if spec is None or name not in trace or node not in jax_layers:
            continue
        ref = jax_layers[node].astype(np.float64).reshape(n, -1)
        sim = np.asarray(trace[name], np.float64).reshape(n, -1)
        bad = np.any(ref != sim, axis=1)  # equal values <=> equal integer codes on the same grid
        per_layer[name] = int(bad.sum())
        bad_any |= bad
    out_name = info.output_names[0]
    ref_out = jax_layers[info.node_of[out_name]].reshape(n, -1)
    sim_out = np.asarray(pred, np.float64).reshape(n, -1)
    agreement = {
        "n_inputs": n,
        "bit_mismatches": int(bad_any.sum()) if per_layer else None,
        "bit_exact_layers": sorted(per_layer),
        "per_layer_mismatches": per_layer,
        "max_abs_diff": float(np.max(np.abs(ref_out - sim_out))),
        "argmax_agreement": float(np.mean(ref_out.argmax(1) == sim_out.argmax(1))) if ref_out.shape[1] > 1 else None,
        "output_layer": out_name,
        "output_is_fixed_point": info.specs.get(out_name) is not None,
    }
    if y_val is not None and ref_out.shape[1] > 1 and np.asarray(y_val).ndim == 1:
        agreement["accuracy_jax"] = float(np.mean(ref_out.argmax(1) == y_val))
        agreement["accuracy_csim"] = float(np.mean(sim_out.argmax(1) == y_val))

    layers = _layer_report(kmodel, hmodel)
    synth = (
        f'cd {out} && vitis_hls -f build_prj.tcl "reset=1 synth=1 csim=0 cosim=0 validation=0 export=0 vsynth=0"   '
        f"# or in Python: hls4ml.converters.convert_from_keras_model(...).build(csim=False, synth=True)"
        if backend.lower().startswith("vitis")
        else f'cd {out} && vivado_hls -f build_prj.tcl "synth=1"'
    )
    report = {
        "project": str(out),
        "backend": backend,
        "io_type": f"io_{io_type}",
        "reuse_factor": reuse_factor,
        "default_precision": default_precision,
        "agreement": agreement,
        "n_params": int(sum(l["n_weights"] + l["n_biases"] for l in layers)),
        "multiplications": int(sum(l["multiplications"] for l in layers)),
        "bops": int(sum(l["bops"] or 0 for l in layers)),
        "multipliers": int(sum(l["multipliers"] for l in layers)),
        "layers": layers,
        "timing_s": {
            "bridge_and_config": t1 - t0,
            "hls4ml_write": t2 - t1,
            "csim_compile_and_run": t3 - t2,
            "jax_reference": t4 - t3,
        },
        "synthesis_command": synth,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2, default=_json) + "\n")
    return report


def _bits(variable) -> int | None:
    """Total bits of an hls4ml variable's fixed-point type (None for a type without a width)."""
    return getattr(getattr(getattr(variable, "type", None), "precision", None), "width", None)


def _layer_report(kmodel, hmodel) -> list[dict]:
    """Per hls4ml layer: class, precisions, weights, non-zero weights, multiplications per inference, the size
    proxies that need no vendor tools: bit operations (``bops`` = multiplications × weight bits × input bits, the
    QKeras / HGQ convention for fixed-point products) and the multipliers instantiated (``multipliers`` =
    ⌈non-zero weights / reuse factor⌉: hls4ml shares each multiplier over ``reuse_factor`` products)."""
    rows = []
    for layer in hmodel.get_layers():
        row = {
            "name": layer.name,
            "class": type(layer).__name__.replace("Vitis", "").replace("Vivado", ""),
            "precision": {k: str(v.precision) for k, v in layer.types.items() if k != "index_t"},
            "n_weights": 0,
            "n_biases": 0,
            "nonzero_weights": 0,
            "multiplications": 0,
            "bops": 0,
            "multipliers": 0,
        }
        weights = getattr(layer, "weights", {}) or {}
        if "weight" in weights:
            w = np.asarray(weights["weight"].data)
            row["n_weights"] = int(w.size)
            row["nonzero_weights"] = int(np.count_nonzero(w))
            out_shape = layer.get_output_variable().shape
            positions = int(np.prod(out_shape[:-1])) if len(out_shape) > 1 else 1
            row["multiplications"] = int(np.count_nonzero(w)) * positions  # hls4ml drops zero weights
            w_bits, a_bits = _bits(weights["weight"]), _bits(layer.get_input_variable())
            row["bops"] = row["multiplications"] * w_bits * a_bits if w_bits and a_bits else None
            reuse = int(layer.get_attr("reuse_factor", 1) or 1)
            row["multipliers"] = -(-row["nonzero_weights"] // reuse)
        if "bias" in weights and weights["bias"] is not None:
            row["n_biases"] = int(np.asarray(weights["bias"].data).size)
        rows.append(row)
    return rows
