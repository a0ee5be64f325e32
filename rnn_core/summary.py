"""Keras-style model summary: one row per layer (name, type, output shape, parameter count).

Counts are torch's true counts. They differ from Keras's for LSTM and SimpleRNN because torch keeps
two bias vectors per gate (``b_ih`` and ``b_hh``) where Keras keeps one; each row also carries
``keras_params``, the count Keras would print, so the source notes' figures can be checked.
"""

from __future__ import annotations

from typing import Any

from .cells import GATE_MULTIPLIER
from .config import BOUNDS, MAX_PARAMS, ModelConfig
from .model import RecurrentModel

KERAS_NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def _shape(*dims: int | None) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ")"


def _layer_in(cfg: ModelConfig, layer: int) -> int:
    """Width of the input a recurrent layer reads."""
    if layer > 0:
        return cfg.hidden_size * cfg.num_directions
    return cfg.embed_dim if cfg.token_input else cfg.input_size


def recurrent_layer_params(cfg: ModelConfig, layer: int) -> tuple[int, int]:
    """(torch, keras) parameter counts of one recurrent layer, both directions.

    Per direction, with G gates (RNN 1, GRU 3, LSTM 4), input width I and H units:
    torch = G·H·I + G·H·H + 2·G·H (b_ih and b_hh).  Keras keeps one bias (G·H) for SimpleRNN and
    LSTM, and two for GRU (its default ``reset_after=True`` is torch's formulation).
    """
    g, h, i = GATE_MULTIPLIER[cfg.cell], cfg.hidden_size, _layer_in(cfg, layer)
    torch_count = g * h * i + g * h * h + 2 * g * h
    keras_count = torch_count if cfg.cell == "gru" else torch_count - g * h
    return torch_count * cfg.num_directions, keras_count * cfg.num_directions


def param_count(cfg: ModelConfig) -> int:
    """Parameters the model of ``cfg`` holds (RecurrentModel or char + word tagger), computed without building it.

    Lets a loader refuse an absurd config (say a vocabulary of 10**9) before allocating anything.
    """
    if cfg.tagger:
        from .tagger import char_config, word_config

        return cfg.vocab_size * cfg.embed_dim + param_count(char_config(cfg)) + param_count(word_config(cfg))
    embed = cfg.vocab_size * cfg.embed_dim if cfg.token_input else 0
    rec = sum(recurrent_layer_params(cfg, layer)[0] for layer in range(cfg.num_layers))
    head = (cfg.hidden_size * cfg.num_directions + 1) * cfg.output_size
    return embed + rec + head


def hidden_for_budget(cfg: ModelConfig, budget: int) -> int:
    """The hidden size that brings ``cfg``'s parameter count closest to ``budget`` (ties: the smaller), so an RNN,
    LSTM and GRU can be compared at equal size rather than equal width. The count grows with hidden size, so a
    binary search over BOUNDS finds it."""
    lo, hi = 1, int(BOUNDS["hidden_size"][1])
    while lo < hi:  # the smallest size whose count reaches the budget
        mid = (lo + hi) // 2
        if param_count(cfg.replace(hidden_size=mid)) < budget:
            lo = mid + 1
        else:
            hi = mid
    below = max(lo - 1, 1)
    gap = {h: abs(param_count(cfg.replace(hidden_size=h)) - budget) for h in (below, lo)}
    return min(gap, key=lambda h: (gap[h], h))


def check_params(cfg: ModelConfig) -> int:
    """``param_count(cfg)``, or ValueError when it is above ``MAX_PARAMS`` (the cap of the Train page, the CLI
    and saved runs alike)."""
    n = param_count(cfg)
    if n > MAX_PARAMS:
        raise ValueError(f"this model would have {n:,} parameters; at most {MAX_PARAMS:,} are allowed (more would "
                         "take hours per epoch on a CPU): lower the hidden units, layers or vocabulary")
    return n


