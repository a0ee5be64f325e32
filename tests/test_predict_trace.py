"""The prefix rule, in its one home: ``trace`` gives, for each step, what the model would say if the input ended
there — for a bidirectional classifier too, whose backward half must not have read past that step."""

from __future__ import annotations

import itertools

import pytest
import torch
from model_helpers import make_batch, make_model

from rnn_core.predict import needs_prefix_replays, trace

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.parametrize("cell,bidirectional,token", list(itertools.product(("lstm", "gru"), (False, True),
                                                                            (False, True))))
def test_trace_row_t_is_the_prediction_for_the_input_cut_after_step_t(cell, bidirectional, token):
    model = make_model(cell, layers=2, bidirectional=bidirectional, head="last", token=token)
    x, _ = make_batch(token, lengths=(6,))  # [1, 6] or [1, 6, features]
    per_step, cache = trace(model, x, names_filter="layers.1.fwd.hook_h")
    assert list(cache) == ["layers.1.fwd.hook_h", "hook_logits"]
    assert needs_prefix_replays(model) == bidirectional
    with torch.no_grad():
        cut = torch.cat([model(x[:, : t + 1]) for t in range(x.shape[1])])  # [seq, output]
    torch.testing.assert_close(per_step, cut, atol=1e-5, rtol=0)
    if bidirectional:  # the head on the full-input states would have read the future
        assert (cache["hook_logits"][0, :-1] - cut[:-1]).abs().max().item() > 1e-4


def test_trace_of_a_per_step_model_is_its_hook_logits():
    model = make_model("lstm", bidirectional=True, head="every")
    x, _ = make_batch(False, lengths=(5,))
    per_step, cache = trace(model, x)
    assert not needs_prefix_replays(model)
    with torch.no_grad():
        torch.testing.assert_close(per_step, model(x)[0], atol=1e-5, rtol=0)
    assert torch.equal(per_step, cache["hook_logits"][0])
