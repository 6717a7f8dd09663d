"""lod.query.sandbox: a confined query process reaches no network and is bounded in memory.

Confinement cannot be undone, so every check runs in a forked child that reports back over a pipe,
and every wait is bounded. Each check that something is blocked has its control: the same attempt
from an unconfined child must succeed (reach the host's listener, create the socket), so a test
whose attempt could not have worked anyway fails instead of passing.
"""

from __future__ import annotations

import ctypes
import errno
import faulthandler
import json
import mmap
import os
import pickle
import re
import select
import signal
import socket
import struct
import tempfile
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from lod.query import sandbox
from lod.query.sandbox import Confinement, confine, died_of_memory, probe

CHILD_SECONDS = 30.0
MB = 1 << 20


# --- running a check in a child -------------------------------------------------------------


def _answer(body: bytes) -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def _results(value: str) -> bytes:
    """SPARQL JSON results with one row binding ?hit to ``value``."""
    return json.dumps({"head": {"vars": ["hit"]},
                       "results": {"bindings": [{"hit": {"type": "literal", "value": value}}]}}).encode()


class HostListener:
    """Sockets on the host's 127.0.0.1 (and ::1 where there is IPv6), on one port, that count the
    connections they get and answer any HTTP request with results binding ?hit to "host".

    Served by the test's own process while it waits for a child (no thread: the process forks)."""

    def __init__(self) -> None:
        self.v4 = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.v4.getsockname()[1])
        self.v6: socket.socket | None = None
        if socket.has_ipv6:
            try:
                self.v6 = socket.create_server(("::1", self.port), family=socket.AF_INET6)
            except OSError:
                self.v6 = None
        self.connections = 0

    @property
    def sockets(self) -> list[socket.socket]:
        return [s for s in (self.v4, self.v6) if s is not None]

    def serve(self, ready: socket.socket) -> None:
        connection, _ = ready.accept()
        self.connections += 1
        with connection:
            connection.settimeout(5)
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return  # a bare connect: counted, nothing to answer
                    request += chunk
                head, _, body = request.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                connection.sendall(_answer(_results("host")))
            except OSError:
                pass  # the client went away; the connection is counted all the same

    def drain(self) -> None:
        """Serve the connections already waiting (a finished connect() is queued by now)."""
        while ready := select.select(self.sockets, [], [], 0)[0]:
            for listening in ready:
                self.serve(listening)

    def close(self) -> None:
        for listening in self.sockets:
            listening.close()


@dataclass(frozen=True)
class Child:
    exitcode: int
    value: Any
    error: str | None
    seconds: float


