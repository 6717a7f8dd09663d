"""``lod serve``: a master process that binds the port and keeps ``workers`` processes serving it.

The master binds the listening socket, forks the workers, replaces a worker that dies and passes
SIGTERM/SIGINT on to them; it creates no app, opens no store and starts no thread, as neither
RocksDB nor threads survive a fork. Each worker creates the app after the fork, loads the release
into memory on a thread of its own while it already answers, and runs the HTTP server of
``http_server`` on the shared socket: the kernel hands each new connection to one of them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import select
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

from lod.errors import LodError
from lod.query.evaluate import PLANS_LOGGER
from lod.settings import Settings
from lod.web.http_server import BACKLOG, WorkerServer

log = logging.getLogger(__name__)

GRACE = 10.0
"""Seconds a stopping worker goes on answering the requests it has; then the master kills it."""
READY = b"r"


class ServeError(LodError):
    """The server could not start: the address is taken, or a worker failed to start."""


def serve(settings: Settings) -> None:
    """Serve the release in ``settings.release_dir`` until SIGTERM or SIGINT."""
    _log_to_stderr(settings)
    _allow_open_files(settings)
    listener = listen(settings.host, settings.port)
    log.info("listening at http://%s:%s/ with %d worker(s) of %d thread(s)", settings.host, settings.port,
             settings.workers, settings.threads)
    try:
        _Master(settings, listener).run()
    finally:
        listener.close()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port``, to be shared by the workers."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(BACKLOG)
    except OSError as error:
        listener.close()
        raise ServeError(f"cannot listen on {host}:{port}: {error}") from None
    listener.set_inheritable(True)
    return listener


@dataclass
class _Worker:
    pid: int
    ready_fd: int
    """The read end of the pipe the worker writes READY to once it takes requests."""
    ready: bool = False


@dataclass
class _Master:
    settings: Settings
    listener: socket.socket
    workers: dict[int, _Worker] = field(default_factory=dict)
    stopping: bool = False

    def run(self) -> None:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(number, _note)  # the wake-up pipe carries the signal's number
        try:
            for _ in range(self.settings.workers):
                self._spawn(close=(wake_read, wake_write))
            while not self.stopping:
                pending = [w.ready_fd for w in self.workers.values() if not w.ready and w.ready_fd >= 0]
                readable, _, _ = select.select([wake_read, *pending], [], [], 5.0)
                for fd in readable:
                    if fd == wake_read:
                        self._signals(os.read(wake_read, 64))
                    else:
                        self._readiness(fd)
                self._reap(close=(wake_read, wake_write))
        finally:
            self._stop()
            signal.set_wakeup_fd(-1)
            os.close(wake_read)
            os.close(wake_write)

    def _signals(self, numbers: bytes) -> None:
        if signal.SIGTERM in numbers or signal.SIGINT in numbers:
            log.info("stopping: the workers finish the requests in flight (%g s at most)", GRACE)
            self.stopping = True

    def _readiness(self, fd: int) -> None:
        worker = next(w for w in self.workers.values() if w.ready_fd == fd)
        if os.read(fd, 1) == READY:
            worker.ready = True
            log.info("worker %d takes requests", worker.pid)
        os.close(fd)  # ready, or it died (then the pipe is at its end): either way no more to read
        worker.ready_fd = -1

    def _reap(self, *, close: tuple[int, ...]) -> None:
        while self.workers:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            if worker.ready_fd >= 0:
                worker.ready = worker.ready or os.read(worker.ready_fd, 1) == READY
                os.close(worker.ready_fd)
            if not worker.ready:
                raise ServeError(f"a worker could not start ({_exit_status(status)}); see the messages "
                                 "above. Stopping.")
            log.error("worker %d %s; starting another", pid, _exit_status(status))
            self._spawn(close=close)

    def _spawn(self, *, close: tuple[int, ...]) -> None:
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.set_wakeup_fd(-1)
                inherited = (w.ready_fd for w in self.workers.values() if w.ready_fd >= 0)
                for fd in (*close, ready_read, *inherited):
                    os.close(fd)
                code = _work(self.settings, self.listener, ready_write, master=os.getppid())
            except SystemExit as stopped:  # told to stop while starting
                code = stopped.code if isinstance(stopped.code, int) else 1
            except BaseException:
                log.exception("worker %d failed", os.getpid())
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)  # never the master's clean-up (atexit, finally) in a worker
        os.close(ready_write)
        self.workers[pid] = _Worker(pid, ready_read)
        log.info("worker %d started", pid)

    def _stop(self) -> None:
        """Asks every worker to stop, and kills those that have not within the grace period."""
        for pid in self.workers:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE + 5
        while self.workers and time.monotonic() < deadline:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(0.05)  # the workers are finishing their requests; look again shortly
                continue
            worker = self.workers.pop(pid, None)
            if worker is not None and worker.ready_fd >= 0:
                os.close(worker.ready_fd)
            if worker is not None and os.waitstatus_to_exitcode(status) not in (0, 1):
                log.error("worker %d %s", pid, _exit_status(status))
        for pid in self.workers:
            _kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            log.error("worker %d was sent SIGKILL: still busy %g s after SIGTERM", pid, GRACE + 5)
        self.workers.clear()


def _work(settings: Settings, listener: socket.socket, ready: int, *, master: int) -> int:
    """A worker's life: create the app, tell the master, serve until told to stop. Returns the
    exit status (1 when the app could not be created)."""
    # Imported here, after the fork: the master never needs the app.
    from lod.web import create_app
    from lod.web.context import lod_context

    server: WorkerServer | None = None

    def stop(number: int, frame: FrameType | None) -> None:
        if server is not None:
            server.stop()
        else:  # still starting: there are no requests to finish
            raise SystemExit(0)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        app = create_app(settings)
        # The store goes into memory while the worker takes requests; queries and pages wait for
        # it, downloads not.
        threading.Thread(target=lod_context(app).warm_up, name="lod-warm-up", daemon=True).start()
        server = WorkerServer(app, listener, settings, body_limit=app.config["MAX_CONTENT_LENGTH"])
    except Exception:
        log.exception("worker %d could not start", os.getpid())
        return 1
    signal.set_wakeup_fd(server.wakeup_fd)
    os.write(ready, READY)
    os.close(ready)
    server.serve(grace=GRACE, orphaned=lambda: os.getppid() != master)
    return 0


def _note(number: int, frame: FrameType | None) -> None:
    """A signal's handler in the master: the wake-up pipe says which, the loop acts on it."""


def _kill(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def _exit_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        # "was sent SIG…" as gunicorn says it: tests and log watchers look for it.
        return f"was sent {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def _allow_open_files(settings: Settings) -> None:
    """Raises the soft limit on open files so that a worker can hold ``connection_limit``
    connections, each with a socket and up to two buffer files, beside the store's files."""
    wanted = 3 * settings.connection_limit + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        if limit < wanted:
            log.warning("open files are limited to %d (ulimit -n): fewer than connection_limit=%d "
                        "connections may fit", limit, settings.connection_limit)


def _log_to_stderr(settings: Settings) -> None:
    """The server's messages (and waitress', and the plans if asked for) on standard error, in
    gunicorn's format; the access log goes to standard output (http_server.write_stdout)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
                                           "%Y-%m-%d %H:%M:%S %z"))
    for name, level in ((__name__, logging.INFO), ("waitress", logging.WARNING),
                        (PLANS_LOGGER, logging.INFO if settings.log_plans else logging.WARNING),
                        # "Task queue depth is N" on every request that waits for a thread: under
                        # load that is most of them, and the access log already shows the load.
                        ("waitress.queue", logging.ERROR)):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
