"""The ``hepjax`` command line.

    hepjax run CONFIG [key.sub=value ...]   run an experiment (CONFIG: path or name in configs/)
    hepjax list                             experiments and configs
    hepjax bench AREA [--quick] --out F     write a benchmark JSON report
    hepjax --version

Bad input exits with status 2 and a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

# Keras 3 must run on JAX (no TensorFlow anywhere); set before anything imports keras.
os.environ.setdefault("KERAS_BACKEND", "jax")


def _cmd_run(args: argparse.Namespace) -> int:
    from hepjax.config import experiment_module, load_config
    from hepjax.runner import run_config
    from hepjax.runtime import configure_host, declared_runtime
    from hepjax.train import maybe_initialize_distributed

    cfg = load_config(args.config, args.overrides)  # validate before touching devices
    configure_host(declared_runtime(experiment_module(cfg.experiment)))  # before JAX starts its backend
    maybe_initialize_distributed()
    workdir = run_config(cfg, argv=sys.argv)
    print(f"results: {workdir}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    import yaml

    from hepjax.runner import list_configs, list_experiments

    print("experiments:")
    for name in list_experiments():
        print(f"  {name}")
    print("configs:")
    for path in list_configs():
        try:
            exp = (yaml.safe_load(path.read_text()) or {}).get("experiment", "?")
        except yaml.YAMLError:
            exp = "<invalid YAML>"
        print(f"  {path.stem:<28} -> experiments/{exp}.py   ({path})")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from hepjax.bench import run_area

    report = run_area(args.area, quick=args.quick, out=args.out)
    print(json.dumps({k: report[k] for k in ("area", "metrics", "ratios")}, indent=2, default=float))
    print(f"report: {args.out}")
    return 0


def _cmd_export_hls(args: argparse.Namespace) -> int:
    from hepjax.hls.export import export_checkpoint  # provided by the FPGA trigger path

    report = export_checkpoint(
        args.checkpoint, args.out, backend=args.backend, reuse_factor=args.reuse_factor, io_type=args.io
    )
    print(json.dumps(report.get("agreement", report), indent=2, default=float))
    print(f"project: {args.out}")
    return 0


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def build_parser() -> argparse.ArgumentParser:
    from hepjax import __version__

    p = argparse.ArgumentParser(prog="hepjax", description="Differentiable collider physics in JAX.")
    p.add_argument("--version", action="version", version=f"hepjax {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser(
        "run",
        help="run an experiment from a YAML config",
        description="Run an experiment. CONFIG is a YAML path or a name in configs/; "
        "overrides look like train.steps=100 data.n_events=500.",
    )
    r.add_argument("config")
    r.add_argument("overrides", nargs="*", metavar="key.sub=value")
    r.set_defaults(func=_cmd_run)

    ls = sub.add_parser("list", help="list experiments and configs", description="List experiments and configs.")
    ls.set_defaults(func=_cmd_list)

    b = sub.add_parser(
        "bench",
        help="run a benchmark area and write a JSON report",
        description="Benchmark an area against its peer in the same run; write JSON.",
    )
    b.add_argument("area")
    b.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    b.add_argument("--out", required=True, help="output JSON file")
    b.set_defaults(func=_cmd_bench)

    e = sub.add_parser(
        "export-hls",
        help="export a trained trigger model to an hls4ml project",
        description="Export a checkpointed trigger model to hls4ml, C-simulate it and report agreement.",
    )
    e.add_argument("checkpoint", help="run folder or its checkpoints/ folder")
    e.add_argument("--out", required=True, help="hls4ml project folder")
    e.add_argument("--backend", default="Vitis")
    e.add_argument("--reuse-factor", type=int, default=1)
    e.add_argument("--io", choices=("parallel", "stream"), default="parallel")
    e.set_defaults(func=_cmd_export_hls)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from hepjax.config import ConfigError

    try:
        return args.func(args)
    except (ConfigError, ValueError, FileNotFoundError) as err:
        print(f"hepjax: error: {_first_line(err)}", file=sys.stderr)
        return 2
    except FloatingPointError as err:  # the trainer's NaN guard
        print(f"hepjax: training stopped: {_first_line(err)}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("hepjax: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
