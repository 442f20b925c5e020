"""Sweeps in worker processes the server can kill, so no sweep and no worker can wedge the app.

Why a process: an XLA computation cannot be cancelled from another thread; a sweep that
hung in the server process (batched LAPACK calls on jaxlib ≤ 0.10.2 did, see
``gmm_core.linalg``) would hold its compute threads and every visitor behind it.

A worker is a fresh interpreter (``python -m gmm_app.sweep_workers``) that sets JAX up as
the server does, then answers over a pipe: ``(X, keyword arguments of gmm_core.sweep)``
in; progress reports and a ``SweepResult`` (or the error's type, message and traceback)
out. Not multiprocessing's spawn, nor a pool built on it (``concurrent.futures``,
pebble): under ``streamlit run`` spawn would run the app script, ``__main__``, again in
the child, and neither carries progress reports or a cancel that keeps a worker warm.

The pool survives its workers: a request whose worker dies (the OOM killer's ``SIGKILL``)
ends with :class:`WorkerLost`, one that raises with :class:`WorkerError` (traceback in
the log), one past its deadline with :class:`SweepAbandoned`; the worker is replaced and
the other requests go on. A session's new request cancels its old one; at most
:data:`MAX_WAITING` requests wait, none over :data:`QUEUE_TIMEOUT_SECONDS`
(:class:`PoolBusy` says when to try again); none holds a worker over
:data:`MAX_REQUEST_SECONDS`. The server's pool starts its first worker at once, the
others :data:`STAGGER_SECONDS` later, each offered once its imports are done.

``GMM_SWEEP_WORKERS`` sets the pool size; ``0`` runs sweeps in the calling process (the
same deadline through ``gmm_core.sweep(timeout=...)``, no kill), as the AppTest suite does.

Must not import: streamlit, plotly (pure process management over ``gmm_core``).
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import importlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gmm_app import profiling

if TYPE_CHECKING:  # importing gmm_core starts JAX: the server's launcher starts the pool first
    from gmm_core.sweep import SweepProgress, SweepResult

log = logging.getLogger(__name__)

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
#: The most one request may hold a worker, compile allowance included, whatever its
#: estimate: the budget gate refuses (rather than offers to confirm) a sweep whose
#: deadline would pass it, one estimated over 3 min (:func:`max_estimate_seconds`).
MAX_REQUEST_SECONDS = 660.0
#: How long a request waits for a free worker before it is told to try again.
QUEUE_TIMEOUT_SECONDS = 120.0
#: How many requests may wait for a worker, server-wide; one more is told to try again.
MAX_WAITING = 4
#: A cancelled sweep stops at its next progress report, and its worker stays warm; if the
#: same session asks for a new sweep and the old one has not stopped this many seconds
#: later, its worker is killed and replaced.
CANCEL_GRACE_SECONDS = 5.0
SWEEP_TARGET = "gmm_core:sweep"

Progress = Callable[["SweepProgress"], None]
#: Called with the seconds waited so far, about every :data:`HEARTBEAT_SECONDS` while a
#: request shows no progress (it waits for a worker, or compiles): the page can say so,
#: and Streamlit can interrupt a rerun there.
Heartbeat = Callable[[float], None]
HEARTBEAT_SECONDS = 0.5

MEMORY_ADVICE = (
    "lower the number of points, the restarts per K or the K range and try again; "
    "your other settings are kept"
)


class SweepAbandoned(RuntimeError):
    """A sweep ran far past its estimate and was stopped; its worker was replaced."""


class SweepCancelled(RuntimeError):
    """A newer request of the same session replaced this one."""


class PoolBusy(RuntimeError):
    """No worker was free in time, or too many requests wait: try again later."""


class WorkerLost(RuntimeError):
    """The worker process died during the request (``returncode`` as Popen gives it)."""

    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode
        self.out_of_memory = returncode == -signal.SIGKILL
        if returncode is not None and returncode < 0:
            how = f"was killed ({signal.Signals(-returncode).name})"
        else:
            how = "stopped" + ("" if returncode is None else f" (exit code {returncode})")
        cause = ", most likely by the system for lack of memory" if self.out_of_memory else ""
        super().__init__(
            f"the sweep's worker process {how}{cause}. A fresh worker is starting: "
            + (MEMORY_ADVICE if self.out_of_memory else "try again")
        )


class WorkerError(RuntimeError):
    """The sweep raised ``type_name(message)`` in its worker; ``traceback`` is the worker's."""

    def __init__(self, type_name: str, message: str, traceback_text: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name, self.traceback = type_name, traceback_text


def failure_message(error: BaseException) -> str:
    """What the page says about a sweep that failed, worded by its cause."""
    if isinstance(error, WorkerLost | SweepAbandoned | SweepCancelled | PoolBusy):
        return str(error)  # worded where it was raised
    named = str(error) if isinstance(error, WorkerError) else f"{type(error).__name__}: {error}"
    if isinstance(error, MemoryError) or "MemoryError" in named or "RESOURCE_EXHAUSTED" in named:
        return f"the sweep ran out of memory ({named}); {MEMORY_ADVICE}"
    return f"the sweep failed with {named} (the server's log has the details)"


def deadline_seconds(estimated_seconds: float) -> float:
    """How long a sweep estimated at ``estimated_seconds`` may run before it is abandoned
    (compilation excluded), at most :data:`MAX_REQUEST_SECONDS` less the compile allowance."""
    wanted = DEADLINE_FACTOR * max(float(estimated_seconds), 0.0) + DEADLINE_MARGIN_SECONDS
    return min(wanted, MAX_REQUEST_SECONDS - COMPILE_ALLOWANCE_SECONDS)


def max_estimate_seconds() -> float:
    """The largest estimate whose deadline fits in :data:`MAX_REQUEST_SECONDS`."""
    spare = MAX_REQUEST_SECONDS - COMPILE_ALLOWANCE_SECONDS - DEADLINE_MARGIN_SECONDS
    return spare / DEADLINE_FACTOR


def configured_workers() -> int:
    """The pool size from ``GMM_SWEEP_WORKERS`` (default :data:`DEFAULT_WORKERS`)."""
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_WORKERS
    try:
        return max(int(text), 0)
    except ValueError:
        return DEFAULT_WORKERS


def _serve(connection: Any, target: str) -> None:
    """The worker's loop: set up JAX as the server does, then answer requests until EOF."""
    from gmm_core.compilation_cache import enable_compilation_cache
    from gmm_core.cpu_devices import use_cpu_cores

    use_cpu_cores()  # each worker asks for its own devices: nothing is inherited
    enable_compilation_cache()
    module, _, name = target.partition(":")
    run = getattr(importlib.import_module(module), name)
    gc.collect()
    gc.freeze()  # JAX's modules out of every later full collection (see gmm_app.long_lived)
    connection.send(("ready", os.getpid()))

    def report(step: SweepProgress) -> None:
        connection.send(("progress", step))
        if connection.poll() and connection.recv() == "cancel":
            raise SweepCancelled  # the server no longer wants it (its page was rerun)

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
                answer = ("result", run(points, progress=report, **options))
        except SweepCancelled:
            answer = ("cancelled", None)
        except ValueError as error:
            answer = ("value_error", str(error))
        except Exception as error:  # noqa: BLE001 - reported to the server as it is
            answer = ("error", (type(error).__name__, str(error), traceback.format_exc()))
        connection.send(answer)


class Worker:
    """One worker process and its pipe; only the thread holding the worker uses the pipe."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._process: subprocess.Popen | None = None
        self._connection: Any = None
        self.retired = False  # its pool was closed: never start again

    def start(self) -> None:
        """Start the process (it imports JAX in the background; requests wait for it)."""
        if self.retired:
            return
        paths = [path for path in sys.path if path and os.path.isdir(path)]
        try:
            ours, theirs = multiprocessing.Pipe()
            with theirs:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", __name__, str(theirs.fileno()), self.target],
                    pass_fds=(theirs.fileno(),),
                    env=dict(os.environ, PYTHONPATH=os.pathsep.join(paths)),
                )
        except OSError:  # no memory or file handles left: the next request tries again
            log.exception("could not start a sweep worker")
            return
        self._connection = ours

    def restart(self) -> None:
        self.stop()
        self.start()

    def wait_until_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a just-started, idle process to finish its
        imports; whether it did. Only while no request is in flight (it reads the pipe)."""
        deadline = time.perf_counter() + timeout
        try:
            while self.alive() and time.perf_counter() < deadline:
                if self._connection.poll(0.1):
                    return self._connection.recv()[0] == "ready"
        except (EOFError, OSError, AttributeError):  # it died, or the pool was closed
            pass
        return False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def exit_code(self, timeout: float = 2.0) -> int | None:
        """The exit code of a process whose pipe closed (it may take a moment to exit)."""
        with contextlib.suppress(subprocess.TimeoutExpired, AttributeError):
            return self._process.wait(timeout)
        return None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Kill the process at once (a hung XLA computation ignores anything gentler)."""
        if self._process is not None:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait(timeout=10)
            self._connection.close()
        self._process = self._connection = None

    def send(self, message: object) -> None:
        """Send to the process; OSError (BrokenPipeError) when it is gone."""
        self._connection.send(message)

    def receive(self, timeout: float) -> tuple[str, Any] | None:
        """The next message within ``timeout`` seconds, or None; EOFError/OSError when the
        process is gone."""
        return self._connection.recv() if self._connection.poll(timeout) else None


@dataclass(eq=False)
class _Request:
    owner: Hashable | None
    estimated_seconds: float
    expected_end: float = 0.0  # perf_counter time, from its estimate, once on a worker
    superseded_at: float | None = None  # perf_counter time a newer request of its owner came
    answered: bool = False  # its worker has answered, or was replaced: free to reuse


class WorkerPool:
    """A fixed number of :class:`Worker` processes shared by every session of the server."""

    def __init__(
        self,
        size: int,
        target: str = SWEEP_TARGET,
        compile_allowance: float = COMPILE_ALLOWANCE_SECONDS,
        stagger_seconds: float = 0.0,
        queue_timeout: float = QUEUE_TIMEOUT_SECONDS,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        """Start ``size`` workers: the first at once, the others after ``stagger_seconds``."""
        self.size = size
        self.compile_allowance = compile_allowance
        self.queue_timeout = queue_timeout
        self.max_waiting = max_waiting
        self.workers = [Worker(target) for _ in range(size)]
        self.abandoned = 0
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting: list[_Request] = []
        self._running: list[_Request] = []
        self._owners: dict[Hashable, _Request] = {}
        self._closed = False
        later = self.workers[1:] if stagger_seconds > 0 else []
        for worker in self.workers[: size - len(later)]:
            worker.start()
            self._idle.put(worker)
        self._later: threading.Timer | None = None
        if later:
            self._later = threading.Timer(stagger_seconds, self._start_ready, (later,))
            self._later.daemon = True
            self._later.start()

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
        *,
        owner: Hashable | None = None,
        estimated_seconds: float | None = None,
    ) -> SweepResult:
        """Run ``target(points, progress=..., **options)`` on an idle worker.

        ``owner`` (a session) has at most one request: a new one cancels the old.
        ``estimated_seconds`` (default ``deadline_after / DEADLINE_FACTOR``) tells others
        when to try again.

        Raises
        ------
        SweepAbandoned
            After ``deadline_after`` seconds of running, plus the compile allowance before
            the first progress report (waiting for a worker does not count); the worker
            is replaced.
        WorkerLost, WorkerError
            The worker died (it is replaced), or the sweep raised there.
        PoolBusy, SweepCancelled
            No worker in time or too many waiting; a newer request of ``owner``.
        ValueError
            What the sweep raised for settings it cannot fit.
        """
        if estimated_seconds is None:
            estimated_seconds = deadline_after / DEADLINE_FACTOR
        request = self._admit(owner, estimated_seconds)
        worker = self._take(request, heartbeat)
        deadline = time.perf_counter() + deadline_after + self.compile_allowance
        try:
            if not worker.alive():  # killed while idle
                worker.restart()
            try:
                worker.send((points, options))
            except OSError:  # killed since
                worker.restart()
                worker.send((points, options))
        except BaseException as error:
            self._release(worker, request)
            if isinstance(error, OSError | AttributeError):  # it could not be (re)started
                raise WorkerLost(worker.exit_code(0)) from error
            raise
        try:
            return self._collect(worker, request, deadline, deadline_after, progress, heartbeat)
        finally:
            if request.answered:
                self._release(worker, request)
            else:  # interrupted (Streamlit reruns a page by raising from a callback)
                threading.Thread(
                    target=self._drain, args=(worker, request, deadline), daemon=True
                ).start()

    def _admit(self, owner: Hashable | None, estimated_seconds: float) -> _Request:
        """Register a request, or refuse it when too many wait; cancel the owner's last."""
        request = _Request(owner, estimated_seconds)
        with self._lock:
            if self._idle.empty() and len(self._waiting) >= self.max_waiting:
                seconds = self._retry_after()
                log.warning("sweep refused: %d requests wait already", len(self._waiting))
                raise PoolBusy(
                    f"the server is busy: {len(self._running)} sweeps run and "
                    f"{len(self._waiting)} wait for its {self.size} workers. Try again in "
                    f"about {seconds} s; your settings are kept"
                )
            if owner is not None:
                if owner in self._owners:
                    self._owners[owner].superseded_at = time.perf_counter()
                self._owners[owner] = request
            self._waiting.append(request)
        return request

    def _retry_after(self) -> int:
        """Seconds until a newcomer would get a worker, from the estimates (lock held)."""
        now = time.perf_counter()
        free = [max(r.expected_end - now, 0.0) for r in self._running]
        free += [0.0] * max(self.size - len(free), 0)
        heapq.heapify(free)
        for waiting in self._waiting:
            heapq.heappush(free, heapq.heappop(free) + waiting.estimated_seconds)
        return max(5, round(free[0] if free else self.queue_timeout))

    def _take(self, request: _Request, heartbeat: Heartbeat | None) -> Worker:
        """An idle worker for ``request``, waiting at most ``queue_timeout`` seconds."""
        started = time.perf_counter()
        worker = None
        try:
            while worker is None:
                if request.superseded_at is not None:
                    raise SweepCancelled("a newer sweep of this session replaced this one")
                waited = time.perf_counter() - started
                if waited >= self.queue_timeout:
                    with self._lock:
                        seconds = self._retry_after()
                    log.warning("sweep gave up after waiting %.0f s for a worker", waited)
                    raise PoolBusy(
                        f"no sweep worker became free within {waited:.0f} s (the server is "
                        f"busy). Try again in about {seconds} s; your settings are kept"
                    )
                with contextlib.suppress(queue.Empty):
                    worker = self._idle.get(timeout=HEARTBEAT_SECONDS)
                if worker is None and heartbeat is not None:
                    heartbeat(waited)
            return worker
        finally:
            with self._lock:
                self._waiting.remove(request)
                if worker is not None:
                    request.expected_end = time.perf_counter() + request.estimated_seconds
                    self._running.append(request)
                elif self._owners.get(request.owner) is request:
                    del self._owners[request.owner]

    def _collect(
        self,
        worker: Worker,
        request: _Request,
        deadline: float,
        run_allowance: float | None,
        progress: Progress | None,
        heartbeat: Heartbeat | None,
        draining: bool = False,
    ) -> SweepResult:
        """Wait for the answer until ``deadline`` (a perf_counter time); each progress
        report moves it to ``run_allowance`` seconds of run time from the sweep's start."""
        started = time.perf_counter()
        while True:
            superseded = request.superseded_at
            if superseded is not None and not (
                draining and time.perf_counter() < superseded + CANCEL_GRACE_SECONDS
            ):
                if draining:  # its session waits for a worker: stop it now
                    request.answered = True
                    worker.restart()
                raise SweepCancelled("a newer sweep of this session replaced this one")
            wait = max(0.0, min(HEARTBEAT_SECONDS, deadline - time.perf_counter()))
            try:
                message = worker.receive(wait)
            except (EOFError, OSError, AttributeError):  # AttributeError: the pool was closed
                message = ("lost", None)
            now = time.perf_counter()
            if message is None and not worker.alive():
                message = ("lost", None)
            if message is None:
                if now >= deadline:
                    request.answered = True
                    self.abandoned += 1
                    log.warning("sweep abandoned at its deadline; worker %s replaced", worker.pid)
                    worker.restart()
                    raise SweepAbandoned("deadline")
                if heartbeat is not None:
                    heartbeat(now - started)
                continue
            kind, payload = message
            if kind == "progress":
                if run_allowance is not None:
                    deadline = now + run_allowance - payload.elapsed_seconds
                if progress is not None:
                    progress(payload)
                continue
            if kind == "ready":
                continue
            request.answered = True
            if kind == "lost":
                error = WorkerLost(worker.exit_code())
                log.error("sweep worker %s lost: %s", worker.pid, error)
                worker.restart()
                raise error
            if kind == "value_error":
                raise ValueError(payload)
            if kind == "error":
                log.error("sweep failed in worker %s:\n%s", worker.pid, payload[2])
                raise WorkerError(*payload)
            if kind == "cancelled":
                raise SweepCancelled("the sweep was cancelled")
            return payload

    def _drain(self, worker: Worker, request: _Request, deadline: float) -> None:
        """Cancel an interrupted request, wait for its worker to stop it, free the worker."""
        try:
            worker.send("cancel")
            self._collect(worker, request, deadline, None, None, None, draining=True)
        except Exception:  # noqa: BLE001 - whatever it was, nobody waits for it now
            if not request.answered:  # the pipe broke: make sure the worker is fresh
                worker.restart()
        finally:
            self._release(worker, request)

    def _release(self, worker: Worker, request: _Request) -> None:
        with self._lock:
            self._running.remove(request)
            if self._owners.get(request.owner) is request:
                del self._owners[request.owner]
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
            worker.retired = True
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
    owner: Hashable | None = None,
) -> SweepResult:
    """``gmm_core.sweep(points, **options)`` within :func:`deadline_seconds` of its estimate.

    Runs on ``pool`` (default: the server's shared pool), or in this process when there
    is none; ``owner`` (a session id) has at most one sweep running.

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
        return pool.run(
            points,
            options,
            allowed,
            progress,
            heartbeat,
            owner=owner,
            estimated_seconds=estimated_seconds,
        )
    except (SweepAbandoned, TimeoutError):
        raise SweepAbandoned(
            f"The sweep was stopped after {time.perf_counter() - started:.0f} s, far past its "
            f"estimate of {estimated_seconds:.1f} s. Lower the K range, the restarts per K, "
            "max_iter, the points or the columns; your other settings are kept."
        ) from None
    except (MemoryError, RuntimeError) as error:
        if pool is None:  # a worker's failures are logged where they are met
            log.exception("sweep failed in the server process: %s", error)
        raise


if __name__ == "__main__":  # a worker process, started by Worker.start
    _serve(multiprocessing.connection.Connection(int(sys.argv[1])), sys.argv[2])
