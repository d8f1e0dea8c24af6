"""Many users in one batch: per-user adapters (LoRA, IA3, VeRA, prompt tuning) trained together in the same
forward and backward pass.

Each targeted linear layer holds the frozen base weight plus per-user state stacked along a leading *slot* axis
(prompt tuning: per-user virtual-token embeddings put before each row's input); a per-row slot index picks the
state of the row's user, so each row uses and updates only its own user's state.
The optimizer, learning-rate schedule, gradient clipping and step counts are per user, so that each user's adapter
is the one that user would get if trained alone (``lampkit.multiuser.reference``). Finished users are exported as
ordinary PEFT adapter folders. Importing this package is light; torch and peft load inside the functions.
"""

from __future__ import annotations

from .settings import TrainSettings
from .sizes import bytes_per_user

__all__ = ["TrainSettings", "bytes_per_user", "train_users", "train_user_reference"]


def train_users(*args, **kwargs):
    """See ``lampkit.multiuser.train.train_users``."""
    from .train import train_users as run

    return run(*args, **kwargs)


def train_user_reference(*args, **kwargs):
    """See ``lampkit.multiuser.reference.train_user_reference``."""
    from .reference import train_user_reference as run

    return run(*args, **kwargs)
