"""The command line: ``python -m rnn_core tasks | train | eval | predict | bench | sweep``.

Progress goes to stderr; the last line on stdout is one JSON object (a list for ``tasks``). Bad
arguments print one line ``error: ...`` and exit with status 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from .config import CELLS, OPTIMIZERS, ModelConfig, TrainConfig
from .sweep.backend import RAY_ADDRESS_ENV as RAY_ENV


class CliError(Exception):
    """An error to report in one line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise CliError(message)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _emit(obj: Any) -> None:
    """The result as one line of strict JSON: NaN and ±inf become null (never a bare NaN)."""
    print(json.dumps(_strict(obj), allow_nan=False))


def _strict(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    return str(obj)


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip().isidentifier():
        raise CliError(f"--option takes key=value with a plain key (e.g. maxlen=200), not {text[:60]!r}")
    try:
        return key.strip(), json.loads(value)
    except (ValueError, RecursionError):
        return key.strip(), value


def _one_line(exc: BaseException) -> str:
    text = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc) or type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= 1000 else text[:997] + "..."  # room for a download error's what-to-do


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m rnn_core", description="Unrolled's recurrent core")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("tasks", help="list tasks and their presets")

    t = sub.add_parser("train", help="train a model and save the run")
    t.add_argument("--task", required=True)
    t.add_argument("--preset", default=None, help="a preset name (default: the task's default preset)")
    t.add_argument("--cell", choices=CELLS)
    t.add_argument("--hidden", type=int, dest="hidden_size")
    t.add_argument("--layers", type=int, dest="num_layers")
    t.add_argument("--embed-dim", type=int, dest="embed_dim")
    t.add_argument("--bidirectional", action="store_true", default=None)
    t.add_argument("--dropout", type=float)
    t.add_argument("--input-dropout", type=float, dest="input_dropout", help="dropout on the embedded input")
    t.add_argument("--init", choices=("keras", "torch"))
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int, dest="batch_size")
    t.add_argument("--lr", type=float)
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--clip", type=float, dest="clip_grad")
    t.add_argument("--weight-decay", type=float, dest="weight_decay")
    t.add_argument("--val-fraction", type=float, dest="val_fraction", help="share of train held out as validation")
    t.add_argument("--no-bucket", action="store_false", default=None, dest="bucket",
                   help="batch reviews in random order (padded to each batch's longest) instead of by length")
    t.add_argument("--bucket-pool", type=int, dest="bucket_pool",
                   help="sort lengths within pools of this many batches (default 50; smaller mixes more)")
    t.add_argument("--keep-best", action="store_true", default=None, dest="keep_best",
                   help="end with the weights of the epoch that did best on validation")
    t.add_argument("--seed", type=int)
    t.add_argument("--limit", type=int, help="use at most N training examples")
    t.add_argument("--device", choices=("auto", "cpu", "cuda"))
    t.add_argument(
        "--option", action="append", default=[], type=_option, help="task option key=value (e.g. maxlen=200)"
    )
    t.add_argument("--data-dir", dest="data_dir")
    t.add_argument("--out", help="run directory to write (default: a new folder in UNROLLED_RUNS_DIR)")
    t.add_argument("--name", help="run name (a folder in the runs directory)")

    e = sub.add_parser("eval", help="evaluate a saved run")
    e.add_argument("run")
    e.add_argument("--split", choices=("val", "test", "train"), default="val")
    e.add_argument("--limit", type=int, default=0)
    e.add_argument("--data-dir", dest="data_dir")

    r = sub.add_parser("predict", help="run a saved model on one input")
    r.add_argument("run")
    r.add_argument("input", help="text, letters, or numbers (JSON list or comma/space separated)")

    b = sub.add_parser("bench", help="speed of fit vs a bare loop, and of the replay")
    b.add_argument("--quick", action="store_true", help="a short smoke run")
    b.add_argument("--init", nargs="*", metavar="TASK", help="compare keras and torch initialisation on these tasks")
    b.add_argument("--seeds", type=int, default=3)
    b.add_argument("--bucketing", action="store_true", help="IMDB seed model: epoch time bucketed vs fixed 500 steps")
    b.add_argument("--limit", type=int, default=0, help="with --bucketing: use at most N training reviews")
    b.add_argument("--data-dir", dest="data_dir")
    b.add_argument("--sweep", action="store_true", help="a 9-run letters sweep: local backend vs the same runs in turn")
    b.add_argument("--ray", action="store_true", help="with --sweep: also time the ray backend (local instance)")

    bl = sub.add_parser("baseline", help="TF-IDF + logistic regression test accuracy (the bar an RNN should clear)")
    bl.add_argument("--task", default="imdb", choices=("imdb",), help="the task to score (only imdb has a baseline)")
    bl.add_argument("--recompute", action="store_true", help="fit again instead of reading the cached result")
    bl.add_argument("--download", action="store_true", help="download the dataset when it is missing")
    bl.add_argument("--data-dir", dest="data_dir")

    s = sub.add_parser("sweep", help="train a grid of runs over seeds; mean and spread per grid point")
    s.add_argument("--task", required=True)
    s.add_argument("--preset", default=None, help="a preset name (default: the task's default preset)")
    s.add_argument("--grid", nargs="+", action="extend", default=[], metavar="KEY=V1,V2",
                   help="values to try: config fields (cell, hidden, lr, epochs, ...) or task options (maxlen, ...)")
    s.add_argument("--seeds", default="0", help="seeds for every grid point: 0,1,2 or 0-4 (default 0)")
    s.add_argument("--backend", choices=("local", "ray"), default=None,
                   help=f"local process pool (default) or a Ray cluster (default when ${RAY_ENV} is set)")
    s.add_argument("--address", help=f"Ray cluster address (default ${RAY_ENV}; none: a local Ray instance)")
    s.add_argument("--workers", type=int, help="runs at once (local: at most one per core, the default)")
    s.add_argument("--data-dir", dest="data_dir", help="datasets folder for local workers (Ray workers use their own)")
    s.add_argument("--out", help="the sweep's folder (default: a new folder in UNROLLED_RUNS_DIR)")
    return p


