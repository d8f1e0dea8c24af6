"""One optimizer over every user's stacked factors, with per-user steps, learning rates and gradient clipping.

Each update touches only the slots marked active (users with a batch in this step): their parameters, Adam moments
and step counts. Inactive slots are left exactly as they are (no weight decay, no moment decay), so a user's
trajectory is the one it has when trained alone. The arithmetic follows ``torch.optim.AdamW`` / ``SGD``
(single-tensor form), applied slot-wise.
"""

from __future__ import annotations

import torch


def _per_slot(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values.view(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def clip_per_user(params: list[torch.Tensor], max_norm: float, active: torch.Tensor) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` per slot: each user's global L2 norm over all its tensors, scaled to at
    most ``max_norm``. Returns the per-slot norms before clipping (0 for inactive slots)."""
    norms = torch.zeros(active.shape[0], dtype=torch.float32)
    for p in params:
        if p.grad is not None:
            norms += p.grad.detach().float().pow(2).flatten(1).sum(1)
    norms = norms.sqrt() * active
    coef = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    for p in params:
        if p.grad is not None:
            p.grad.mul_(_per_slot(coef, p.grad))
    return norms


class PerUserOptimizer:
    """AdamW (or plain SGD) over tensors whose first axis is the user slot."""

    def __init__(self, params: list[torch.Tensor], kind: str = "adamw", betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.params, self.kind, self.betas, self.eps, self.weight_decay = params, kind, betas, eps, weight_decay
        slots = params[0].shape[0]
        self.steps = torch.zeros(slots, dtype=torch.long)
        self.exp_avg = [torch.zeros_like(p) for p in params] if kind == "adamw" else []
        self.exp_avg_sq = [torch.zeros_like(p) for p in params] if kind == "adamw" else []

    def reset_slot(self, slot: int) -> None:
        """Forget a slot's state (a new user takes it)."""
        self.steps[slot] = 0
        for m, v in zip(self.exp_avg, self.exp_avg_sq):
            m[slot] = 0
            v[slot] = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, active: torch.Tensor, lrs: torch.Tensor) -> None:
        """One update of the ``active`` slots (bool, per slot), slot ``u`` at learning rate ``lrs[u]``."""
        self.steps += active.long()
        if self.kind == "sgd":
            for p in self.params:
                if p.grad is not None:
                    p.sub_(_per_slot(lrs * active, p) * p.grad)
            return
        beta1, beta2 = self.betas
        step = self.steps.clamp(min=1).double()
        bc1 = 1 - beta1 ** step
        bc2_sqrt = (1 - beta2 ** step).sqrt()
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            mask = _per_slot(active, p).bool()
            g = p.grad
            lr = _per_slot(lrs, p)
            new_p = p * (1 - lr * self.weight_decay)
            new_m = m.lerp(g, 1 - beta1)
            new_v = v * beta2 + (1 - beta2) * g * g
            denom = new_v.sqrt() / _per_slot(bc2_sqrt, p) + self.eps
            new_p = new_p - (lr / _per_slot(bc1, p)) * new_m / denom
            p.copy_(torch.where(mask, new_p, p))
            m.copy_(torch.where(mask, new_m, m))
            v.copy_(torch.where(mask, new_v, v))
