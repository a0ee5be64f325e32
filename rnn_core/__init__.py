"""Unrolled's recurrent core: configs, the instrumented model, tasks, training, runs and the CLI.

Plain PyTorch: nothing here imports streamlit or plotly.
"""

from .config import ModelConfig, TrainConfig
from .hooks import HookPoint
from .model import RecurrentModel, build_model
from .predict import predict
from .runs import load_run, save_run
from .tasks import get_task, list_tasks
from .train import History, evaluate, fit

__all__ = [
    "History",
    "HookPoint",
    "ModelConfig",
    "RecurrentModel",
    "TrainConfig",
    "build_model",
    "evaluate",
    "fit",
    "get_task",
    "list_tasks",
    "load_run",
    "predict",
    "save_run",
]
