"""User identity helpers shared by per-user training, serving and cards: stable seeds and salted hashes.

>>> user_seed(0, "u1") == user_seed(0, "u1") != user_seed(1, "u1")
True
>>> len(user_hash("u1", salt="s")), user_hash("u1", salt="s") == user_hash("u1", salt="t")
(16, False)
"""

from __future__ import annotations

import hashlib
import re

#: What ``user_hash`` returns: 16 hex digits.
USER_HASH = re.compile(r"[0-9a-f]{16}")


def user_seed(seed: int, user_id: str) -> int:
    """The seed of one user's adapter and data order: fixed by (seed, user), whatever the sharding or batch."""
    return int(hashlib.sha256(f"{seed}:{user_id}".encode()).hexdigest()[:8], 16)


def user_hash(user_id: str, salt: str) -> str:
    """A salted hash that names a user in repo names, cards and logs without revealing the raw id."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:16]