def in_child(check: Callable[[], Any], *, listener: HostListener | None = None,
             stderr: str | None = None, timeout: float = CHILD_SECONDS) -> Child:
    """Run ``check`` in a forked child; what it returned (or raised), how the child ended.

    While waiting, serve ``listener``; a child still running at ``timeout`` is killed."""
    read, write = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            if stderr is not None:
                os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            try:
                report = ("value", check())
            except BaseException:
                report = ("error", traceback.format_exc())
            data = memoryview(pickle.dumps(report))
            while data:
                data = data[os.write(write, data):]
        finally:
            os._exit(0)
    os.close(write)
    deadline = started + timeout
    chunks: list[bytes] = []
    watched: list[Any] = [read, *(listener.sockets if listener else [])]
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready = select.select(watched, [], [], left)[0]
            if read in ready:
                chunk = os.read(read, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            for listening in ready:
                if listening is not read and listener is not None:
                    listener.serve(listening)
    finally:
        os.close(read)
    exitcode = _reap(pid, deadline)
    seconds = time.monotonic() - started
    if listener is not None:
        listener.drain()
    if not chunks:
        return Child(exitcode, None, None, seconds)
    kind, payload = pickle.loads(b"".join(chunks))
    return Child(exitcode, payload if kind == "value" else None, payload if kind == "error" else None,
                 seconds)


def _reap(pid: int, deadline: float) -> int:
    handle = os.pidfd_open(pid)
    try:
        if not select.select([handle], [], [], max(0.0, deadline - time.monotonic()))[0]:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(handle)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def value_of(child: Child) -> Any:
    assert child.error is None, child.error
    assert child.exitcode == 0, f"the child ended with {child.exitcode}"
    return child.value


@pytest.fixture(scope="module")
def machine() -> Confinement:
    return probe()


@pytest.fixture
def listener() -> Iterator[HostListener]:
    host = HostListener()
    yield host
    host.close()


def need(machine: Confinement, *, namespace: bool = False, seccomp: bool = False) -> None:
    if namespace and not machine.namespace:
        pytest.skip(f"this machine allows no network namespace: {' '.join(machine.missing)}")
    if seccomp and not machine.seccomp:
        pytest.skip(f"this machine allows no seccomp filter: {' '.join(machine.missing)}")


# --- the network ----------------------------------------------------------------------------

# 127.0.0.1 spelled as people and parsers spell it; 0.0.0.0 and :: reach the local host too.
HOSTS = ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "127.1", "0177.0.0.1", "0.0.0.0",
         "::1", "::ffff:127.0.0.1", "::"]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def solutions(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    """The rows of a SELECT query: reading them is what calls a SERVICE."""
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def attempts(host: str, port: int) -> dict[str, str]:
    """Reach host:port as Python (socket, urllib) and as Oxigraph's SERVICE; what each got."""
    url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    got: dict[str, str] = {}
    try:
        socket.create_connection((host, port), timeout=5).close()
        got["socket"] = "connected"
    except OSError as failure:
        got["socket"] = f"{type(failure).__name__}: {failure}"
    try:
        with _NO_PROXY.open(url, timeout=5) as response:
            got["urllib"] = json.loads(response.read())["results"]["bindings"][0]["hit"]["value"]
    except OSError as failure:
        got["urllib"] = f"{type(failure).__name__}: {failure}"
    if ":" not in host:  # Oxigraph 0.5 looks "[::1]" up as a name: it never calls an IPv6 literal
        try:
            rows = solutions(ox.Store(), f"SELECT ?hit WHERE {{ SERVICE <{url}> {{ ?hit ?p ?o }} }}")
            got["oxigraph"] = str(rows[0]["hit"].value)
        except OSError as failure:
            got["oxigraph"] = f"{type(failure).__name__}: {failure}"
    return got


@pytest.mark.parametrize("mode", ["unconfined", "confined", "confined with loopback"])
@pytest.mark.parametrize("host", HOSTS)
def test_the_hosts_loopback_is_out_of_reach(machine: Confinement, listener: HostListener, host: str,
                                            mode: str) -> None:
    if ":" in host and listener.v6 is None:
        pytest.skip("no IPv6 loopback on this machine")
    if mode != "unconfined":
        need(machine, namespace=mode.endswith("loopback"), seccomp=not machine.namespace)

    def check() -> tuple[Confinement | None, dict[str, str]]:
        confinement = None if mode == "unconfined" else confine(memory_bytes=None,
                                                                loopback=mode.endswith("loopback"))
        return confinement, attempts(host, listener.port)

    confinement, got = value_of(in_child(check, listener=listener))
    if confinement is None:  # the control: every way in reaches the listener
        assert set(got.values()) <= {"connected", "host"}, got
        assert listener.connections == len(got)
    else:
        assert listener.connections == 0, got
        assert not set(got.values()) & {"connected", "host"}, got
        if confinement.seccomp and not confinement.loopback:
            assert "PermissionError" in got["socket"], got  # the filter, before the namespace
        if confinement.loopback:
            assert "ConnectionRefusedError" in got["socket"], got  # nothing listens in there


def test_a_gateway_in_the_namespace_is_reachable_and_the_host_is_not(machine: Confinement,
                                                                      listener: HostListener) -> None:
    need(machine, namespace=True, seccomp=True)

    def check() -> dict[str, Any]:
        confinement = confine(memory_bytes=256 * MB, loopback=True)

        class Gateway(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.wfile.write(_answer(_results("inside")))

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        # The very port the host's listener has: inside, 127.0.0.1 is another place.
        server = ThreadingHTTPServer(("127.0.0.1", listener.port), Gateway)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        query = f"SELECT ?hit WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?hit ?p ?o }} }}"
        got = {"oxigraph": str(solutions(ox.Store(), query)[0]["hit"].value),
               "confinement": confinement}
        with _NO_PROXY.open(f"http://127.0.0.1:{listener.port}/", timeout=5) as response:
            got["urllib"] = json.loads(response.read())["results"]["bindings"][0]["hit"]["value"]
        server.shutdown()
        return got

    got = value_of(in_child(check, listener=listener))
    assert got["confinement"].may_federate
    assert (got["oxigraph"], got["urllib"]) == ("inside", "inside")
    assert listener.connections == 0


def test_oxigraph_service_fails_with_an_error_when_confined(machine: Confinement,
                                                           listener: HostListener) -> None:
    need(machine, seccomp=True)
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?s ?p ?o }} }}"

    def check() -> str:
        confine(memory_bytes=None, loopback=False)
        try:
            solutions(ox.Store(), query)
        except OSError as failure:
            return f"{type(failure).__name__}: {failure}"
        return "answered"

    child = in_child(check, listener=listener)
    assert "Permission denied" in value_of(child)
    assert listener.connections == 0
    # The control: the same query from an unconfined child is answered by the listener.
    control = in_child(lambda: len(solutions(ox.Store(), query)), listener=listener)
    assert value_of(control) == 1
    assert listener.connections == 1


