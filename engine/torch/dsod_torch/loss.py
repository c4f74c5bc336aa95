"""SSD's MultiBox loss with 3:1 hard negative mining, as engine/boxes/loss.ts computes it: smooth-L1 over the
positives' offsets plus softmax cross-entropy over the positives and the hardest negatives, both divided by the
number of positives (at least 1)."""
import torch
import torch.nn.functional as F


def multibox_loss(loc, conf, loc_t, labels, neg_pos=3):
    """loc [N, P, 4], conf [N, P, C] (logits), loc_t [N, P, 4] encoded targets, labels [N, P] (0 background,
    -1 ignored). Returns (loss, loc part, conf part)."""
    pos = labels > 0
    npos = pos.sum().clamp(min=1).to(loc.dtype)
    d = (loc - loc_t).abs()
    smooth = torch.where(d < 1, 0.5 * d * d, d - 0.5).sum(2)
    loc_loss = (smooth * pos).sum() / npos
    logp = F.log_softmax(conf, -1)
    ce = -logp.gather(2, labels.clamp(min=0).unsqueeze(2)).squeeze(2)
    with torch.no_grad():
        bg = -logp[..., 0]
        cand = labels == 0
        bg = torch.where(cand, bg, torch.full_like(bg, -1))
        rank = bg.argsort(1, descending=True).argsort(1)
        num_neg = torch.minimum(pos.sum(1) * neg_pos, cand.sum(1)).unsqueeze(1)
        neg = (rank < num_neg) & cand
    conf_loss = (ce * (pos | neg)).sum() / npos
    return loc_loss + conf_loss, loc_loss, conf_loss
