"""A sweep's folder inside the runs dir: its runs as ordinary run folders, and ``sweep.json`` (the spec and
each run's state and message, rewritten atomically whenever a run ends) so a killed sweep still reads."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from safetensors.torch import load as safetensors_load

from ..config import ModelConfig, TrainConfig
from ..model import build_model
from ..runs import RunError, read_json, read_run_config, runs_dir, safe_name, safe_run_dir, save_run
from ..runs.checks import summary_fields
from ..runs.files import SWEEP_FILE, write_json
from ..tasks import get_task
from ..train import History
from .spec import RunSpec, SweepSpec

FORMAT = 1
RUN_STATES = ("pending", "running", "finished", "stopped", "diverged", "failed", "cancelled")
DONE_STATES = ("finished", "stopped", "diverged", "failed", "cancelled")


def is_sweep(path: Path) -> bool:
    return (path / SWEEP_FILE).is_file()


@dataclass
class SweepFolder:
    """The folder of one sweep and its record; ``runs[i]`` is the record of run i (a plain dict)."""

    path: Path
    spec: dict[str, Any]
    runs: list[dict[str, Any]]
    state: str = "running"
    created: str = field(default_factory=lambda: datetime.now().astimezone().isoformat(timespec="seconds"))

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def create(cls, spec: SweepSpec, runs: list[RunSpec], name: str | None = None,
               root: str | Path | None = None) -> SweepFolder:
        """Make a new sweep folder in ``root`` (default the runs dir); refuses a name that exists."""
        base = runs_dir() if root is None else Path(root).expanduser().resolve()
        base.mkdir(parents=True, exist_ok=True)
        stem = safe_name(name or f"sweep-{spec.task}-{time.strftime('%Y%m%d-%H%M%S')}")
        for n in range(1, 1000):
            path = safe_run_dir(stem if n == 1 else f"{stem}-{n}", base)
            if name is not None and path.exists():
                raise ValueError(f"{path.name!r} already exists in {base}; choose another sweep name")
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise ValueError(f"too many sweeps named {stem!r}; choose another name")
        records = [{"index": r.index, "name": r.name, "point": r.point, "seed": r.seed, "state": "pending",
                    "message": None, "final_metrics": {}, "seconds": None} for r in runs]
        folder = cls(path=path, spec=spec.to_dict(), runs=records)
        folder.write()
        return folder

    def write(self) -> None:
        # pid and host let a reader tell a sweep still running from one whose process was killed.
        write_json({"format": FORMAT, "kind": "sweep", "name": self.name, "created": self.created,
                    "state": self.state, "pid": os.getpid(), "host": socket.gethostname(), "spec": self.spec,
                    "runs": self.runs}, self.path / SWEEP_FILE, "the sweep")

    def set_run(self, index: int, **changes: Any) -> None:
        self.runs[index].update(changes)

    def save_payload(self, run: RunSpec, payload: dict[str, Any], sweep_name: str | None = None) -> Path:
        """Save a worker's finished run as an ordinary run folder inside this sweep's folder (atomically,
        through ``save_run``): weights from safetensors bytes, never unpickled."""
        mcfg = ModelConfig.from_dict(payload["model"]).validate()
        tcfg = TrainConfig.from_dict(payload["train"]).validate()
        model = build_model(mcfg)
        model.load_state_dict(safetensors_load(payload["weights"]), strict=True)
        model.eval()
        state = payload["task_state"]
        task = get_task(run.task, **(state.get("options") or {}))
        task.restore(state)
        hist = History(metric=task.metric, epochs=payload["epochs"], batches=payload["batches"],
                       stopped=payload["status"] == "stopped", diverged=payload["status"] == "diverged",
                       message=payload["message"], seconds=payload["seconds"], tokens=payload["tokens"],
                       best_epoch=payload["best_epoch"])
        probe = None
        if payload.get("probe"):
            probe = {"tensors": safetensors_load(payload["probe"]), "meta": payload.get("probe_meta") or {}}
        extra = {"sweep": sweep_name or self.name, "point": run.point, "seed": run.seed}
        return save_run(model, task, tcfg, hist, name=run.name, root=self.path, preset=run.preset,
                        status=payload["status"], probe=probe, extra=extra)


def _alive(data: dict[str, Any]) -> bool:
    """Whether the process that wrote a "running" sweep record still runs (other hosts: assume so)."""
    if data.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(data.get("pid") or 0), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return bool(data.get("pid"))


def load_sweep(path: str | Path) -> SweepFolder:
    """Read a sweep folder. Run folders on disk are the truth: a run whose folder exists counts as saved with
    its config's status and metrics (even when the sweep was killed before ``sweep.json`` said so), and a run
    the record calls pending or running that has no folder is "cancelled" once the sweep is not running."""
    path = Path(path).expanduser().resolve()
    data = read_json(path / SWEEP_FILE)
    runs = data.get("runs")
    spec = data.get("spec")
    if (not isinstance(runs, list) or not isinstance(spec, dict) or not isinstance(spec.get("grid") or {}, dict)
            or not all(isinstance(rec, dict) and isinstance(rec.get("point") or {}, dict) for rec in runs)):
        raise RunError(f"{path / SWEEP_FILE}: not a sweep record")
    state = str(data.get("state", "running"))
    if state == "running" and not _alive(data):
        state = "interrupted"  # its process was killed: what finished is saved, the rest never will be
    for rec in runs:
        run_dir = path / str(rec.get("name", ""))
        if run_dir.is_dir():
            try:
                cfg = read_run_config(run_dir)
            except RunError as e:
                rec.update(state="failed", message=str(e))
                continue
            fields = summary_fields(cfg)  # each of the kind the results table expects, whatever the file says
            rec.update(state=fields["status"], final_metrics=fields["final_metrics"],
                       seconds=cfg.get("seconds"), path=str(run_dir))
            if cfg.get("message"):
                rec["message"] = cfg["message"]
        elif rec.get("state") not in DONE_STATES and state != "running":
            rec.update(state="cancelled", message=rec.get("message") or f"never finished (the sweep was {state})")
    return SweepFolder(path=path, spec=data["spec"], runs=runs, state=state,
                       created=str(data.get("created", "")))


def list_sweeps(root: str | Path | None = None) -> list[Path]:
    """Sweep folders in ``root`` (default the runs dir), newest first."""
    base = runs_dir() if root is None else Path(root).expanduser().resolve()
    if not base.is_dir():
        return []
    found = [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".") and is_sweep(d)]
    return sorted(found, key=lambda d: (d / SWEEP_FILE).stat().st_mtime, reverse=True)
