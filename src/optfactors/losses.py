"""Losses beyond torch's own."""

from __future__ import annotations

import torch
from torch import nn


class SoftmaxMSELoss(nn.Module):
    """The lecture's mean squared error for classification.

    ``e = sum_i (softmax(logits)_i - onehot(target)_i)^2`` per sample, averaged over the batch. Its
    gradient vanishes where the softmax saturates, which is why it trains slower than cross-entropy.
    """

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(logits, dim=1)
        onehot = nn.functional.one_hot(target, probs.shape[1]).to(probs.dtype)
        return (probs - onehot).pow(2).sum(dim=1).mean()