def train_aliases(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The train command's flag names → config field names (``hidden`` → ``hidden_size``), for grid keys."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    train = sub.choices["train"]
    return {o.lstrip("-").replace("-", "_"): a.dest for a in train._actions for o in a.option_strings
            if o.startswith("--")}


def cmd_tasks(_args) -> Any:
    from .tasks import list_tasks

    tasks = list_tasks()
    for t in tasks:
        _log(f"{t['name']:<10} {t['kind']:<9} presets: {', '.join(t['presets'])}")
    return tasks


def cmd_train(args) -> Any:
    from .model import build_model
    from .probe import recorder_for_run
    from .progress import TqdmProgress
    from .runs import save_run
    from .runs.keeping import check_run_target, checkpoint_for, clean_leftovers
    from .summary import check_params
    from .tasks import get_task
    from .train import add_test_metrics, fit, resolve_device

    task_cls_opts = dict(args.option)
    task = get_task(args.task)
    preset = args.preset or task.default_preset
    if preset not in task.presets:
        raise CliError(f"task {args.task!r} has no preset {preset!r}; presets: {', '.join(task.presets)}")
    task = get_task(args.task, **{**task.presets[preset].task, **task_cls_opts})
    # Every train flag's dest is a ModelConfig / TrainConfig field name: pass those that were given.
    fields = set(ModelConfig.__dataclass_fields__) | set(TrainConfig.__dataclass_fields__)
    overrides = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    mcfg, tcfg = task.configs(preset, **overrides)
    check_params(mcfg)  # the Train page's cap, before anything is built
    resolve_device(tcfg.device)  # "cuda" without a GPU is refused now
    root, name = _target(args)
    check_run_target(name, root)  # a bad name or folder is refused now, not after training
    for note in clean_leftovers(root):
        _log(note)
    _log(
        f"train {task.name} [{preset}]: {mcfg.cell} hidden {mcfg.hidden_size} x{mcfg.num_layers}"
        f"{' bidirectional' if mcfg.bidirectional else ''}, {tcfg.optimizer} lr {tcfg.lr:g}, batch {tcfg.batch_size}, "
        f"{tcfg.epochs} epochs, seed {tcfg.seed}"
    )
    start = time.perf_counter()
    splits = task.load(data_dir=args.data_dir, limit=tcfg.limit, seed=tcfg.seed)
    _log(
        (f"data ({task.data_label()}): " if task.data_label() else "data: ") + f"{len(splits.train)} train, "
        f"{len(splits.val)} val"
        f"{f', {len(splits.test)} test' if splits.test is not None else ''} ({time.perf_counter() - start:.1f}s)"
    )
    mcfg = task.fit_to_data(mcfg)
    model = build_model(mcfg, seed=tcfg.seed)
    probe = recorder_for_run(task, splits, tcfg.epochs)  # lets the Inside page replay how the gates learned
    keep = checkpoint_for(task, tcfg, probe, root=root, name=name, preset=preset)  # saved at every epoch's end
    hist = fit(model, task, tcfg, callbacks=[TqdmProgress(), probe, keep], splits=splits)
    if hist.message:
        _log(hist.message)
    add_test_metrics(model, task, splits, hist)
    metrics = dict(hist.final_metrics())
    path = save_run(model, task, tcfg, hist, name=keep.name, root=root, preset=preset, probe=probe.for_save(),
                    overwrite=keep.saved is not None)  # replaces the epoch-end save of the same run
    _log(f"saved {path}")
    return {
        "run": str(path),
        "task": task.name,
        "epochs": len(hist.epochs),
        "seconds": hist.seconds,
        "tokens_per_s": hist.tokens_per_s,
        "metrics": metrics,
        **({"data": task.data_label()} if task.data_label() else {}),  # which data the metrics are measured on
    }


def _target(args) -> tuple[Path | None, str | None]:
    """(runs folder, run name) that ``train`` saves to: ``--out DIR`` names the run folder itself."""
    if args.out is None:
        return None, args.name
    if not args.out.strip():
        raise CliError("--out needs a folder path (or leave it out to save in the runs folder)")
    out = Path(args.out).expanduser().absolute()
    if out.name in ("", ".", ".."):
        raise CliError(f"--out {args.out[:80]!r} does not end in a run folder's name")
    return out.parent, out.name


def cmd_eval(args) -> Any:
    from .runs import load_run
    from .train import evaluate

    if args.limit < 0:
        raise CliError(f"--limit must be 0 (every example) or a positive number, not {args.limit}")
    run = load_run(args.run)
    splits = run.task.load(data_dir=args.data_dir, limit=0, seed=run.train_cfg.seed)
    data = {"train": splits.train, "val": splits.val, "test": splits.test}[args.split]
    if data is None:
        raise CliError(f"task {run.task.name!r} has no {args.split} split")
    if args.limit and args.limit < len(data):
        data = data.subset(slice(0, args.limit))
    return evaluate(run.model, run.task, data)


def cmd_predict(args) -> Any:
    from .predict import predict
    from .runs import load_run

    run = load_run(args.run)
    user_input: Any = args.input
    if run.task.kind == "regress" and args.input.lstrip().startswith("["):
        try:
            user_input = json.loads(args.input)
        except (ValueError, RecursionError):
            raise CliError("give the curve as a JSON list of numbers, e.g. [0, 0.5, 0.87, 1]") from None
    return predict(run.model, run.task, user_input)  # the task's encode refuses what it can't read


def cmd_bench(args) -> Any:
    from .bench import bench_bucketing, bench_init, run_bench
    from .tasks import available

    if args.seeds < 1:
        raise CliError(f"--seeds must be at least 1, not {args.seeds}")
    if args.limit < 0:
        raise CliError(f"--limit must be 0 (every review) or a positive number, not {args.limit}")
    unknown = [t for t in args.init or () if t not in available()]
    if unknown:
        raise CliError(f"--init: no task {unknown[0]!r}; tasks: {', '.join(available())}")
    if args.sweep:
        from .sweep.bench import bench_sweep

        return bench_sweep(ray=args.ray, log=_log, quick=args.quick)
    if args.bucketing:
        return bench_bucketing(data_dir=args.data_dir, limit=args.limit, log=_log)
    if args.init is not None:
        return bench_init(tuple(args.init) or ("letters", "sine"), seeds=args.seeds, data_dir=args.data_dir, log=_log)
    return run_bench(quick=args.quick, log=_log)


def cmd_baseline(args) -> Any:
    from .baseline import baseline_accuracy

    return baseline_accuracy(args.data_dir, download_ok=args.download, recompute=args.recompute)


def cmd_sweep(args) -> Any:
    from .sweep import SweepSpec, parse_grid, parse_seeds, run_sweep, summarize
    from .sweep.progress import SweepLog

    if args.workers is not None and args.workers < 1:
        raise CliError("--workers must be at least 1")
    spec = SweepSpec(task=args.task, preset=args.preset, grid=parse_grid(args.grid, train_aliases(build_parser())),
                     seeds=tuple(parse_seeds(args.seeds)))
    address = args.address or os.environ.get(RAY_ENV) or None
    backend = args.backend or ("ray" if address else "local")
    root, name = None, None
    if args.out:
        out = Path(args.out).expanduser().resolve()
        root, name = out.parent, out.name
    start = time.perf_counter()
    folder = run_sweep(spec, on_event=SweepLog(_log), backend=backend, workers=args.workers, root=root,
                       name=name, data_dir=args.data_dir, address=address)
    failed = sum(r["state"] not in ("finished",) for r in folder.runs)
    return {
        "sweep": str(folder.path), "task": spec.task, "preset": spec.preset_name, "grid": spec.grid,
        "seeds": list(spec.seeds), "backend": backend, "workers": folder.spec.get("workers"),
        "state": folder.state, "seconds": round(time.perf_counter() - start, 2), "runs": len(folder.runs),
        "failed": failed, "points": summarize(folder),
    }


COMMANDS = {"tasks": cmd_tasks, "train": cmd_train, "eval": cmd_eval, "predict": cmd_predict, "bench": cmd_bench,
            "baseline": cmd_baseline, "sweep": cmd_sweep}


def main(argv: list[str] | None = None) -> int:
    def run() -> None:
        args = build_parser().parse_args(argv)
        _emit(COMMANDS[args.command](args))

    return guarded(run)


def guarded(run: Callable[[], object]) -> int:
    """Call ``run`` as a command-line entry point: 0 when it returns; on an error, one line on stderr saying what
    went wrong and exit code 2 (130 on Ctrl-C), never a traceback."""
    try:
        run()
        return 0
    except (CliError, ValueError, KeyError, FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {_one_line(exc)} (unexpected; check the arguments)", file=sys.stderr)
        return 2
