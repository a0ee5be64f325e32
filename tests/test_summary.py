"""The Keras-style summary: rows add up to the model's real parameter count, and the seed models
show the figures the source notes quote (with torch's extra bias vector accounted for)."""

import itertools

import pytest

from rnn_core import ModelConfig, build_model
from rnn_core.summary import param_count, summary, summary_text

CONFIGS = [
    ModelConfig(cell=cell, hidden_size=hid, num_layers=layers, bidirectional=bi, head=head, **inp)
    for cell, hid, layers, bi, head, inp in itertools.product(
        ("rnn", "lstm", "gru"),
        (3, 17),
        (1, 3),
        (False, True),
        ("last", "every"),
        ({"input_size": 5, "output_size": 2}, {"vocab_size": 40, "embed_dim": 7, "output_size": 4}),
    )
]


@pytest.mark.parametrize(
    "cfg",
    CONFIGS,
    ids=lambda c: f"{c.cell}-h{c.hidden_size}-l{c.num_layers}-bi{int(c.bidirectional)}-{c.head}-v{c.vocab_size}",
)
def test_rows_add_up_to_model_parameters(cfg):
    model = build_model(cfg)
    rows = summary(model, seq_len=9)
    true_total = sum(p.numel() for p in model.parameters())
    assert sum(r["params"] for r in rows) == true_total
    assert param_count(cfg) == true_total
    assert len(rows) == cfg.num_layers + 2
    assert f"Total params: {true_total:,}" in summary_text(model, 9)


def test_keras_imdb_seed_lstm_counts():
    model = build_model(ModelConfig(cell="lstm", vocab_size=5000, embed_dim=32, hidden_size=100, output_size=1))
    rows = summary(model, seq_len=500)
    assert [r["layer"] for r in rows] == ["embedding", "lstm_0", "dense"]
    assert [r["output_shape"] for r in rows] == ["(None, 500, 32)", "(None, 100)", "(None, 1)"]
    assert [r["params"] for r in rows] == [160000, 53600, 101]  # torch: two bias vectors per gate
    assert [r["keras_params"] for r in rows] == [160000, 53200, 101]  # what Keras prints
    text = summary_text(model, 500)
    assert "Total params: 213,701" in text
    assert "213,301" in text  # the Keras figure, explained


def test_keras_imdb_seed_two_classes_and_simplernn():
    two = summary(build_model(ModelConfig(cell="lstm", vocab_size=5000, embed_dim=32, hidden_size=100, output_size=2)))
    assert two[-1]["params"] == 202
    rnn = summary(build_model(ModelConfig(cell="rnn", vocab_size=10000, embed_dim=32, hidden_size=32, output_size=1)))
    assert [r["keras_params"] for r in rnn] == [320000, 2080, 33]  # Keras's SimpleRNN(32) seed summary
    assert rnn[1]["params"] == 2112
    assert rnn[1]["type"] == "SimpleRNN"


def test_gru_matches_keras_reset_after():
    rows = summary(build_model(ModelConfig(cell="gru", input_size=32, hidden_size=100, output_size=1)))
    assert rows[1]["params"] == rows[1]["keras_params"] == 40200
    assert "Keras would report" not in summary_text(
        build_model(ModelConfig(cell="gru", input_size=32, hidden_size=100))
    )


def test_shapes_for_bidirectional_stack_and_tagging_head():
    model = build_model(
        ModelConfig(
            cell="lstm", input_size=3, hidden_size=8, num_layers=2, bidirectional=True, output_size=6, head="every"
        )
    )
    rows = summary(model)
    assert rows[0] == {
        "layer": "input",
        "type": "InputLayer",
        "output_shape": "(None, None, 3)",
        "params": 0,
        "keras_params": 0,
    }
    assert rows[1]["layer"] == "bidirectional(lstm_0)" and rows[1]["type"] == "Bidirectional(LSTM)"
    assert rows[2]["output_shape"] == "(None, None, 16)"  # every step kept for the head
    assert rows[3]["output_shape"] == "(None, None, 6)"
    last = summary(model.__class__(model.cfg.replace(head="last")), seq_len=12)
    assert last[2]["output_shape"] == "(None, 16)"  # last layer returns only the summary state
    assert last[1]["output_shape"] == "(None, 12, 16)"


def test_param_count_of_absurd_config_needs_no_allocation():
    cfg = ModelConfig(cell="lstm", vocab_size=10**9, embed_dim=32, hidden_size=8)
    assert param_count(cfg) > 32 * 10**9  # computed, not built


def test_input_dropout_shows_as_a_keras_dropout_row_without_parameters():
    cfg = ModelConfig(cell="gru", vocab_size=10000, embed_dim=32, hidden_size=64, output_size=2, input_dropout=0.4)
    model = build_model(cfg)
    rows = summary(model, seq_len=500)
    assert [r["type"] for r in rows] == ["Embedding", "Dropout", "GRU", "Dense"]
    assert rows[1]["output_shape"] == "(None, 500, 32)" and rows[1]["params"] == 0
    assert sum(r["params"] for r in rows) == sum(p.numel() for p in model.parameters()) == param_count(cfg)
