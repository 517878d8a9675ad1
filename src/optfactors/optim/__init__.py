"""Optimizers for large-batch training that ``torch.optim`` lacks: SAM, LARS and LAMB; and the types of what
an optimizer or a schedule config instantiates to.

Each optimizer is a ``torch.optim.Optimizer`` built from the parameters and its options, so a config chooses
it like any other (conf/optimizer/sam.yaml, lars.yaml, lamb.yaml).
"""

from collections.abc import Callable, Iterable

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from optfactors.optim.lamb import LAMB
from optfactors.optim.lars import LARS
from optfactors.optim.sam import SAM

#: An optimizer config instantiated (``_partial_: true``): the parameters to train -> the optimizer.
OptimizerFactory = Callable[[Iterable[torch.Tensor]], Optimizer]
#: A schedule config instantiated (``_partial_: true``): ``schedule(optimizer)``, or, for one that takes
#: ``total_steps`` (optfactors.schedules), ``schedule(optimizer, total_steps)`` -> the learning-rate schedule.
ScheduleFactory = Callable[..., LRScheduler]

__all__ = ["LAMB", "LARS", "SAM", "OptimizerFactory", "ScheduleFactory"]
