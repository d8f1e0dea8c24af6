"""lampkit.modeling.memory: freed activations stay in the process instead of coming back as fresh pages."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# Rounds of tensors of 0.25–7 MiB, some kept and the rest freed, as a forward pass's activations are: glibc's
# default hands freed heap back to the kernel and faults it in again on the next round; with the thresholds set
# the process reuses it.
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


def faults(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True, text=True, check=True).stdout
    kept, n = out.split()
    return kept, int(n)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's")
def test_keep_freed_memory_stops_refaulting_freed_heap():
    (kept, with_it), (_, without) = faults("keep"), faults("default")
    assert kept == "True"
    assert without > 10_000  # the default really trims and refaults (else the test shows nothing)
    assert with_it < without / 10
