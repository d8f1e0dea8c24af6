"""lampkit.modeling.memory: freed activations stay in the process instead of coming back as fresh pages."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's")

# glibc's own bookkeeping (mallinfo2, glibc >= 2.33) around a 4 MiB block and eight 3 MiB ones: by default the first
# gets its own mmap and the freed top of the heap goes back to the kernel; with the thresholds set both stay in
# the heap. Prints: kept, MiB mapped for the 4 MiB block, heap MiB at its peak, heap MiB after the frees.
HEAP = """
import ctypes, sys
from lampkit.modeling.memory import keep_freed_memory
kept = sys.argv[1] == "keep" and keep_freed_memory()
libc = ctypes.CDLL(None)
class Info(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(f, ctypes.c_size_t) for f in names.split()]
libc.mallinfo2.restype = Info
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, (ctypes.c_size_t,), (ctypes.c_void_p,)
MiB = 1 << 20
mapped_before = libc.mallinfo2().hblkhd
big = libc.malloc(4 * MiB)
mapped = libc.mallinfo2().hblkhd - mapped_before
libc.free(big)
blocks = [libc.malloc(3 * MiB) for _ in range(8)]
peak = libc.mallinfo2().arena
for block in reversed(blocks):
    libc.free(block)
print(kept, mapped // MiB, peak // MiB, libc.mallinfo2().arena // MiB)
"""

# Rounds of tensors of 0.25–7 MiB, some kept and the rest freed, as a forward pass's activations are; prints the
# page faults of the second round of rounds.
ROUNDS = """
import resource, sys, torch
from lampkit.modeling.memory import keep_freed_memory
kept = sys.argv[1] == "keep" and keep_freed_memory()
def rounds():
    for _ in range(10):
        keep = []
        for n in range(1, 60):
            x, y = torch.ones((n % 7 + 1) << 18), torch.ones((n % 5 + 1) << 16)
            keep += [x] * (n % 3 == 0) + [y] * (n % 4 == 0)
        del keep, x, y
rounds()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds()
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def run(script: str, mode: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_keep_freed_memory_serves_blocks_from_the_heap_and_keeps_it():
    kept, mapped, peak, after = run(HEAP, "keep")
    assert (kept, mapped) == ("True", "0") and int(after) == int(peak) >= 24
    kept, mapped, peak, after = run(HEAP, "default")
    assert kept == "False" and int(mapped) >= 4 and int(after) <= int(peak) - 16


def test_keep_freed_memory_stops_refaulting_freed_heap():
    (kept, with_it), (_, without) = run(ROUNDS, "keep"), run(ROUNDS, "default")
    assert kept == "True"
    if int(without) < 10_000:  # e.g. transparent huge pages: a few faults map whole 2 MiB pages
        pytest.skip(f"this kernel counts {without} page faults for the default allocator: too few to compare")
    assert int(with_it) < int(without) / 10
