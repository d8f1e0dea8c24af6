"""The ROPG and RSPG losses, on score tensors of shape ``(questions, items)``.

- :func:`kd_loss`: the stated ROPG-KD objective, ``KL(teacher ‖ student)`` with ``teacher = softmax(g / T)`` of the
  items' utilities and ``student = softmax(s / T)`` of the retriever's scores, one softmax per side, averaged over
  questions. ``double_softmax=True`` reproduces ``LaMP-Benchmark/LaMP:ROPG/train_kd.py`` as coded: the student's
  probabilities are fed to ``CrossEntropyLoss`` as if they were logits, so a second softmax flattens them.
- :func:`rl_loss`: ROPG-RL's policy gradient, ``-mean(log p_j · (g_j - g_0))`` for the sampled item ``j``, the reward
  relative to the top pre-ranked item 0 (``LaMP-Benchmark/LaMP:ROPG/train_rl.py``).
- :func:`selector_loss`: RSPG's ``KL(softmax(g / T) ‖ softmax(logits))`` over the retrievers of a pool.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kd_loss(scores: torch.Tensor, utilities: torch.Tensor, temperature: float = 1.0, *,
            double_softmax: bool = False) -> torch.Tensor:
    """KL divergence from the LLM's distribution over the items to the retriever's (batch mean)."""
    teacher = F.softmax(utilities / temperature, dim=-1)
    if double_softmax:
        return F.cross_entropy(F.softmax(scores / temperature, dim=-1), teacher)
    return F.kl_div(F.log_softmax(scores / temperature, dim=-1), teacher, reduction="batchmean")


def relative_rewards(utilities: torch.Tensor, sampled: torch.Tensor) -> torch.Tensor:
    """The sampled item's utility minus the top pre-ranked item's (column 0), per question."""
    return utilities.gather(-1, sampled.unsqueeze(-1)).squeeze(-1) - utilities[..., 0]


def sample_items(scores: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One item index per question, drawn from ``softmax(scores)``."""
    return torch.multinomial(F.softmax(scores.detach(), dim=-1), 1, generator=generator).squeeze(-1)


def rl_loss(scores: torch.Tensor, utilities: torch.Tensor, sampled: torch.Tensor) -> torch.Tensor:
    """REINFORCE with the top pre-ranked item as baseline: ``-mean(log softmax(s)_j · (g_j - g_0))``."""
    log_p = F.log_softmax(scores, dim=-1).gather(-1, sampled.unsqueeze(-1)).squeeze(-1)
    return -(log_p * relative_rewards(utilities, sampled)).mean()


def selector_loss(logits: torch.Tensor, utilities: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """KL from the softmax of the retrievers' utilities (at ``temperature``) to the selector's distribution."""
    target = F.softmax(utilities / temperature, dim=-1)
    return F.kl_div(F.log_softmax(logits, dim=-1), target, reduction="batchmean")
