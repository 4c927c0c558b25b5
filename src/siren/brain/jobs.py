"""In-process background jobs (patch synthesis and validation take a fraction of a second each,
too long for the ingest request). One worker thread, a bounded queue; a failing job is logged and
the worker carries on. ``inline`` mode runs each job at once, for tests and tools."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Literal

log = logging.getLogger("siren.brain.jobs")

Job = Callable[[], None]


class JobRunner:
    def __init__(self, mode: Literal["thread", "inline"] = "thread", maxsize: int = 1000) -> None:
        self.mode = mode
        self.dropped = 0
        self.failed = 0
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.mode == "thread" and self._thread is None:
            self._thread = threading.Thread(target=self._work, name="siren-brain-jobs", daemon=True)
            self._thread.start()

    def submit(self, job: Job) -> bool:
        """Run ``job`` soon; ``False`` if the queue is full (the job is dropped and counted)."""
        if self.mode == "inline":
            self._run(job)
            return True
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def join(self) -> None:
        """Wait until every submitted job has run."""
        if self.mode == "thread":
            self._queue.join()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _run(self, job: Job) -> None:
        try:
            job()
        except Exception:
            self.failed += 1
            log.exception("background job failed")

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._run(job)
            finally:
                self._queue.task_done()
