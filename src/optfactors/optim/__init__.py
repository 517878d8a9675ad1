"""Optimizers for large-batch training that ``torch.optim`` lacks: SAM, LARS and LAMB.

Each is a ``torch.optim.Optimizer`` built from the parameters and its options, so a config chooses it
like any other (conf/optimizer/sam.yaml, lars.yaml, lamb.yaml).
"""

from optfactors.optim.lamb import LAMB
from optfactors.optim.lars import LARS
from optfactors.optim.sam import SAM

__all__ = ["LAMB", "LARS", "SAM"]