def test_an_inherited_network_socket_is_closed() -> None:
    """A socket made in the host's namespace would still reach the host's network from inside."""
    with socket.create_server(("127.0.0.1", 0)) as server, \
            socket.create_connection(server.getsockname(), timeout=5) as client:
        accepted, _ = server.accept()
        with accepted:
            accepted.settimeout(5)

            def check(confined: bool) -> str:
                closed = confine(memory_bytes=None, loopback=False).sockets_closed if confined else 0
                try:
                    client.sendall(b"escaped")
                except OSError as failure:
                    return f"{closed}: {type(failure).__name__}"
                return f"{closed}: sent"

            assert value_of(in_child(lambda: check(False))) == "0: sent"  # the control
            assert accepted.recv(100) == b"escaped"
            closed, outcome = value_of(in_child(lambda: check(True))).split(": ")
            assert int(closed) >= 2  # the server and the client; the test's accepted one too
            assert outcome == "OSError"  # /dev/null is not a socket
            accepted.setblocking(False)
            with pytest.raises(BlockingIOError):
                accepted.recv(100)


def test_a_confined_process_keeps_unix_sockets_pipes_and_files() -> None:
    def check() -> tuple[bytes, bytes, str, bool]:
        confine(memory_bytes=64 * MB, loopback=False)
        left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        left.sendall(b"pair")
        read, write = os.pipe()
        os.write(write, b"pipe")
        with open(__file__, encoding="utf-8") as source:
            first = source.readline()
        with tempfile.TemporaryFile() as spool:
            spool.write(b"spool")
        # /etc/hosts still answers, though a resolver daemon cannot be asked
        named = any(address[4][0] == "127.0.0.1" for address in socket.getaddrinfo("localhost", 80))
        return right.recv(4), os.read(read, 4), first, named

    assert value_of(in_child(check)) == (b"pair", b"pipe", '"""lod.query.sandbox: a confined query process '
                                         "reaches no network and is bounded in memory.\n", True)


# --- the filter -----------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *arguments: int) -> int:
    """The errno of a raw system call, or 0 when it succeeded."""
    result = _libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in arguments))
    return ctypes.get_errno() if result == -1 else 0


def _socket_errno(family: int, kind: int = socket.SOCK_STREAM) -> int:
    try:
        socket.socket(family, kind).close()
    except OSError as failure:
        return failure.errno or -1
    return 0


def _socketpair_errno(family: int) -> int:
    try:
        for end in socket.socketpair(family, socket.SOCK_STREAM):
            end.close()
    except OSError as failure:
        return failure.errno or -1
    return 0


