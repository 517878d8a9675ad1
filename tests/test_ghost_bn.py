"""Ghost batch normalization against hand computations, and the model option that turns it on."""

from __future__ import annotations

import math

import torch
from hydra.utils import instantiate
from torch import nn

from optfactors.models import GhostBatchNorm1d, GhostBatchNorm2d, keskar_c1, keskar_f1


def test_a_batch_of_two_ghost_batches_is_normalised_per_half_by_hand():
    bn = GhostBatchNorm1d(1, ghost_batch_size=2)
    with torch.no_grad():
        bn.weight.fill_(2.0)
        bn.bias.fill_(0.5)
    out = bn(torch.tensor([[1.0], [3.0], [2.0], [6.0]]))
    # Half (1, 3): mean 2, biased variance 1 (unbiased 2); half (2, 6): mean 4, biased variance 4 (unbiased 8)
    eps = bn.eps
    expected = [2 * -1 / math.sqrt(1 + eps) + 0.5, 2 * 1 / math.sqrt(1 + eps) + 0.5]
    expected += [2 * -2 / math.sqrt(4 + eps) + 0.5, 2 * 2 / math.sqrt(4 + eps) + 0.5]
    torch.testing.assert_close(out.detach().flatten(), torch.tensor(expected))
    # Running stats updated once per ghost batch with momentum 0.1, from mean 0 and variance 1:
    # mean 0.9 * 0 + 0.1 * 2 = 0.2, then 0.9 * 0.2 + 0.1 * 4 = 0.58;
    # variance 0.9 * 1 + 0.1 * 2 = 1.1, then 0.9 * 1.1 + 0.1 * 8 = 1.79.
    torch.testing.assert_close(bn.running_mean, torch.tensor([0.58]))
    torch.testing.assert_close(bn.running_var, torch.tensor([1.79]))
    assert bn.num_batches_tracked.item() == 2


def test_ghost_batchnorm2d_equals_batchnorm2d_on_each_half_and_plain_batchnorm_in_eval():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 5, 5) * 2 + 1
    ghost, plain = GhostBatchNorm2d(3, ghost_batch_size=4), nn.BatchNorm2d(3)
    with torch.no_grad():
        for bn in (ghost, plain):
            bn.weight.copy_(torch.tensor([0.5, 1.0, 2.0]))
            bn.bias.copy_(torch.tensor([-1.0, 0.0, 1.0]))
    torch.testing.assert_close(ghost(x), torch.cat([plain(x[:4]), plain(x[4:])]))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(ghost, name), getattr(plain, name))
    ghost.eval()
    plain.eval()
    torch.testing.assert_close(ghost(x), plain(x))


def test_the_model_option_swaps_every_batchnorm_and_keeps_the_default_models_as_they_were():
    f1 = keskar_f1([1, 28, 28], 10, width=8, depth=2, ghost_batch_size=128)
    c1 = keskar_c1([3, 32, 32], 10, filters=4, dense=[8], ghost_batch_size=128)
    assert [type(m) for m in f1 if isinstance(m, nn.modules.batchnorm._BatchNorm)] == [GhostBatchNorm1d] * 2
    c1_norms = [type(m) for m in c1 if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert c1_norms == [GhostBatchNorm2d, GhostBatchNorm2d, GhostBatchNorm1d]
    plain = keskar_f1([1, 28, 28], 10, width=8, depth=2)
    assert {type(m) for m in plain if isinstance(m, nn.modules.batchnorm._BatchNorm)} == {nn.BatchNorm1d}
    assert plain.state_dict().keys() == f1.state_dict().keys()


def test_ghost_batch_size_is_a_command_line_addition_not_a_config_key(make_cfg):
    assert "ghost_batch_size" not in make_cfg("model=keskar_f1").model
    cfg = make_cfg("model=keskar_c1", "data=cifar10", "+model.ghost_batch_size=128")
    assert isinstance(instantiate(cfg.model)[1], GhostBatchNorm2d)
