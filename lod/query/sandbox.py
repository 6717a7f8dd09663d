"""Confinement of a query process: no network, and a bound on memory.

Oxigraph evaluates ``SERVICE <url>`` by opening connections itself and cannot be told not to, so
a query process shuts itself in right after it is forked, before it evaluates anything:

* a network namespace of its own (``unshare(CLONE_NEWNET)``; as a user other than root inside a
  user namespace that maps only its own uid and gid): no interface of the host, not even its
  127.0.0.1, can be reached from there. With ``loopback=True`` the namespace's own ``lo`` is
  brought up, so a thread of the process may listen on 127.0.0.1 and be called by the engine;
* a seccomp filter, whose refusals fail with ``EACCES`` (so the engine reports an ordinary error
  instead of being killed): ``socketpair()`` for ``AF_UNIX`` only, ``socket()`` for no family at
  all, except ``AF_INET``/``AF_INET6`` with ``loopback=True`` inside a namespace (which isolates
  them). Not even ``AF_UNIX``: a socket with a path reaches daemons of the host that reach the
  network on its behalf; a resolver (nscd, systemd-resolved) would turn the host name of a
  ``SERVICE`` IRI into a DNS query. The process keeps the socket pairs it inherited. Also denied:
  io_uring (which opens sockets without the ``socket`` call), borrowing another process's
  namespace or descriptors (``setns``, ``pidfd_getfd``, ``ptrace``, ``process_vm_writev``), and
  every system call of another ABI (i386's ``socketcall``, x32);
* ``RLIMIT_AS``: the address space the process already has (the store in memory it inherited)
  plus what the query may allocate. Python then raises :class:`MemoryError`; Oxigraph (Rust)
  aborts with "memory allocation of N bytes failed", which the parent recognises with
  :func:`died_of_memory`.

>>> confinement = confine(memory_bytes=1 << 30, loopback=False)    # doctest: +SKIP
>>> confinement.summary()                                          # doctest: +SKIP
'network namespace, seccomp, memory limit 1.2 GB'
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import resource
import select
import signal
import socket
import stat
import struct
import sys
import time
from dataclasses import asdict, dataclass

__all__ = ["Confinement", "confine", "died_of_memory", "probe"]

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_PR_SET_DUMPABLE = 4
_PR_SET_SECCOMP = 22
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_MODE_FILTER = 2
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = struct.Struct("16sh22x")  # struct ifreq: the name, then ifr_flags in a 24-byte union


@dataclass(frozen=True, slots=True)
class Confinement:
    """What holds for a process after :func:`confine`."""

    namespace: bool
    """The process is in a network namespace of its own: no interface of the host is reachable."""
    user_namespace: bool
    """The network namespace took a user namespace (the process is not root)."""
    loopback: bool
    """The namespace's own ``lo`` is up and ``AF_INET``/``AF_INET6`` sockets may be made: a
    thread of the process can listen on 127.0.0.1 (or ::1) and the engine can call it."""
    seccomp: bool
    """The system call filter is installed: no new socket but ``AF_UNIX`` pairs (and the
    ``AF_INET``/``AF_INET6`` ones of :attr:`loopback`), no io_uring, no other ABI."""
    memory_limit: int | None
    """``RLIMIT_AS`` in bytes, None for none."""
    sockets_closed: int = 0
    """Inherited sockets of other families than ``AF_UNIX``, replaced by /dev/null: made in the
    host's namespace, they would still reach the host's network."""
    missing: tuple[str, ...] = ()
    """Why a layer that was asked for does not hold, one sentence each."""

    @property
    def isolated(self) -> bool:
        """No network at all, by two layers: the namespace and the filter."""
        return self.namespace and self.seccomp

    @property
    def may_federate(self) -> bool:
        """A gateway on the namespace's loopback is the only thing the engine can reach."""
        return self.isolated and self.loopback

    def summary(self) -> str:
        """One line for the server's log."""
        parts = []
        if self.namespace:
            parts.append("network namespace" + (" (user namespace)" if self.user_namespace else "")
                         + (" with loopback" if self.loopback else ""))
        if self.seccomp:
            parts.append("seccomp")
        if self.memory_limit is not None:
            parts.append(f"memory limit {self.memory_limit / 1e9:.1f} GB")
        text = ", ".join(parts) or "not confined"
        return f"{text}; missing: {' '.join(self.missing)}" if self.missing else text