def _i386_socketcall() -> int:
    """socket(AF_INET, SOCK_STREAM, 0) through i386's socketcall (int 0x80); what eax holds."""
    map_32bit = 0x40  # int 0x80 takes 32-bit pointers
    memory = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | map_32bit,
                       prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    base = ctypes.addressof(ctypes.c_char.from_buffer(memory))
    memory[64:76] = struct.pack("<3I", socket.AF_INET, socket.SOCK_STREAM, 0)
    code = (b"\x53"  # push rbx
            + b"\xb8" + struct.pack("<I", 102)  # eax = socketcall
            + b"\xbb" + struct.pack("<I", 1)  # ebx = SYS_SOCKET
            + b"\xb9" + struct.pack("<I", base + 64)  # ecx = its arguments
            + b"\xcd\x80\x5b\xc3")  # int 0x80; pop rbx; ret
    memory[:len(code)] = code
    return int(ctypes.CFUNCTYPE(ctypes.c_int)(base)())


X86_64 = os.uname().machine == "x86_64"
DENIED: list[tuple[str, Callable[[], int]]] = [
    ("AF_UNIX", lambda: _socket_errno(socket.AF_UNIX)),  # a path reaches the host's daemons
    ("AF_INET", lambda: _socket_errno(socket.AF_INET)),
    ("AF_INET6", lambda: _socket_errno(socket.AF_INET6)),
    ("AF_PACKET", lambda: _socket_errno(socket.AF_PACKET, socket.SOCK_RAW)),
    ("AF_NETLINK", lambda: _socket_errno(socket.AF_NETLINK, socket.SOCK_RAW)),
    ("socketpair AF_INET", lambda: _socketpair_errno(socket.AF_INET)),
    ("io_uring_setup", lambda: _syscall(425, 1, 0)),
    ("setns", lambda: _syscall(308 if X86_64 else 268, -1, 0)),
    ("pidfd_getfd", lambda: _syscall(438, -1, 0, 0)),
]
if X86_64:
    DENIED += [("x32 getpid", lambda: _syscall(0x40000000 | 39)),
               ("i386 socketcall", lambda: -_i386_socketcall())]


@pytest.mark.parametrize(("name", "attempt"), DENIED, ids=[name for name, _ in DENIED])
def test_the_filter_denies_with_eacces(machine: Confinement, name: str, attempt: Callable[[], int]) -> None:
    need(machine, seccomp=True)
    control = in_child(attempt)
    assert control.exitcode == 0, f"{name} cannot even be tried here (the child ended {control.exitcode})"
    assert value_of(control) != errno.EACCES  # not EACCES without the filter: the test can fail

    def check() -> int:
        confine(memory_bytes=None, loopback=False)
        return attempt()

    assert value_of(in_child(check)) == errno.EACCES


def test_with_loopback_only_inet_sockets_are_let_through(machine: Confinement) -> None:
    need(machine, namespace=True, seccomp=True)

    def check() -> dict[str, int]:
        confine(memory_bytes=None, loopback=True)
        return {name: attempt() for name, attempt in DENIED}

    got = value_of(in_child(check))
    assert got.pop("AF_INET") == got.pop("AF_INET6") == 0
    assert set(got.values()) == {errno.EACCES}, got


def run_filter(program: list[tuple[int, int, int, int]], *, arch: int, number: int, first: int = 0) -> int:
    """What a classic BPF seccomp program returns for one call (the few instructions it uses)."""
    data = struct.pack("<iIQ6Q", number, arch, 0, first, 0, 0, 0, 0, 0)
    accumulator, at = 0, 0
    while True:
        code, jump_true, jump_false, k = program[at]
        if code == 0x20:  # load a word of seccomp_data
            accumulator = struct.unpack_from("<I", data, k)[0]
            at += 1
        elif code in (0x15, 0x35):  # jump if equal, if greater or equal
            taken = accumulator == k if code == 0x15 else accumulator >= k
            at += 1 + (jump_true if taken else jump_false)
        else:
            assert code == 0x06, code
            return k


