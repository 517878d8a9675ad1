"""The one place that reads Lightning's private trainer state (checked against Lightning 2.6).

Lightning has no public API for either question below; its own callbacks (LearningRateMonitor,
DeviceStatsMonitor, ThroughputMonitor) read the first the same way. If an upgrade moves these attributes,
only this module changes. Real runs go through both: tests/test_train.py (the step/* logs; an epoch cut by
max_steps still logs its training metrics) and tests/test_batch_study.py (early stopping on train/loss).
"""

from __future__ import annotations

import lightning.pytorch as pl


def logs_this_update(trainer: pl.Trainer) -> bool:
    """Whether the Trainer's ``log_every_n_steps`` throttle lets the update being made log (asked before its
    optimizer step; always on a stop request)."""
    # private: LoggerConnector.should_update_logs
    return trainer._logger_connector.should_update_logs


def epoch_ends_after_this_batch(trainer: pl.Trainer) -> bool:
    """Whether the training epoch ends with the batch just finished (asked in ``on_train_batch_end``): it was
    the epoch's last, ``max_steps`` is reached, or a stop was requested (once ``min_epochs`` allow it)."""
    # private: the fit loop's _TrainingEpochLoop.done, the condition its own loop ends on
    return trainer.fit_loop.epoch_loop.done
