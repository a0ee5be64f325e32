"""State-space analysis of a recurrent network (plain torch): visited states and their principal components,
slow and fixed points under a constant input, and the linearised dynamics around them."""

from .analyse import Dynamics, Options, analyse, kick_agreement, word_kicks
from .fixed_points import FixedPoints, find_fixed_points, sample_starts
from .linearise import jacobians, linearise, readout_direction, time_constants
from .pca import PcaFit, fit_pca
from .states import StateSet, collect_states
from .step import CellMap, cell_map, constant_input, layer_drive

__all__ = [
    "CellMap", "Dynamics", "FixedPoints", "Options", "PcaFit", "StateSet", "analyse", "cell_map",
    "collect_states", "constant_input", "find_fixed_points", "fit_pca", "jacobians", "kick_agreement",
    "layer_drive", "linearise", "readout_direction", "sample_starts", "time_constants", "word_kicks",
]
