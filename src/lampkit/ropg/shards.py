"""Resumable work split across processes: each finished record is appended (and flushed to disk) to its process's
JSON-lines file in a work folder, so a killed run, restarted with any number of processes, redoes nothing that is
done. Work is divided with accelerate's ``PartialState().split_between_processes``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import LampkitError
from ..resume import read_records
from ..resume import repair
from ..resume import start_work


def read_done(work_dir: str | Path, key: str) -> dict[str, dict]:
    """Every finished record in ``work_dir``, by ``record[key]``; a torn last line is ignored."""
    return {record[key]: record for path in sorted(Path(work_dir).glob("part-*.jsonl"))
            for record in read_records(path)}


def run_resumable(jobs: list[dict], key: str, work_dir: str | Path, process: Callable[[list[dict]], list[dict]], *,
                  batch_size: int, settings: dict, on_batch: Callable[[int], None] | None = None,
                  ) -> tuple[list[dict] | None, int]:
    """Run ``process`` on batches of the ``jobs`` not yet done in ``work_dir`` with the same ``settings`` (records
    keyed by ``key``), this process's share only. Returns, on the main process, every job's record in job order
    (else None), and the number of jobs this process ran now. ``on_batch(n)`` is called after each written batch
    with this process's count."""
    from accelerate import PartialState
    from tqdm.auto import tqdm

    state = PartialState()
    work_dir = Path(work_dir)
    if state.is_main_process:
        start_work(work_dir, settings, parts="part-*.jsonl")
    state.wait_for_everyone()
    done = read_done(work_dir, key)
    todo = [job for job in jobs if job[key] not in done]
    state.wait_for_everyone()  # everyone has read before anyone appends
    path = work_dir / f"part-{state.process_index:05d}.jsonl"
    if path.exists():
        repair(path)
    count = 0
    with state.split_between_processes(todo) as mine, open(path, "a", encoding="utf-8") as out:
        bar = tqdm(total=len(mine), desc=f"scoring (process {state.process_index})", unit="prompt",
                   disable=not state.is_local_main_process)
        for start in range(0, len(mine), batch_size):
            records = process(mine[start:start + batch_size])
            out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
            out.flush()
            os.fsync(out.fileno())
            count += len(records)
            bar.update(len(records))
            if on_batch is not None:
                on_batch(count)
        bar.close()
    state.wait_for_everyone()
    if not state.is_main_process:
        return None, count
    done = read_done(work_dir, key)
    missing = [job[key] for job in jobs if job[key] not in done]
    if missing:
        raise LampkitError(f"{len(missing)} jobs unfinished (first: {missing[0]})", file=work_dir)
    return [done[job[key]] for job in jobs], count
