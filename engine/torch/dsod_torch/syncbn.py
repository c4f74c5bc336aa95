"""Synchronized batch norm for the engine's Caffe batch norm (graph.CaffeBatchNorm) under DDP (`--sync-bn`).

torch.nn.SyncBatchNorm cannot stand in: it is CUDA-only in torch 1.13 (gloo CPU runs and the tests need the CPU),
and it is another module, without Caffe's decayed sums + `factor` and the tfjs engine's parameter names that
checkpoints carry. So the batch statistics of CaffeBatchNorm are all-gathered here:

forward: each process's per-channel (count, mean, M2 = sum of squared deviations), gathered from every process and
combined exactly (Chan et al.'s parallel variance), so the statistics are those of the whole global batch; the
running sums get the global mean and unbiased variance (count N - 1), as one process with the whole batch would.
backward: the two per-channel sums the input gradient needs (sum dy, sum dy x-hat) are all-reduced, so each process
gets its part of the gradient of the sum of all processes' losses (DDP then averages the weight gradients as
usual); gamma's and beta's gradients are the local sums (DDP all-reduces them).

Statistics in float32 whatever autocast chose (the input is cast up).
"""
import torch
import torch.distributed as dist

from .graph import CaffeBatchNorm


def _stats(x):
    """Per channel (count, mean, M2) of NCHW x over N, H, W."""
    n = x.numel() // x.shape[1]
    mean = x.mean((0, 2, 3))
    m2 = ((x - mean.view(1, -1, 1, 1)) ** 2).sum((0, 2, 3))
    return n, mean, m2


def _combine(counts, means, m2s):
    """Chan's combination of per-process (count, mean, M2): the whole batch's mean and M2."""
    total = counts.sum()
    mean = (counts.unsqueeze(1) * means).sum(0) / total
    m2 = (m2s + counts.unsqueeze(1) * (means - mean) ** 2).sum(0)
    return total, mean, m2


class _SyncBatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, eps, group):
        n, mean, m2 = _stats(x)
        c = x.shape[1]
        mine = torch.cat([torch.tensor([float(n)], device=x.device, dtype=x.dtype), mean, m2])
        world = dist.get_world_size(group)
        gathered = [torch.empty_like(mine) for _ in range(world)]
        dist.all_gather(gathered, mine, group=group)
        g = torch.stack(gathered)
        total, gmean, gm2 = _combine(g[:, 0], g[:, 1:1 + c], g[:, 1 + c:])
        var = gm2 / total
        invstd = torch.rsqrt(var + eps)
        xhat = (x - gmean.view(1, -1, 1, 1)) * invstd.view(1, -1, 1, 1)
        ctx.save_for_backward(xhat, gamma, invstd)
        ctx.group, ctx.total = group, total
        y = xhat * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)
        unbiased = gm2 / (total - 1).clamp(min=1)
        ctx.mark_non_differentiable(gmean, unbiased)
        return y, gmean, unbiased

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar):
        xhat, gamma, invstd = ctx.saved_tensors
        sum_dy = dy.sum((0, 2, 3))
        sum_dy_xhat = (dy * xhat).sum((0, 2, 3))
        both = torch.stack([sum_dy, sum_dy_xhat])
        dist.all_reduce(both, group=ctx.group)
        n = ctx.total
        dx = (gamma * invstd).view(1, -1, 1, 1) * (dy - (both[0] / n).view(1, -1, 1, 1) - xhat * (both[1] / n).view(1, -1, 1, 1))
        return dx, sum_dy_xhat, sum_dy, None, None


def sync_batch_norm(bn, x, group=None):
    """CaffeBatchNorm's training-mode forward with the batch statistics of every process of `group`."""
    y, mean, var = _SyncBatchNorm.apply(x.float(), bn.gamma, bn.beta, bn.eps, group)
    if bn.update_stats:
        with torch.no_grad():
            # The running sums as torch's fused kernel keeps them (graph.CaffeBatchNorm): r' = maf r + (1 - maf) stat.
            m = bn.SUM_TO_EMA
            bn.mean_ema.mul_(1 - m).add_(mean, alpha=m)
            bn.var_ema.mul_(1 - m).add_(var, alpha=m)
            bn.factor.mul_(1 - m).add_(1)
    return y


def enable(net, group=None):
    """Every CaffeBatchNorm of `net` synchronizes over `group` (the default process group when None); returns how many."""
    count = 0
    for m in net.modules():
        if isinstance(m, CaffeBatchNorm):
            m.sync = group if group is not None else dist.group.WORLD
            count += 1
    return count
