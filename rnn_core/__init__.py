"""Unrolled's recurrent core: configs, the instrumented model, tasks, training, runs and the CLI.

Plain PyTorch: nothing here imports streamlit or plotly.
"""

from .config import ModelConfig, TrainConfig
from .model import HookPoint, RecurrentModel, build_model, count_parameters

__all__ = ["ModelConfig", "TrainConfig", "RecurrentModel", "HookPoint", "build_model", "count_parameters"]