def confine(*, memory_bytes: int | None, loopback: bool) -> Confinement:
    """Shut the calling process off the network and bound its memory; what holds is returned.

    Call it in a freshly forked child before it starts a thread: a namespace is a property of
    the thread that enters it. Nothing here can be undone by the process afterwards.
    ``memory_bytes`` is what the process may allocate beyond the address space it already has;
    None sets no limit. A layer this machine does not allow is left out and named in
    :attr:`Confinement.missing`; the server should refuse federation unless
    :attr:`Confinement.may_federate`."""
    if memory_bytes is not None and memory_bytes <= 0:
        raise ValueError(f"memory_bytes must be positive or None, not {memory_bytes}")
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("confine() must be called before the process starts a thread: "
                           "threads already running would stay in the host's network")
    missing: list[str] = []
    libc = ctypes.CDLL(None, use_errno=True)
    namespace, user_namespace = _enter_namespace(libc, missing)
    up = False
    if loopback:
        if namespace:
            up = _loopback_up(missing)
        else:
            missing.append("No loopback: without a network namespace, AF_INET stays denied.")
    closed = _close_network_sockets()
    # A process that dies of its memory limit must not first write gigabytes of core: no core
    # file, and not dumpable, which also keeps a core_pattern pipe from receiving one (and other
    # processes of the same user from attaching to this one).
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _prctl(libc, _PR_SET_DUMPABLE, 0)
    limit = _limit_memory(memory_bytes, missing) if memory_bytes is not None else None
    filtered = _install_filter(libc, inet=up, missing=missing)
    return Confinement(namespace=namespace, user_namespace=user_namespace, loopback=up, seccomp=filtered,
                       memory_limit=limit, sockets_closed=closed, missing=tuple(missing))


def died_of_memory(exitcode: int | None, memory_bytes: int | None) -> bool:
    """Whether a query process confined with ``memory_bytes`` (None: no limit, so it cannot have
    died of one) that ended with ``exitcode`` (as ``multiprocessing.Process.exitcode`` and
    ``os.waitstatus_to_exitcode`` give it: minus the signal's number) died of its memory limit.

    Oxigraph (Rust) aborts when an allocation fails (SIGABRT, after "memory allocation of N
    bytes failed" on stderr), and so does Python when it cannot recover from a MemoryError. A
    corrupted heap aborts too, so this says "died for want of memory, most likely"; the
    parent's own kill (SIGKILL on a timeout) is not counted.

    >>> died_of_memory(-signal.SIGABRT, 1 << 30), died_of_memory(-signal.SIGKILL, 1 << 30)
    (True, False)
    """
    return memory_bytes is not None and exitcode == -signal.SIGABRT


