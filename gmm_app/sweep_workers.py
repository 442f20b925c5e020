"""Sweeps in worker processes the server can kill, so no sweep can wedge the app.

Why a process: an XLA computation cannot be cancelled from another thread. If a
runtime below us ever hangs (batched LAPACK calls on jaxlib ≤ 0.10.2 did, see
``gmm_core.linalg``), a sweep run in the server process would hold the process's
compute threads and every visitor's next fit would hang behind it. A worker process
that runs past its deadline is killed and replaced; the other workers and the server
go on serving.

Each worker is a separate Python process that sets up JAX as the server would (one
device per core, the persistent compilation cache), then answers requests over a
pipe: ``(X, keyword arguments of gmm_core.sweep)`` in, progress messages and a
``SweepResult`` (or the error) out. A pool of :data:`DEFAULT_WORKERS` workers is started
when the module is first used; a request takes an idle worker and waits for one
when all are busy. The server's pool starts its first worker at once and the others
:data:`STAGGER_SECONDS` later, offering each only once its imports are done.

``GMM_SWEEP_WORKERS`` sets the pool size; ``0`` runs sweeps in the calling process
(with the same deadline through ``gmm_core.sweep(timeout=...)``, but no kill), which
the in-process AppTest suite uses for speed.

Must not import: streamlit, plotly (pure process management over ``gmm_core``).
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import multiprocessing.connection
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from gmm_app import profiling

if TYPE_CHECKING:  # importing gmm_core starts JAX: the server's launcher starts the pool first
    from gmm_core.sweep import SweepProgress, SweepResult

ENVIRONMENT_VARIABLE = "GMM_SWEEP_WORKERS"
DEFAULT_WORKERS = 2
#: The server's pool starts its first worker at once and the others this many seconds
#: later, so that on a small machine the first one (which the default view's warm-up
#: sweep waits for) does not share the cores with the others' imports.
STAGGER_SECONDS = 20.0
#: A sweep is abandoned after this many times its estimate, plus :data:`DEADLINE_MARGIN_SECONDS`.
DEADLINE_FACTOR = 3.0
DEADLINE_MARGIN_SECONDS = 30.0
#: Extra time before the first progress report, for compiling a new shape (2–40 s on two
#: busy cores). From the first report on, only the sweep's run time counts.
COMPILE_ALLOWANCE_SECONDS = 90.0
SWEEP_TARGET = "gmm_core:sweep"

Progress = Callable[["SweepProgress"], None]
#: Called with the seconds waited so far, about every :data:`HEARTBEAT_SECONDS` while a
#: request shows no progress (it compiles, say): the page can say so, and Streamlit can
#: interrupt a rerun there.
Heartbeat = Callable[[float], None]
HEARTBEAT_SECONDS = 0.5


class SweepAbandoned(RuntimeError):
    """A sweep ran far past its estimate and was stopped; its worker was replaced."""


def deadline_seconds(estimated_seconds: float) -> float:
    """How long a sweep estimated at ``estimated_seconds`` may run before it is abandoned."""
    return DEADLINE_FACTOR * max(float(estimated_seconds), 0.0) + DEADLINE_MARGIN_SECONDS


def configured_workers() -> int:
    """The pool size from ``GMM_SWEEP_WORKERS`` (default :data:`DEFAULT_WORKERS`)."""
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_WORKERS
    try:
        return max(int(text), 0)
    except ValueError:
        return DEFAULT_WORKERS


def _resolve(target: str) -> Callable[..., SweepResult]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class _Cancelled(Exception):
    """The server no longer wants the running request (its page was rerun)."""


def _serve(connection: Any, target: str) -> None:
    """The worker's loop: set up JAX as the server does, then answer requests until EOF."""
    from gmm_core.compilation_cache import enable_compilation_cache
    from gmm_core.cpu_devices import use_cpu_cores

    use_cpu_cores()  # each worker asks for its own devices: nothing is inherited
    enable_compilation_cache()
    run = _resolve(target)
    gc.collect()
    gc.freeze()  # JAX's modules out of every later full collection (see gmm_app.long_lived)
    connection.send(("ready", os.getpid()))

    def report(step: SweepProgress) -> None:
        connection.send(("progress", step))
        if connection.poll() and connection.recv() == "cancel":
            raise _Cancelled

    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return  # the server is gone
        if request is None:
            return
        if request == "cancel":
            continue  # it came after its request had finished
        points, options = request
        try:
            with profiling.phase("worker_run", session="-"):
                result = run(points, progress=report, **options)
        except _Cancelled:
            connection.send(("cancelled", None))
        except ValueError as error:
            connection.send(("value_error", str(error)))
        except Exception as error:  # noqa: BLE001 - reported to the server as it is
            connection.send(("error", f"{type(error).__name__}: {error}"))
        else:
            connection.send(("result", result))


