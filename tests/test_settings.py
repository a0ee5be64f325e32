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
    assert set(model_over) | set(train_over) == {n for n, f in FIELDS.items() if f.config != "task"}
    mcfg, tcfg = get_task("letters").configs(settings["preset"], **model_over, **train_over)
    assert (mcfg.cell, mcfg.hidden_size, tcfg.epochs) == ("lstm", 7, 5)


def test_every_setting_a_preset_makes_is_a_field_of_the_form():
    """Point 9: what any preset sets (IMDB's input dropout, embedding, vocabulary, length, clipping, keep-best) can
    be seen and changed; the task options a task offers as radios (variant, data, source, read) are there too."""
    from app.train.settings import shown
    from rnn_core.tasks import available, task_class

    for name in available():
        cls = task_class(name)
        radios = set(get_task(name).option_choices())
        for preset in cls.presets.values():
            for key in [*preset.model, *preset.train, *preset.task]:
                if key == "head":  # fixed by the task's kind (a sequence classifier reads its last step)
                    continue
                assert key in radios or (key in FIELDS and shown(name, key)), (name, key)
    imdb = preset_settings("imdb", "default")
    assert (imdb["input_dropout"], imdb["embed_dim"], imdb["maxlen"], imdb["num_words"], imdb["clip_grad"],
            imdb["keep_best"]) == (0.4, 32, 500, 10000, 1.0, True)
    settings, notices = from_query({"task": "imdb", "preset": "default", "maxlen": "200", "input_dropout": "0.1"})
    assert notices == [] and settings["maxlen"] == 200 and changed_from_preset(settings) == ["input_dropout", "maxlen"]
    assert "maxlen" not in preset_settings("letters")  # a task option only where the task has it


def test_integers_written_as_floats_are_accepted():
    assert parse_value("epochs", "30.0") == 30


@pytest.mark.parametrize("name", ["hidden_size", "num_layers", "epochs", "batch_size"])
def test_the_url_and_the_config_refuse_the_same_values(name):
    """The bounds live once (rnn_core.config.BOUNDS): one past the top is refused by both, the top by neither."""
    from rnn_core.config import BOUNDS, ModelConfig, TrainConfig

    top = int(BOUNDS[name][1])
    cls = ModelConfig if FIELDS[name].config == "model" else TrainConfig
    assert parse_value(name, str(top)) == top
    cls(**{name: top}).validate()
    with pytest.raises(ValueError, match=f"to {top}"):
        parse_value(name, str(top + 1))
    with pytest.raises(ValueError, match=f"{name} must be"):
        cls(**{name: top + 1}).validate()
