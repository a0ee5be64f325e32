"""Train-page settings in the URL: a link's values are applied on top of its preset, bad values are dropped
with a notice that says what to use, and writing then reading the query string gives the same settings."""

from __future__ import annotations

import pytest

from app.train.settings import (
    FIELDS,
    changed_from_preset,
    from_query,
    parse_value,
    preset_settings,
    split_configs,
    to_query,
)
from rnn_core.tasks import get_task


def test_no_parameters_give_the_letters_seed_preset():
    settings, notices = from_query({})
    assert notices == []
    assert settings == preset_settings("letters", "seed")
    assert (settings["cell"], settings["hidden_size"], settings["lr"], settings["epochs"]) == ("rnn", 3, 0.01, 100)


def test_a_link_applies_its_values_on_top_of_its_preset():
    settings, notices = from_query({"task": "letters", "preset": "default", "hidden_size": "12", "lr": "0.005",
                                    "bidirectional": "true", "other_page_param": "x"})
    assert notices == []
    assert settings["cell"] == "gru"  # from the preset
    assert (settings["hidden_size"], settings["lr"], settings["bidirectional"]) == (12, 0.005, True)
    assert changed_from_preset(settings) == ["hidden_size", "bidirectional", "lr"]


@pytest.mark.parametrize("params, bad", [
    ({"cell": "transformer"}, "use one of rnn, lstm, gru"),
    ({"hidden_size": "0"}, "from 1 to 4096"),
    ({"hidden_size": "2.5"}, "whole number"),
    ({"lr": "fast"}, "use a number"),
    ({"lr": "nan"}, "use a number"),
    ({"epochs": "20000"}, "from 1 to 10000"),
    ({"bidirectional": "maybe"}, "true or false"),
    ({"preset": "nope"}, "not a preset of letters"),
    ({"task": "chess"}, "not a task here"),
])
def test_bad_values_are_ignored_with_a_notice(params, bad):
    settings, notices = from_query(params)
    assert len(notices) == 1 and bad in notices[0]
    assert settings == preset_settings("letters", "seed")


def test_query_string_round_trip_is_exact():
    settings, _ = from_query({"task": "sine", "lr": "0.0012345678", "dropout": "0.15", "num_layers": "2"})
    query = to_query(settings)
    assert all(isinstance(v, str) for v in query.values())
    assert from_query(query) == (settings, [])


def test_settings_build_the_configs_a_task_accepts():
    settings, _ = from_query({"task": "letters", "cell": "lstm", "hidden_size": "7", "epochs": "5"})
    model_over, train_over = split_configs(settings)
    assert set(model_over) | set(train_over) == set(FIELDS)
    mcfg, tcfg = get_task("letters").configs(settings["preset"], **model_over, **train_over)
    assert (mcfg.cell, mcfg.hidden_size, tcfg.epochs) == ("lstm", 7, 5)


def test_integers_written_as_floats_are_accepted():
    assert parse_value("epochs", "30.0") == 30
