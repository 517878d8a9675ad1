"""What makes a run cheaper per update keeps its behaviour: the module's fast attribute path, the batch that
skips Lightning's transfer, the throttled progress bar."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from optfactors.callbacks import ProgressBar
from optfactors.task import Classifier


def _task() -> Classifier:
    return Classifier(nn.Linear(4, 3), nn.CrossEntropyLoss(), lambda params: torch.optim.SGD(params, lr=0.1))


def test_plain_attributes_take_the_fast_path_and_modules_parameters_buffers_still_register() -> None:
    task = _task()
    task._current_fx_name = "training_step"
    task.note, task.count = None, 3
    assert task.__dict__["_current_fx_name"] == "training_step" and task.count == 3
    task.head = nn.Linear(3, 2)
    task.scale = nn.Parameter(torch.ones(1))
    task.register_buffer("steps", torch.zeros(1))
    assert "head" in task._modules and "scale" in task._parameters and "steps" in task._buffers
    task.steps = None  # a buffer set to None stays a (now empty) buffer, as in nn.Module
    assert "steps" in task._buffers and task.steps is None
    with pytest.raises(TypeError, match="cannot assign"):
        task.scale = 1.0  # a plain value over a parameter is still refused
    names = {name for name, _ in task.named_parameters()}
    assert names == {"model.weight", "model.bias", "head.weight", "head.bias", "scale"}


def test_a_batch_already_on_the_device_is_passed_through_and_others_are_moved() -> None:
    task = _task()
    batch = (torch.ones(2, 4), torch.zeros(2, dtype=torch.long))
    assert task.transfer_batch_to_device(batch, torch.device("cpu"), 0) is batch
    moved = task.transfer_batch_to_device({"x": torch.ones(1)}, torch.device("cpu"), 0)
    assert torch.equal(moved["x"], torch.ones(1))


def test_the_progress_bar_redraws_at_most_every_interval_and_at_the_epochs_last_batch(monkeypatch) -> None:
    drawn = []
    monkeypatch.setattr(
        "lightning.pytorch.callbacks.RichProgressBar.on_train_batch_end",
        lambda self, trainer, module, outputs, batch, batch_idx: drawn.append(batch_idx),
    )
    monkeypatch.setattr(ProgressBar, "total_train_batches", 100)
    # perf_counter counts from boot: a machine booted a minute ago
    monkeypatch.setattr("optfactors.callbacks.time.perf_counter", lambda: 60.0)
    bar = ProgressBar(min_interval=3600)
    for batch_idx in range(100):
        bar.on_train_batch_end(None, None, None, None, batch_idx)
    assert drawn == [0, 99]  # the first update (nothing drawn yet), then the epoch's last
    every = ProgressBar(min_interval=0)
    for batch_idx in range(5):
        every.on_train_batch_end(None, None, None, None, batch_idx)
    assert drawn[2:] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("max_epochs", "expected"), [(-1, "Epoch 42"), (50, "Epoch 42/49")])
def test_the_epoch_reads_without_a_total_when_updates_or_a_target_bound_the_run(max_epochs, expected) -> None:
    bar = ProgressBar()
    bar._trainer = SimpleNamespace(max_epochs=max_epochs)
    assert bar._get_train_description(42).strip() == expected