class Worker:
    """One worker process and its pipe; restarted after a kill or a crash."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._process: subprocess.Popen | None = None
        self._connection: Any = None
        self.in_flight = False

    def start(self) -> None:
        """Start the process (it imports JAX in the background; requests wait for it).

        A fresh interpreter (``python -m gmm_app.sweep_workers``) rather than
        multiprocessing's spawn: under ``streamlit run``, ``__main__`` is the app
        script, which spawn would run again in the child.
        """
        ours, theirs = multiprocessing.Pipe()
        paths = [path for path in sys.path if path and os.path.isdir(path)]
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno()), self.target],
            pass_fds=(theirs.fileno(),),
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(paths)),
        )
        theirs.close()
        self._connection = ours

    def wait_until_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a just-started, idle process to finish its
        imports; whether it did. Only while no request is in flight (it reads the pipe)."""
        deadline = time.perf_counter() + timeout
        try:
            while self.alive() and time.perf_counter() < deadline:
                if self._connection.poll(0.1):
                    kind, _ = self._connection.recv()
                    return kind == "ready"
        except (EOFError, OSError, AttributeError):  # it died, or the pool was closed
            pass
        return False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Kill the process at once (a hung XLA computation ignores anything gentler)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._connection.close()
        self._process = self._connection = None
        self.in_flight = False

    def send(self, points: np.ndarray, options: dict[str, Any]) -> None:
        """Start one request, (re)starting the process first if it is not running."""
        if not self.alive():
            self.stop()
            self.start()
        self._connection.send((points, options))
        self.in_flight = True

    def cancel(self) -> None:
        """Ask the running request to stop at its next progress report."""
        if self.in_flight and self._connection is not None:
            self._connection.send("cancel")

    def collect(
        self,
        deadline: float,
        progress: Progress | None,
        heartbeat: Heartbeat | None = None,
        run_allowance: float | None = None,
    ) -> SweepResult | None:
        """Wait for the running request's answer until ``deadline`` (a perf_counter time).

        With ``run_allowance``, each progress report moves the deadline to ``run_allowance``
        seconds of run time (compilation excluded) from the sweep's start. Returns None for
        a cancelled request.

        Raises
        ------
        SweepAbandoned
            When the deadline passes; the process is killed first.
        """
        started = last_beat = time.perf_counter()
        while True:
            if not self._connection.poll(max(0.0, min(0.05, deadline - time.perf_counter()))):
                now = time.perf_counter()
                if heartbeat is not None and now - last_beat >= HEARTBEAT_SECONDS:
                    heartbeat(now - started)
                    last_beat = now
                if now >= deadline:
                    self.stop()
                    raise SweepAbandoned("deadline")
                if not self.alive():
                    self.stop()
                    raise RuntimeError("the sweep worker stopped, most likely for lack of memory")
                continue
            kind, payload = self._connection.recv()
            last_beat = time.perf_counter()
            if kind == "progress" and run_allowance is not None:
                deadline = last_beat + run_allowance - payload.elapsed_seconds
            if kind == "progress" and progress is not None:
                progress(payload)
            if kind in ("progress", "ready"):
                continue
            self.in_flight = False
            if kind == "value_error":
                raise ValueError(payload)
            if kind == "error":
                raise RuntimeError(payload)
            return payload if kind == "result" else None