def probe(*, timeout: float = 10.0) -> Confinement:
    """What :func:`confine` achieves on this machine, learnt in a throwaway forked child (a
    few milliseconds), for the server to log at start-up and to decide on federation."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            try:
                report: dict[str, object] = asdict(confine(memory_bytes=1 << 30, loopback=True))
            except Exception as failure:
                report = {"failure": f"{type(failure).__name__}: {failure}"}
            os.write(write, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        data = _read_until_eof(read, time.monotonic() + timeout)
    finally:
        os.close(read)
        exitcode = _reap(pid, time.monotonic() + timeout)
    fields = json.loads(data) if data else {"failure": f"its child reported nothing (exit {exitcode})"}
    if "failure" in fields:
        return Confinement(namespace=False, user_namespace=False, loopback=False, seccomp=False,
                           memory_limit=None, missing=(f"The probe failed: {fields['failure']}.",))
    fields["missing"] = tuple(fields["missing"])
    return Confinement(**fields)


# --- the network namespace ------------------------------------------------------------------


def _enter_namespace(libc: ctypes.CDLL, missing: list[str]) -> tuple[bool, bool]:
    """(in a network namespace, by way of a user namespace)."""
    if libc.unshare(_CLONE_NEWNET) == 0:
        return True, False
    first = ctypes.get_errno()
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        second = ctypes.get_errno()
        missing.append(f"No network namespace: unshare(CLONE_NEWNET) failed ({os.strerror(first)}), "
                       f"and with CLONE_NEWUSER too ({os.strerror(second)}).")
        return False, False
    # Map only our own ids, so files are reached as before; setgroups must be denied before an
    # unprivileged process may write gid_map. A process that is not dumpable (it changed its
    # uid, say) finds its /proc files owned by root: dumpable for this, confine() ends that.
    _prctl(libc, _PR_SET_DUMPABLE, 1)
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as failure:
        # Unmapped, the process could not create a file (EOVERFLOW); it cannot serve like that.
        raise RuntimeError(f"a user namespace was entered but its ids could not be mapped: {failure}"
                           ) from failure
    return True, True


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _loopback_up(missing: list[str]) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
            request = _IFREQ.pack(b"lo", 0)
            flags = _IFREQ.unpack(fcntl.ioctl(control, _SIOCGIFFLAGS, request))[1]
            fcntl.ioctl(control, _SIOCSIFFLAGS, _IFREQ.pack(b"lo", flags | _IFF_UP))
    except OSError as failure:
        missing.append(f"No loopback: lo could not be brought up ({failure}).")
        return False
    return True


def _close_network_sockets() -> int:
    """Replace every inherited socket that is not ``AF_UNIX`` by /dev/null (an owner that closes
    it later closes /dev/null, not a descriptor that took its number); the count."""
    closed = 0
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            try:
                if fd == null or not stat.S_ISSOCK(os.fstat(fd).st_mode):
                    continue
            except OSError:  # the descriptor listdir itself read /proc/self/fd with
                continue
            try:
                family = _family(fd)
            except OSError:
                family = -1  # a socket that does not say what it is goes too
            if family != socket.AF_UNIX:
                os.dup2(null, fd, inheritable=os.get_inheritable(fd))
                closed += 1
    finally:
        os.close(null)
    return closed


def _family(fd: int) -> int:
    view = socket.socket(fileno=fd)  # asks the kernel for SO_DOMAIN
    try:
        return int(view.family)
    finally:
        view.detach()  # the descriptor stays open


# --- memory ---------------------------------------------------------------------------------


def _limit_memory(memory_bytes: int, missing: list[str]) -> int | None:
    limit = _address_space() + memory_bytes
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY and hard < limit:
        missing.append(f"Memory limit lowered to the hard limit of {hard} bytes.")
        limit = hard
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError) as failure:
        missing.append(f"No memory limit: setrlimit(RLIMIT_AS) failed ({failure}).")
        return None
    return limit


def _address_space() -> int:
    """VmSize of this process in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/self/status has no VmSize")


# --- the system call filter -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Abi:
    """The numbers of one architecture's system calls that the filter looks at."""

    audit_arch: int
    seccomp: int
    socket: int
    socketpair: int
    denied: tuple[int, ...]
    """io_uring_setup, io_uring_enter, io_uring_register, setns, pidfd_getfd, ptrace,
    process_vm_writev."""
    x32: bool


_ABIS = {
    "x86_64": _Abi(0xC000003E, 317, 41, 53, (425, 426, 427, 308, 438, 101, 311), x32=True),
    "aarch64": _Abi(0xC00000B7, 277, 198, 199, (425, 426, 427, 268, 438, 117, 271), x32=False),
}
_X32_SYSCALL_BIT = 0x40000000

_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_NR, _ARCH, _ARG0 = 0, 4, 16 if sys.byteorder == "little" else 20  # offsets in seccomp_data


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