@pytest.mark.parametrize("machine_name", sorted(sandbox._ABIS))
def test_the_filter_of_each_architecture(machine_name: str) -> None:
    """Both filters, run by a small BPF interpreter: the one this machine cannot run is checked too."""
    abi = sandbox._ABIS[machine_name]
    allow, deny = 0x7FFF0000, 0x00050000 | errno.EACCES
    for inet in (False, True):
        program = sandbox._program(abi, inet=inet)

        def verdict(number: int, first: int = 0, arch: int = abi.audit_arch,
                    program: list[tuple[int, int, int, int]] = program) -> int:
            return run_filter(program, arch=arch, number=number, first=first)

        assert verdict(abi.socketpair, socket.AF_UNIX) == allow
        assert verdict(abi.socketpair, socket.AF_INET) == deny
        for family in (socket.AF_UNIX, socket.AF_PACKET, socket.AF_NETLINK, 0):
            assert verdict(abi.socket, family) == deny
        for family in (socket.AF_INET, socket.AF_INET6):
            assert verdict(abi.socket, family) == (allow if inet else deny)
            assert verdict(abi.socket, family | (1 << 32)) == (allow if inet else deny)  # only int counts
        for number in abi.denied:
            assert verdict(number) == deny
        assert verdict(0) == verdict(63) == allow  # read (x86_64), read (aarch64) or others
        assert verdict(0, arch=0x40000003) == deny  # i386
        assert verdict(0, arch=0x40000028) == deny  # 32-bit arm
        assert verdict(0x40000000 | 39) == (deny if abi.x32 else allow)


# Where linux-libc-dev keeps each architecture's numbers (aarch64 uses the generic table).
UNISTD = {"x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
          "aarch64": Path("/usr/include/asm-generic/unistd.h")}


@pytest.mark.parametrize("machine_name", sorted(sandbox._ABIS))
def test_the_system_call_numbers_are_the_kernels(machine_name: str) -> None:
    header = UNISTD[machine_name]
    if not header.exists():
        pytest.skip(f"{header} is not installed (Debian's linux-libc-dev has it)")
    numbers = {name: int(number) for name, number in
               re.findall(r"#define __NR(?:3264)?_(\w+) (\d+)", header.read_text())}
    abi = sandbox._ABIS[machine_name]
    denied = ("io_uring_setup", "io_uring_enter", "io_uring_register", "setns", "pidfd_getfd", "ptrace",
              "process_vm_writev")
    assert (abi.seccomp, abi.socket, abi.socketpair) == (numbers["seccomp"], numbers["socket"],
                                                         numbers["socketpair"])
    assert abi.denied == tuple(numbers[name] for name in denied)


def test_confine_refuses_a_process_with_threads() -> None:
    def check() -> str:
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        try:
            confine(memory_bytes=None, loopback=False)
        except RuntimeError as failure:
            return str(failure)
        finally:
            stop.set()
        return "confined"

    assert "before the process starts a thread" in value_of(in_child(check))


def test_as_another_user_it_takes_a_user_namespace_or_keeps_the_filter(listener: HostListener) -> None:
    if os.geteuid() != 0:
        pytest.skip("this test drops root to be another user; the others run as that user already")
    shared = tempfile.mkdtemp()
    os.chmod(shared, 0o777)
    path = os.path.join(shared, "written")
    "".encode("idna")  # load the codec while its module can still be read

    def check() -> tuple[Confinement, str, int]:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        confinement = confine(memory_bytes=128 * MB, loopback=True)
        with open(path, "w") as written:
            written.write("x")
        outcome = attempts("127.0.0.1", listener.port)["socket"]
        return confinement, outcome, os.getuid()

    try:
        confinement, outcome, uid = value_of(in_child(check, listener=listener))
        assert os.stat(path).st_uid == uid == 65534  # the namespace maps the user's own uid
    finally:
        for name in os.listdir(shared):
            os.unlink(os.path.join(shared, name))
        os.rmdir(shared)
    assert listener.connections == 0
    assert confinement.memory_limit is not None
    if confinement.namespace:
        assert confinement.user_namespace and confinement.loopback
        assert outcome.startswith("ConnectionRefusedError"), outcome
    else:
        assert confinement.seccomp and not confinement.loopback, confinement
        assert outcome.startswith("PermissionError"), outcome
        assert any("namespace" in reason for reason in confinement.missing)


def test_probe_tells_what_confine_gives(machine: Confinement) -> None:
    got = value_of(in_child(lambda: confine(memory_bytes=1 << 30, loopback=True)))
    assert replace(got, memory_limit=0) == replace(machine, memory_limit=0)
    assert got.memory_limit is not None and machine.memory_limit is not None