class WorkerPool:
    """A fixed number of :class:`Worker` processes shared by every session of the server."""

    def __init__(
        self,
        size: int,
        target: str = SWEEP_TARGET,
        compile_allowance: float = COMPILE_ALLOWANCE_SECONDS,
        stagger_seconds: float = 0.0,
    ) -> None:
        """Start ``size`` workers: the first at once, the others after ``stagger_seconds``."""
        self.size = size
        self.compile_allowance = compile_allowance
        self.workers = [Worker(target) for _ in range(size)]
        self._idle: queue.Queue[Worker] = queue.Queue()
        self.abandoned = 0
        self._closed = False
        self._start(self.workers[:1] if stagger_seconds > 0 else self.workers)
        self._later: threading.Timer | None = None
        if stagger_seconds > 0 and size > 1:
            self._later = threading.Timer(stagger_seconds, self._start_ready, (self.workers[1:],))
            self._later.daemon = True
            self._later.start()

    def _start(self, workers: list[Worker]) -> None:
        for worker in workers:
            worker.start()
            self._idle.put(worker)

    def _start_ready(self, workers: list[Worker]) -> None:
        """Start ``workers``, each taking requests once its imports are done (requests
        meanwhile go to the workers already running instead of waiting on this one). One
        that dies first is offered all the same: a request restarts it."""
        for worker in workers:
            if self._closed:
                return
            worker.start()
            try:
                worker.wait_until_ready(self.compile_allowance)
            finally:
                self._idle.put(worker)

    def run(
        self,
        points: np.ndarray,
        options: dict[str, Any],
        deadline_after: float,
        progress: Progress | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> SweepResult:
        """Run ``target(points, progress=..., **options)`` on an idle worker.

        Raises
        ------
        SweepAbandoned
            After ``deadline_after`` seconds of running, plus the compile allowance before
            the first progress report (waiting for an idle worker does not count); the
            worker is killed and a fresh one started in its place.
        ValueError
            What the sweep raised for settings it cannot fit.
        """
        worker = self._idle.get()
        deadline = time.perf_counter() + deadline_after + self.compile_allowance
        try:
            worker.send(points, options)
            result = worker.collect(deadline, progress, heartbeat, deadline_after)
        except SweepAbandoned:
            self.abandoned += 1
            worker.start()  # warm again before the next request
            self._idle.put(worker)
            raise
        except BaseException:
            if not worker.in_flight:
                self._idle.put(worker)
                raise
            # Interrupted while the sweep runs (Streamlit reruns a page by raising from
            # the progress callback): stop it at its next slice, then free the worker.
            worker.cancel()
            threading.Thread(target=self._finish, args=(worker, deadline), daemon=True).start()
            raise
        self._idle.put(worker)
        return result

    def _finish(self, worker: Worker, deadline: float) -> None:
        try:
            worker.collect(deadline, None)
        except SweepAbandoned:
            self.abandoned += 1
            worker.start()
        except (ValueError, RuntimeError):
            pass
        self._idle.put(worker)

    def idle_count(self) -> int:
        """How many workers wait for a request now (started later ones only once ready)."""
        return self._idle.qsize()

    def close(self) -> None:
        """Stop every worker (and any still to be started)."""
        self._closed = True
        if self._later is not None:
            self._later.cancel()
        for worker in self.workers:
            worker.stop()
        if self._later is not None:
            self._later.join(timeout=10)
        for worker in self.workers:  # one the timer started meanwhile
            worker.stop()


_POOL: list[WorkerPool] = []
_POOL_LOCK = threading.Lock()


def shared_pool() -> WorkerPool | None:
    """The server's pool, started on first use (None when ``GMM_SWEEP_WORKERS=0``)."""
    size = configured_workers()
    if size == 0:
        return None
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(WorkerPool(size, stagger_seconds=STAGGER_SECONDS))
        return _POOL[0]


def run_sweep(
    points: np.ndarray,
    options: dict[str, Any],
    estimated_seconds: float,
    progress: Progress | None = None,
    pool: WorkerPool | None = None,
    heartbeat: Heartbeat | None = None,
) -> SweepResult:
    """``gmm_core.sweep(points, **options)`` within :func:`deadline_seconds` of its estimate.

    Runs on ``pool`` (default: the server's shared pool), or in this process when there
    is none.

    Raises
    ------
    SweepAbandoned
        With a message naming the settings to lower, when the deadline passes.
    """
    import gmm_core

    allowed = deadline_seconds(estimated_seconds)
    started = time.perf_counter()
    pool = pool or shared_pool()
    try:
        if pool is None:
            timeout = allowed + COMPILE_ALLOWANCE_SECONDS
            return gmm_core.sweep(points, progress=progress, timeout=timeout, **options)
        return pool.run(points, options, allowed, progress, heartbeat)
    except (SweepAbandoned, TimeoutError):
        raise SweepAbandoned(
            f"The sweep was stopped after {time.perf_counter() - started:.0f} s, far past its "
            f"estimate of {estimated_seconds:.1f} s. Lower the K range, the restarts per K, "
            "max_iter, the points or the columns; your other settings are kept."
        ) from None


if __name__ == "__main__":  # a worker process, started by Worker.start
    _serve(multiprocessing.connection.Connection(int(sys.argv[1])), sys.argv[2])
