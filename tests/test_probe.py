"""ProbeRecorder: one replay of a fixed probe input per epoch during fit, saved with the run and read back."""

import pytest
import torch

from rnn_core.model import build_model
from rnn_core.probe import (
    PROBE_LENGTHS,
    PROBE_X,
    PROBE_Y,
    ProbeRecorder,
    probe_cache,
    probe_epochs,
    probe_input,
    probe_target,
)
from rnn_core.runs import load_run, save_run
from rnn_core.tasks import get_task
from rnn_core.train import fit


def _letters_fit(epochs=5, **rec_kw):
    task = get_task("letters")
    mcfg, tcfg = task.configs("seed", epochs=epochs)
    model = build_model(mcfg, seed=0)
    rec = ProbeRecorder(task, **rec_kw)
    calls = []
    original = model.run_with_cache

    def counting(*a, **kw):
        calls.append(1)
        return original(*a, **kw)

    model.run_with_cache = counting
    hist = fit(model, task, tcfg, callbacks=[rec])
    model.run_with_cache = original
    return task, model, rec, hist, len(calls)


def test_records_once_per_epoch_and_values_change():
    task, model, rec, _hist, calls = _letters_fit(epochs=5)
    assert rec.epochs == [0, 1, 2, 3, 4, 5]  # the untrained net, then one record per epoch
    assert calls == 6  # one replay per record, nothing more
    assert rec.labels == ["a"]  # first validation example of letters: a → b
    t = rec.tensors()
    assert torch.equal(t[PROBE_X], task.load().val.x[:1])
    assert t[PROBE_LENGTHS].tolist() == [1]
    assert t[PROBE_Y].tolist() == [1]  # a → b
    assert "epoch0/hook_input" not in t  # the probe input itself is stored once, as probe/x
    for k in rec.epochs:
        assert t[f"epoch{k}/layers.0.fwd.hook_h"].shape == (1, 1, 3)
        assert t[f"epoch{k}/hook_logits"].shape == (1, 1, 5)
    h0, h5 = t["epoch0/layers.0.fwd.hook_h"], t["epoch5/layers.0.fwd.hook_h"]
    assert (h0 - h5).abs().max() > 1e-3  # training moved the hidden state
    # The last record is the trained model's own replay of the probe.
    _, cache = model.run_with_cache(t[PROBE_X], t[PROBE_LENGTHS])
    torch.testing.assert_close(t["epoch5/layers.0.fwd.hook_pre"], cache["layers.0.fwd.hook_pre"])


@pytest.mark.slow
def test_given_example_every_k_and_names():
    task = get_task("sine")
    splits = task.load(limit=64)
    mcfg, tcfg = task.configs("default", epochs=5, limit=64, hidden_size=8, cell="gru")
    model = build_model(mcfg, seed=1)
    example = splits.val.subset([3])
    rec = ProbeRecorder(task, example, names=["layers.0.fwd.hook_z", "hook_logits"], every=2, dtype=torch.float16)
    fit(model, task, tcfg, callbacks=[rec], splits=splits)
    assert rec.epochs == [0, 2, 4, 5]  # every 2nd epoch, and the last one at fit_end
    t = rec.tensors()
    assert torch.equal(t[PROBE_X], example.x)
    assert torch.equal(t[PROBE_Y], example.y)  # the cosine to predict, [1, 60, 1]
    assert {k.split("/", 1)[1] for k in t if k.startswith("epoch2/")} == {"layers.0.fwd.hook_z", "hook_logits"}
    assert t["epoch4/layers.0.fwd.hook_z"].dtype == torch.float16
    assert t["epoch4/layers.0.fwd.hook_z"].shape == (1, 60, 8)
    assert rec.labels == task.step_labels(example, 0)


def test_saved_probe_reads_back(tmp_path):
    task, model, rec, hist, _ = _letters_fit(epochs=3)
    path = save_run(
        model, task, task.configs("seed", epochs=3)[1], hist, name="probe-rt", root=tmp_path, probe=rec.for_save()
    )
    run = load_run(path)
    assert probe_epochs(run.probe) == [0, 1, 2, 3]
    assert run.probe_meta["labels"] == ["a"]
    x, lengths = probe_input(run.probe)
    assert torch.equal(x, rec.x) and lengths.tolist() == [1]
    assert probe_target(run.probe).tolist() == [1]
    cache = probe_cache(run.probe, 2)
    torch.testing.assert_close(cache["layers.0.fwd.hook_h"], rec.records[2]["layers.0.fwd.hook_h"])
    with pytest.raises(ValueError, match="no epoch 9"):
        probe_cache(run.probe, 9)


def test_bad_arguments_say_what_to_do():
    task = get_task("letters")
    with pytest.raises(ValueError, match="every"):
        ProbeRecorder(task, every=0)
    empty = task.load().val.subset([])
    with pytest.raises(ValueError, match="one example"):
        ProbeRecorder(task, empty)
    mcfg, tcfg = task.configs("seed", epochs=1)
    with pytest.raises(ValueError, match="no activation named"):
        fit(build_model(mcfg, seed=0), task, tcfg, callbacks=[ProbeRecorder(task, names=["layers.0.fwd.hook_f"])])
    with pytest.raises(ValueError, match="no probe input"):
        probe_input({})
