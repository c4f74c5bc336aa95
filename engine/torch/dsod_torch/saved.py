"""What PyTorch keeps for the backward pass of one training step (`python -m dsod_torch saved-bytes`): the ground
truth core's training-memory model (core/analysis/memory.ts) is checked against.

Every tensor autograd saves goes through torch.autograd.graph.saved_tensors_hooks' pack hook. Tensors that share
memory (a ReLU's output that the next convolution and a max pool also save, a view of it) are one storage: they are
counted once, by their storage's address and its size in bytes. Storages of parameters and buffers (convolution
weights, batch-norm gamma and running statistics, L2Norm scales) are weights, not activations: left out. The rest,
the input batch included, is what the step holds between its forward and its backward pass.
"""
import torch

from .boxes import prior_boxes
from .graph import GraphNet
from .loss import multibox_loss
from .train import synthetic_images


def _storage(t):
    # torch >= 2.0 names the byte storage untyped_storage(); 1.13 (Debian's) reaches it through storage().
    s = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
    return s.data_ptr(), s.nbytes()


def saved_bytes(g, batch, seed=0):
    """{bytes, tensors, storages, byNode: {node name: bytes}} of one training step's forward pass (loss included)."""
    torch.manual_seed(seed)
    net = GraphNet(g, seed=seed).train()
    x, loc_t, labels = synthetic_images(g, prior_boxes(g), 0, batch, seed)
    weights = {_storage(t)[0] for t in list(net.parameters()) + list(net.buffers())}
    seen = {}
    by_node = {}
    count = [0]
    where = ["input"]

    def pack(t):
        count[0] += 1
        ptr, nbytes = _storage(t)
        if nbytes and ptr not in weights and ptr not in seen:
            seen[ptr] = nbytes
            by_node[where[0]] = by_node.get(where[0], 0) + nbytes
        return t

    # The node whose module runs names what it saves (concatenation saves nothing and runs no module).
    for n, m in zip(g["nodes"], net.layers):
        m.register_forward_pre_hook(lambda _m, _i, name=n["name"]: where.__setitem__(0, name))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        values, _ = net.forward_nodes(x, keep=net.outputs)
        where[0] = "heads"
        loc, conf = net.heads(values, batch)
        del values
        where[0] = "loss"
        loss = multibox_loss(loc, conf, loc_t, labels)[0]
    loss.backward()
    return {"bytes": sum(seen.values()), "tensors": count[0], "storages": len(seen), "byNode": by_node}
