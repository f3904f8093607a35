"""The ``hepjax`` command line.

    hepjax run CONFIG [key.sub=value ...]   run an experiment (CONFIG: a path or a config name)
    hepjax run CONFIG --print-config        print the resolved config as YAML and stop
    hepjax list                             shipped studies and configs
    hepjax bench AREA [--quick] --out F     write a benchmark JSON report
    hepjax --version

CONFIG is searched as given, then in ``./configs/``, then among the shipped configs (see
:mod:`hepjax.config.loader`). A :class:`hepjax.errors.HepjaxError` (bad input, a damaged file, a
missing extra) exits with status 2 and a one-line reason on stderr; any other exception is a bug and
prints its traceback (exit 1). ``-v`` (before or after the command) logs at INFO level and shows the
traceback of every error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback

# Keras 3 runs on JAX: importing hepjax (above any keras import) sets KERAS_BACKEND=jax when unset.
import hepjax  # noqa: F401  (for that side effect of the package, documented in hepjax/__init__.py)

# Modules that only the `bench` extra installs: their absence is a MissingExtraError, not a bug.
_BENCH_EXTRA_MODULES = frozenset({"torch", "torch_geometric", "zuko", "dcor", "pyunfold"})


def _cmd_run(args: argparse.Namespace) -> int:
    from hepjax.runner import experiment_module, load_config

    cfg = load_config(args.config, args.overrides)  # validate before touching devices
    if args.print_config:
        import yaml

        print(f"# {cfg.source}")
        print(yaml.safe_dump(cfg.to_dict(), sort_keys=False), end="")
        return 0
    from hepjax.runner import run_config
    from hepjax.runtime import configure_host, declared_runtime
    from hepjax.train import maybe_initialize_distributed

    configure_host(declared_runtime(experiment_module(cfg.experiment)))  # before JAX starts its backend
    maybe_initialize_distributed()
    workdir = run_config(cfg, argv=sys.argv)
    print(f"results: {workdir}")
    return 0


def _config_experiment(path) -> str:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        return "<invalid YAML>"
    return str(data.get("experiment", "?")) if isinstance(data, dict) else "<not a mapping>"


def _cmd_list(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hepjax.config.loader import shipped_config_dir
    from hepjax.runner import list_configs, list_experiments

    print("experiments:")
    for name in list_experiments():
        print(f"  {name}")
    print("configs:")
    for path in list_configs():
        print(f"  {Path(path.name).stem:<28} -> {_config_experiment(path):<20} ({path})")
    local = Path("configs")
    shipped = shipped_config_dir()
    if local.is_dir() and not (isinstance(shipped, Path) and local.resolve() == shipped.resolve()):
        print("configs in ./configs (searched before the shipped ones):")
        for path in sorted(local.glob("*.yaml")):
            print(f"  {path.stem:<28} -> {_config_experiment(path):<20} ({path})")
    return 0


def _bench_areas() -> list[str]:
    """The bench areas, found without importing hepjax.bench (which starts JAX) so that --help stays fast.

    The same rule as :func:`hepjax.bench.list_areas` (a test checks that both agree).
    """
    import importlib.util
    import pkgutil

    spec = importlib.util.find_spec("hepjax.bench")
    locations = spec.submodule_search_locations if spec else None
    return sorted(
        m.name
        for m in pkgutil.iter_modules(locations or [])
        if m.name != "harness" and not m.ispkg and not m.name.startswith("_")
    )


def _cmd_bench(args: argparse.Namespace) -> int:
    from hepjax.config import ConfigError
    from hepjax.errors import MissingExtraError

    areas = _bench_areas()
    if args.area not in areas:
        raise ConfigError(f"unknown bench area {args.area!r}; available: {', '.join(areas)}")
    from hepjax.bench import run_area

    try:
        report = run_area(args.area, quick=args.quick, out=args.out)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] in _BENCH_EXTRA_MODULES:
            raise MissingExtraError(err.name, "bench", f"hepjax bench {args.area}") from err
        raise
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


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from hepjax import __version__

    # -v is accepted before and after the command; SUPPRESS keeps a subcommand from resetting the flag
    # given before it.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log at INFO level, show tracebacks"
    )

    p = argparse.ArgumentParser(prog="hepjax", description="Differentiable collider physics in JAX.", parents=[verbose])
    p.add_argument("--version", action="version", version=f"hepjax {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser(
        "run",
        parents=[verbose],
        help="run an experiment from a YAML config",
        description="Run an experiment. CONFIG is a YAML path or a config name, searched as given, then in "
        "./configs/, then among the configs shipped with hepjax (`hepjax list`); overrides look like "
        "train.steps=100 signal.n_events=500.",
    )
    r.add_argument("config")
    r.add_argument("overrides", nargs="*", metavar="key.sub=value")
    r.add_argument(
        "--print-config", action="store_true", help="print the resolved config (with overrides) as YAML and exit"
    )
    r.set_defaults(func=_cmd_run)

    ls = sub.add_parser(
        "list", parents=[verbose], help="list experiments and configs", description="List experiments and configs."
    )
    ls.set_defaults(func=_cmd_list)

    b = sub.add_parser(
        "bench",
        parents=[verbose],
        help="run a benchmark area and write a JSON report",
        description="Benchmark an area against its peer in the same run; write JSON. "
        f"Areas: {', '.join(_bench_areas())}.",
    )
    b.add_argument("area", help=f"one of: {', '.join(_bench_areas())}")
    b.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    b.add_argument("--out", required=True, help="output JSON file")
    b.set_defaults(func=_cmd_bench)

    e = sub.add_parser(
        "export-hls",
        parents=[verbose],
        help="export a trained trigger model to an hls4ml project",
        description="Export a checkpointed trigger model to hls4ml, C-simulate it and report agreement.",
    )
    e.add_argument("checkpoint", help="run folder or its checkpoints/ folder")
    e.add_argument("--out", required=True, help="hls4ml project folder")
    e.add_argument("--backend", default="Vitis")
    e.add_argument("--reuse-factor", type=_positive_int, default=1)
    e.add_argument("--io", choices=("parallel", "stream"), default="parallel")
    e.set_defaults(func=_cmd_export_hls)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # argparse fills a nargs="*" positional only once: overrides after an option (run demo -v train.steps=3)
    # come back unrecognised, and are overrides all the same.
    args, rest = parser.parse_known_args(argv)
    if rest and getattr(args, "command", None) == "run" and not any(a.startswith("-") for a in rest):
        args.overrides = [*args.overrides, *rest]
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from hepjax.errors import HepjaxError

    try:
        return args.func(args)
    except HepjaxError as err:  # the user's input or environment: one line says what to fix
        if verbose:
            traceback.print_exc()
        print(f"hepjax: error: {_first_line(err)}", file=sys.stderr)
        return 2
    except FloatingPointError as err:  # the trainer's NaN guard
        if verbose:
            traceback.print_exc()
        print(f"hepjax: training stopped: {_first_line(err)}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("hepjax: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: keep the whole traceback for the report
        traceback.print_exc()
        print(f"hepjax: internal error ({type(err).__name__}); the traceback above locates it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