def summary(model: Any, seq_len: int | None = None) -> list[dict[str, Any]]:
    """Rows ``{"layer", "type", "output_shape", "params", "keras_params"}``, input side first.

    ``seq_len`` fills the time axis of the shapes (``None`` prints as Keras's ``None``: any length).
    Counts are read from the model's own parameters, so the rows always add up to
    ``sum(p.numel() for p in model.parameters())``. A char + word tagger lists its character network
    (rows named ``chars/...``, run once per word), then the word embedding, then the word network.
    """
    if getattr(model.cfg, "tagger", False):
        return _tagger_summary(model, seq_len)
    cfg = model.cfg
    rows: list[dict[str, Any]] = []
    if model.embed is not None:
        n = model.embed.weight.numel()
        rows.append(
            dict(
                layer="embedding",
                type="Embedding",
                output_shape=_shape(None, seq_len, cfg.embed_dim),
                params=n,
                keras_params=n,
            )
        )
    else:
        rows.append(
            dict(
                layer="input",
                type="InputLayer",
                output_shape=_shape(None, seq_len, cfg.input_size),
                params=0,
                keras_params=0,
            )
        )

    if cfg.input_dropout > 0:  # Keras would show Dropout(rate) between the input and the first recurrent layer
        rows.append(
            dict(
                layer="dropout",
                type="Dropout",
                output_shape=rows[-1]["output_shape"],
                params=0,
                keras_params=0,
            )
        )

    width = cfg.hidden_size * cfg.num_directions
    kind = KERAS_NAMES[cfg.cell]
    for layer in range(cfg.num_layers):
        names = [f"weight_ih_l{layer}", f"weight_hh_l{layer}", f"bias_ih_l{layer}", f"bias_hh_l{layer}"]
        if cfg.bidirectional:
            names += [n + "_reverse" for n in names]
        n = sum(getattr(model.rnn, p).numel() for p in names)
        last_only = layer == cfg.num_layers - 1 and cfg.head == "last"  # Keras: return_sequences=False
        name = f"{cfg.cell}_{layer}"  # rnn_0 / lstm_0 / gru_0: the index the hook names use
        rows.append(
            dict(
                layer=f"bidirectional({name})" if cfg.bidirectional else name,
                type=f"Bidirectional({kind})" if cfg.bidirectional else kind,
                output_shape=_shape(None, width) if last_only else _shape(None, seq_len, width),
                params=n,
                keras_params=recurrent_layer_params(cfg, layer)[1],
            )
        )

    n = sum(p.numel() for p in model.head.parameters())
    out_shape = _shape(None, seq_len, cfg.output_size) if cfg.head == "every" else _shape(None, cfg.output_size)
    rows.append(dict(layer="dense", type="Dense", output_shape=out_shape, params=n, keras_params=n))
    return rows


def _tagger_summary(model: Any, seq_len: int | None) -> list[dict[str, Any]]:
    cfg = model.cfg
    rows = [dict(r, layer="chars/" + r["layer"], output_shape=r["output_shape"].replace("(None", "(words", 1))
            for r in summary(model.chars)]  # one character sequence per word
    n = model.embed.weight.numel()
    rows.append(dict(layer="embedding", type="Embedding", output_shape=_shape(None, seq_len, cfg.embed_dim),
                     params=n, keras_params=n))
    width = model.words.cfg.input_size
    rows.append(dict(layer="concatenate", type="Concatenate", output_shape=_shape(None, seq_len, width),
                     params=0, keras_params=0))
    return rows + summary(model.words, seq_len)[1:]  # the word network's own InputLayer row is the concatenation


def summary_text(model: RecurrentModel, seq_len: int | None = None, title: str = "sequential") -> str:
    """The summary as Keras prints it, with Total / Trainable / Non-trainable params.

    When Keras would count differently (LSTM, SimpleRNN), a last line says by how much and why.
    """
    rows = summary(model, seq_len)
    w_layer = max(28, *(len(f"{r['layer']} ({r['type']})") + 2 for r in rows))
    w_shape = max(26, *(len(r["output_shape"]) + 2 for r in rows))
    width = w_layer + w_shape + 12
    total = sum(r["params"] for r in rows)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    lines = [
        f'Model: "{title}"',
        "_" * width,
        f" {'Layer (type)':<{w_layer - 1}}{'Output Shape':<{w_shape}}Param #",
        "=" * width,
    ]
    for i, r in enumerate(rows):
        lines.append(
            f" {r['layer'] + ' (' + r['type'] + ')':<{w_layer - 1}}{r['output_shape']:<{w_shape}}{r['params']}"
        )
        lines.append("=" * width if i == len(rows) - 1 else "")
    lines += [
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        "_" * width,
    ]
    keras_total = sum(r["keras_params"] for r in rows)
    if keras_total != total:
        lines.append(
            f"(Keras would report {keras_total:,}: torch keeps two bias vectors per gate, "
            "b_ih and b_hh, where Keras keeps one.)"
        )
    return "\n".join(lines)


__all__ = ["param_count", "recurrent_layer_params", "summary", "summary_text"]
