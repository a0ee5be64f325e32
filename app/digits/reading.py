"""One digit read by a run, as the Digits page shows it: the image the model sees, the step-by-step replay (through
``run_access.replay_encoded``, the same replay the Inside figure draws) and the class probabilities after each row, with
the step from which the model knows its answer. No drawing here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..inside.data import StepPrediction, step_prediction
from ..run_access import Replay, replay_encoded

SURE = 0.9  # "sure" = the final answer's probability at least this


@dataclass
class Reading:
    """``image`` [side, side] in 0..1 as a person sees it; ``x`` [1, steps, features] the model input;
    ``probs`` [steps, 10] p(digit) if the image ended after each step; ``target`` the true digit or None."""

    image: np.ndarray
    x: torch.Tensor
    steps: list[str]
    replay: Replay
    layer: int
    prediction: StepPrediction
    target: int | None

    @property
    def probs(self) -> np.ndarray:
        return self.prediction.values

    @property
    def answer(self) -> int:
        return int(self.probs[-1].argmax())

    def knows_from(self) -> int | None:
        """The first step (0-based) from which the top class is the final answer at every later step."""
        top = self.probs.argmax(axis=1)  # [steps]
        wrong = np.flatnonzero(top != self.answer)
        return int(wrong[-1]) + 1 if len(wrong) else 0

    def sure_from(self, level: float = SURE) -> int | None:
        """The first step from which the final answer keeps a probability of at least ``level``, or None."""
        low = np.flatnonzero(self.probs[:, self.answer] < level)
        first = int(low[-1]) + 1 if len(low) else 0
        return first if first < len(self.probs) else None


def read(run, x: torch.Tensor, layer: int = -1, target: int | None = None) -> Reading:
    """Replay input ``x`` [1, steps, features] through ``run``'s model and gather what the page draws."""
    steps = run.task.step_names()[: x.shape[1]]
    rep = replay_encoded(run.model, run.task, x, steps, target)
    pred = step_prediction("classify", rep.logits, list(run.task.labels), target)
    image = run.task.input_to_image(x[0]).numpy().astype(np.float64)  # [side, side]
    layer = layer % run.model.cfg.num_layers  # -1 → the last layer
    return Reading(image, x, steps, rep, layer, pred, target)


def summary(r: Reading) -> str:
    """One sentence: what the model says and from which row it knows."""
    word = r.steps[0].split()[0]  # "row" or "col"
    label = f"**{r.answer}** (p = {r.probs[-1, r.answer]:.2f})"
    knows, sure = r.knows_from(), r.sure_from()
    text = f"The model says {label}."
    if knows is not None:
        text += f" Its top guess is {r.answer} from {word} {knows + 1} of {len(r.steps)} on"
        text += f", and it is at least {SURE:.0%} sure from {word} {sure + 1} on." if sure is not None else \
            f", but it never becomes {SURE:.0%} sure."
    if r.target is not None:
        text += " Right." if r.answer == r.target else f" Wrong: the true label is {r.target}."
    return text
