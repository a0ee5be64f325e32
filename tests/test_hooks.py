"""The hook names are built in one place and spell the contract in DESIGN.md."""

from __future__ import annotations

import pytest

from rnn_core.hooks import DIRECTIONS, directions, hook_name, make_filter, recurrent_names


def test_hook_names_spell_the_design_contract():
    assert hook_name(0, "fwd", "h") == "layers.0.fwd.hook_h"
    assert hook_name(2, "bwd", "pre") == "layers.2.bwd.hook_pre"
    assert hook_name(0, "fwd", "h", prefix="chars.") == "chars.layers.0.fwd.hook_h"
    with pytest.raises(ValueError, match="direction"):
        hook_name(0, "backward", "h")
    assert DIRECTIONS == ("fwd", "bwd") and directions(False) == ("fwd",) and directions(True) == DIRECTIONS
    assert recurrent_names(("z", "h"), 2, True) == [
        "layers.0.fwd.hook_z", "layers.0.fwd.hook_h", "layers.0.bwd.hook_z", "layers.0.bwd.hook_h",
        "layers.1.fwd.hook_z", "layers.1.fwd.hook_h", "layers.1.bwd.hook_z", "layers.1.bwd.hook_h",
    ]


def test_names_filter_forms():
    names = ["hook_input", "layers.0.fwd.hook_h", "hook_logits"]
    assert [n for n in names if make_filter(None)(n)] == names
    assert [n for n in names if make_filter("hook_logits")(n)] == ["hook_logits"]
    assert [n for n in names if make_filter(["hook_input", "hook_logits"])(n)] == ["hook_input", "hook_logits"]
    assert [n for n in names if make_filter(lambda n: n.startswith("layers."))(n)] == ["layers.0.fwd.hook_h"]


def test_a_hook_attached_in_one_thread_never_fires_in_another():
    """One loaded model serves every browser session, each in a thread of its own: a gate one session clamps (the
    Memory page's interventions) must not change another session's replay of the same model."""
    import copy
    import threading

    import torch

    from rnn_core import ModelConfig, build_model

    model = build_model(ModelConfig(cell="lstm", input_size=3, hidden_size=4), seed=0)
    x = torch.randn(1, 6, 3)  # [batch, seq, features]
    plain_logits, plain = model.run_with_cache(x)
    inside, done = threading.Event(), threading.Event()

    def clamp_and_hold() -> None:
        with model.hooks([("layers.0.fwd.hook_f", lambda t, _hp: torch.ones_like(t))]):
            _, clamped = model.run_with_cache(x)
            assert torch.all(clamped["layers.0.fwd.hook_f"] == 1)
            inside.set()
            done.wait(30)

    t = threading.Thread(target=clamp_and_hold)
    t.start()
    assert inside.wait(30)
    try:  # the other thread's clamp is attached right now
        logits, cache = model.run_with_cache(x)
        torch.testing.assert_close(logits, plain_logits)
        torch.testing.assert_close(cache["layers.0.fwd.hook_f"], plain["layers.0.fwd.hook_f"])
        assert not model.hook_points["layers.0.fwd.hook_f"].hooks
        twin = copy.deepcopy(model)  # a copy works, and carries no hooks
        torch.testing.assert_close(twin.run_with_cache(x)[0], plain_logits)
    finally:
        done.set()
        t.join(30)
