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
