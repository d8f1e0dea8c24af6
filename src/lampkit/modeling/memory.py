"""Keep freed memory in the process on glibc Linux, for batched work on CPU.

By default glibc serves each block above a moving threshold (128 KiB up to 32 MiB) with its own ``mmap``, and hands
the free top of its heap back to the kernel once it exceeds twice that threshold. A batched forward pass frees and
reallocates MiBs of activations at every layer, and much of that memory comes back as fresh zeroed pages:
generating 64 questions of SmolLM2 in batches of 32 took about 810,000 page faults and 2.6–3.2 s of system time,
one at a time almost none. ``keep_freed_memory`` fixes the mmap threshold at 32 MiB and trims only when 1 GiB lies
free, which cut those to about 122,000 faults and 1.1–1.3 s (``bench/bench_generation.py``, figures in
``docs/benchmarks.md``). The cost: the process keeps its peak heap. The generate recipe calls it; it is the glibc
side of what PyTorch's CPU tuning guide gets from jemalloc or tcmalloc (``GLIBC_TUNABLES`` set before start does
the same).
"""

from __future__ import annotations

import ctypes
import functools

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3


@functools.cache
def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Set glibc's mmap and trim thresholds for this process (once); False where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
