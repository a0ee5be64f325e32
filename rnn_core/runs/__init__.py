"""Saved runs: a folder holding config.json, metrics.csv, weights.safetensors and vocab.json (task state),
optionally batches.csv (the per-batch curve) and probe.safetensors + probe.json (a probe input traced at
each epoch end). Saving is atomic; loading never unpickles and turns a damaged folder into a RunError.
"""

from .archive import export_run, import_run
from .catalog import delete_run, list_runs, rename_run
from .checks import read_run_config, read_table
from .files import (
    RunError,
    RunNotFoundError,
    pretrained_dir,
    runs_dir,
    safe_name,
    safe_run_dir,
)
from .reading import read_bytes, read_csv, read_json
from .folder import STATUSES, Run, load_run, resolve_run, save_run

__all__ = ["Run", "RunError", "RunNotFoundError", "save_run", "load_run", "list_runs", "rename_run", "delete_run"]
__all__ += ["resolve_run", "safe_run_dir", "safe_name", "runs_dir", "pretrained_dir"]
__all__ += ["STATUSES", "read_bytes", "read_csv", "read_json", "read_run_config", "read_table"]
__all__ += ["export_run", "import_run"]