# --- memory ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """About 20,000 triples in memory, inherited by the children as a query process inherits its
    store."""
    store = ox.Store()
    store.extend(ox.Quad(ox.NamedNode(f"http://example.org/s{i // 10}"),
                         ox.NamedNode(f"http://example.org/p{i % 10}"), ox.Literal(f"value {i}"),
                         ox.DefaultGraph()) for i in range(20_000))
    return store


NORMAL = """SELECT ?p (COUNT(*) AS ?n) (MAX(?o) AS ?last) WHERE { ?s ?p ?o FILTER(CONTAINS(?o, "9")) }
            GROUP BY ?p ORDER BY DESC(?n) ?p"""


def concat(values: int) -> str:
    """Five nested CONCATs over a VALUES of ``values`` strings: 1,024 times each string."""
    strings = " ".join(f'"{i:08d}"' for i in range(values))
    binds = " ".join(f"BIND(CONCAT(?{a}, ?{a}, ?{a}, ?{a}) AS ?{b})"
                     for a, b in zip("xabcd", "abcde", strict=True))
    return (f"SELECT (COUNT(*) AS ?n) (MAX(STRLEN(?e)) AS ?longest) "
            f"WHERE {{ VALUES ?x {{ {strings} }} {binds} }}")


def rows(store: ox.Store, query: str) -> list[tuple[str, ...]]:
    return [tuple(str(term.value) for term in row) for row in solutions(store, query)]


def test_python_gets_memory_error_beyond_the_limit() -> None:
    def check(limit: int | None) -> list[str]:
        if limit is not None:
            confine(memory_bytes=limit, loopback=False)
        got = []
        for size in (16 * MB, 256 * MB):
            try:
                got.append(str(len(bytearray(size)) // MB))
            except MemoryError:
                got.append("MemoryError")
        return got

    assert value_of(in_child(lambda: check(None))) == ["16", "256"]  # the control
    assert value_of(in_child(lambda: check(128 * MB))) == ["16", "MemoryError"]


def test_a_normal_query_works_under_the_limit(store: ox.Store) -> None:
    def check() -> list[tuple[str, ...]]:
        confine(memory_bytes=256 * MB, loopback=False)
        return rows(store, NORMAL) + rows(store, concat(100))

    expected = [*rows(store, NORMAL), ("100", "8192")]
    assert len(expected) == 11
    assert value_of(in_child(check)) == expected


def test_a_query_beyond_the_limit_ends_the_process_recognisably(store: ox.Store, tmp_path: Path) -> None:
    query = concat(100_000)
    stderr = str(tmp_path / "stderr")

    def check() -> list[tuple[str, ...]]:
        faulthandler.disable()  # pytest's: it would print the abort's traceback to the terminal
        confine(memory_bytes=256 * MB, loopback=False)
        return rows(store, query)

    child = in_child(check, stderr=stderr)
    assert child.value is None and child.error is None
    assert died_of_memory(child.exitcode, 256 * MB), child.exitcode
    assert child.seconds < 15
    with open(stderr, encoding="utf-8", errors="replace") as text:
        assert "memory allocation of" in text.read()


@pytest.mark.parametrize(("exitcode", "memory_bytes", "expected"), [
    (-signal.SIGABRT, 1 << 30, True),
    (-signal.SIGABRT, None, False),  # no limit, so not of the limit
    (-signal.SIGKILL, 1 << 30, False),  # the parent's kill on a timeout
    (-signal.SIGSEGV, 1 << 30, False),
    (0, 1 << 30, False),
    (1, 1 << 30, False),
    (None, 1 << 30, False),  # still running
])
def test_died_of_memory(exitcode: int | None, memory_bytes: int | None, expected: bool) -> None:
    assert died_of_memory(exitcode, memory_bytes) is expected


def test_the_summary_names_each_layer_and_what_is_missing() -> None:
    full = Confinement(namespace=True, user_namespace=False, loopback=True, seccomp=True,
                       memory_limit=1_500_000_000)
    assert full.summary() == "network namespace with loopback, seccomp, memory limit 1.5 GB"
    assert full.may_federate
    bare = Confinement(namespace=False, user_namespace=False, loopback=False, seccomp=True,
                       memory_limit=None, missing=("No network namespace: (EPERM).",))
    assert bare.summary() == "seccomp; missing: No network namespace: (EPERM)."
    assert not bare.isolated and not bare.may_federate