_Instruction = tuple[int, int | str, int | str, int]


def _program(abi: _Abi, *, inet: bool) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k); jumps name a label and are resolved at the end."""
    deny = _SECCOMP_RET_ERRNO | errno.EACCES
    code: list[_Instruction | str] = [
        (_LD_ABS, 0, 0, _ARCH),
        (_JEQ, 0, "deny", abi.audit_arch),  # i386 on x86_64, arm on aarch64: another ABI
        (_LD_ABS, 0, 0, _NR),
    ]
    if abi.x32:
        code.append((_JGE, "deny", 0, _X32_SYSCALL_BIT))
    code += [(_JEQ, "deny", 0, number) for number in abi.denied]
    code += [(_JEQ, "socketpair", 0, abi.socketpair)]
    if inet:
        code += [(_JEQ, "socket", 0, abi.socket), (_RET, 0, 0, _SECCOMP_RET_ALLOW),
                 "socket", (_LD_ABS, 0, 0, _ARG0), (_JEQ, "allow", 0, socket.AF_INET),
                 (_JEQ, "allow", "deny", socket.AF_INET6)]
    else:
        code += [(_JEQ, "deny", 0, abi.socket), (_RET, 0, 0, _SECCOMP_RET_ALLOW)]
    code += ["socketpair", (_LD_ABS, 0, 0, _ARG0), (_JEQ, "allow", "deny", socket.AF_UNIX),
             "allow", (_RET, 0, 0, _SECCOMP_RET_ALLOW),
             "deny", (_RET, 0, 0, deny)]
    labels: dict[str, int] = {}
    instructions: list[_Instruction] = []
    for item in code:
        if isinstance(item, str):
            labels[item] = len(instructions)
        else:
            instructions.append(item)

    def offset(target: int | str, at: int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return [(op, offset(jt, at), offset(jf, at), k) for at, (op, jt, jf, k) in enumerate(instructions)]


def _prctl(libc: ctypes.CDLL, option: int, argument: int, third: int = 0) -> int:
    # Every argument a full unsigned long: the kernel refuses some options whose unused
    # arguments are not zero, and a C int would leave the upper half of the register undefined.
    zero = ctypes.c_ulong(0)
    return int(libc.prctl(ctypes.c_int(option), ctypes.c_ulong(argument), ctypes.c_ulong(third), zero, zero))


def _install_filter(libc: ctypes.CDLL, *, inet: bool, missing: list[str]) -> bool:
    abi = _ABIS.get(os.uname().machine)
    if abi is None:
        missing.append(f"No seccomp: no filter is written for the {os.uname().machine} architecture.")
        return False
    program = _program(abi, inet=inet)
    array = (_SockFilter * len(program))(*(_SockFilter(*instruction) for instruction in program))
    fprog = _SockFprog(len(program), array)
    if _prctl(libc, _PR_SET_NO_NEW_PRIVS, 1) != 0:
        missing.append(f"No seccomp: PR_SET_NO_NEW_PRIVS failed ({os.strerror(ctypes.get_errno())}).")
        return False
    # The seccomp call with TSYNC filters every thread; prctl (older kernels) only this one,
    # which is all there is (confine checked).
    if libc.syscall(ctypes.c_long(abi.seccomp), ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
                    ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog)) == 0:
        return True
    first = ctypes.get_errno()
    if _prctl(libc, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog)) == 0:
        return True
    missing.append(f"No seccomp: the filter was refused ({os.strerror(first)}; "
                   f"{os.strerror(ctypes.get_errno())}).")
    return False


# --- waiting for a child, bounded -----------------------------------------------------------


def _read_until_eof(fd: int, deadline: float) -> bytes:
    chunks = []
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _reap(pid: int, deadline: float) -> int:
    """The child's exit code (as ``os.waitstatus_to_exitcode``), killing it at ``deadline``."""
    handle = os.pidfd_open(pid)  # readable once the child has ended
    try:
        if not select.select([handle], [], [], max(0.0, deadline - time.monotonic()))[0]:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(handle)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
