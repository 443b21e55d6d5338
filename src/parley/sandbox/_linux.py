"""The few Linux system calls the sandbox needs that Python 3.11 lacks, through ctypes.

Every function raises OSError with the errno when the kernel refuses.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture since 5.12
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_CAP_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)))


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    def c(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    _check(
        _libc.mount(
            c(source), c(target), c(fstype), ctypes.c_ulong(flags), c(data) if data else None
        )
    )


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


def read_only_tree(path: str) -> None:
    """Make the mount at `path` and every mount under it read-only (mount_setattr, 5.12+)."""
    _mount_setattr(path, _MountAttr(_MOUNT_ATTR_RDONLY, 0, 0, 0), _AT_RECURSIVE)


def writable(path: str) -> None:
    """Make the mount at `path` (only) writable again."""
    _mount_setattr(path, _MountAttr(0, _MOUNT_ATTR_RDONLY, 0, 0), 0)


def _mount_setattr(path: str, attr: _MountAttr, flags: int) -> None:
    _check(
        _libc.syscall(
            ctypes.c_long(_SYS_MOUNT_SETATTR),
            ctypes.c_int(_AT_FDCWD),
            path.encode(),
            ctypes.c_uint(flags),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        )
    )


def no_new_privileges() -> None:
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))


def die_with_parent(signal: int) -> None:
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal, 0, 0, 0))


def adopt_orphans() -> None:
    """Become the parent of descendants orphaned below this process (a subreaper)."""
    _check(_libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))


def set_dumpable(dumpable: bool) -> None:
    """Whether this process's /proc files are its own user's (a change of user clears it)."""
    _check(_libc.prctl(_PR_SET_DUMPABLE, int(dumpable), 0, 0, 0))


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def drop_capabilities() -> None:
    """Clear every capability of this process (root inside a user namespace keeps none)."""
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data))


# -- Landlock (5.13+): file system, TCP and signal restrictions for unprivileged processes --

_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_ABI1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers; 0 when it has none."""
    version = _libc.syscall(
        ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0),
        ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION),
    )  # fmt: skip
    return max(0, int(version))


def landlock(read: list[str], write: list[str], *, tcp: bool) -> None:
    """Restrict this process and its future children for good: read (and execute) only
    beneath `read`, write only beneath `write`, no TCP unless `tcp`, and (ABI 6+) no
    signals or abstract UNIX sockets to processes outside. Needs no-new-privileges."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError(38, "Landlock is not available")
    every = _FS_ALL_ABI1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    every |= _FS_IOCTL_DEV if abi >= 5 else 0
    net = 0 if tcp or abi < 4 else _NET_BIND_TCP | _NET_CONNECT_TCP
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(every, net, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _libc.syscall(
        ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
        ctypes.c_uint32(0),
    )  # fmt: skip
    if ruleset < 0:
        _check(-1)
    try:
        for paths, access in ((read, READ), (write, every)):
            for path in paths:
                _allow(ruleset, path, access)
        _check(
            _libc.syscall(ctypes.c_long(_SYS_LANDLOCK_RESTRICT_SELF), ruleset, ctypes.c_uint32(0))
        )
    finally:
        os.close(ruleset)


_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV


def _allow(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this machine: nothing to allow
    try:
        if not os.path.isdir(path):
            access &= _FILE_RIGHTS
        rule = _PathBeneath(access, fd)
        kind = ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH)
        syscall = ctypes.c_long(_SYS_LANDLOCK_ADD_RULE)
        _check(_libc.syscall(syscall, ruleset, kind, ctypes.byref(rule), ctypes.c_uint32(0)))
    finally:
        os.close(fd)


# -- seccomp: the system calls a sandboxed process never needs, refused ---------------------

_AUDIT_ARCH_X86_64 = 0xC000003E
_BPF_LD_W_ABS, _BPF_JEQ, _BPF_JGE, _BPF_JSET, _BPF_RET = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_EPERM, _ENOSYS = 1, 38
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_CLONE_NAMESPACES = 0x7E020000  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
_CLONE, _CLONE3 = 56, 435
REFUSED_X86_64 = (
    101,  # ptrace
    103,  # syslog
    155,  # pivot_root
    163,  # acct
    165, 166,  # mount, umount2
    167, 168,  # swapon, swapoff
    169,  # reboot
    175, 176, 313,  # init_module, delete_module, finit_module
    246, 320,  # kexec_load, kexec_file_load
    248, 249, 250,  # add_key, request_key, keyctl
    272, 308,  # unshare, setns
    298,  # perf_event_open
    303, 304,  # name_to_handle_at, open_by_handle_at
    310, 311,  # process_vm_readv, process_vm_writev
    321,  # bpf
    323,  # userfaultfd
    425, 426, 427,  # io_uring_setup, io_uring_enter, io_uring_register
    428, 429, 430, 431, 432, 433,  # open_tree, move_mount, fsopen, fsconfig, fsmount, fspick
    442,  # mount_setattr
)  # fmt: skip
"""Refused with EPERM: namespaces, mounts, tracing, keyrings, BPF, io_uring, modules."""


class _SockFilter(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter)))


def seccomp_available() -> bool:
    return os.uname().machine == "x86_64"


def refuse_syscalls() -> None:
    """Install the seccomp filter (x86-64 only; needs no-new-privileges): the calls in
    `REFUSED_X86_64`, and `clone` with namespace flags, fail with EPERM; `clone3` with
    ENOSYS (the C library then falls back to `clone`); other ABIs (x32, i386) with EPERM."""
    if not seccomp_available():
        raise OSError(_ENOSYS, "seccomp filter is written for x86-64 only")
    refuse = len(REFUSED_X86_64)
    # index: 0 arch, 1 check, 2 nr, 3 x32, 4.. refused, clone3, clone, allow, args, jset,
    # allow, eperm, enosys
    program: list[tuple[int, int, int, int]] = [(_BPF_LD_W_ABS, 0, 0, 4)]
    first = 4
    clone3_at = first + refuse
    clone_at = clone3_at + 1
    allow_at = clone_at + 1
    args_at = allow_at + 1
    jset_at = args_at + 1
    allow2_at = jset_at + 1
    eperm_at = allow2_at + 1
    enosys_at = eperm_at + 1

    def jump(at: int, target: int) -> int:
        return target - at - 1

    program.append((_BPF_JEQ, 0, jump(1, eperm_at), _AUDIT_ARCH_X86_64))
    program.append((_BPF_LD_W_ABS, 0, 0, 0))
    program.append((_BPF_JGE, jump(3, eperm_at), 0, 0x40000000))
    for n, number in enumerate(REFUSED_X86_64):
        at = first + n
        program.append((_BPF_JEQ, jump(at, eperm_at), 0, number))
    program.append((_BPF_JEQ, jump(clone3_at, enosys_at), 0, _CLONE3))
    program.append((_BPF_JEQ, jump(clone_at, args_at), 0, _CLONE))
    program.append((_BPF_RET, 0, 0, _RET_ALLOW))
    program.append((_BPF_LD_W_ABS, 0, 0, 16))  # args[0], low 32 bits
    program.append((_BPF_JSET, jump(jset_at, eperm_at), 0, _CLONE_NAMESPACES))
    program.append((_BPF_RET, 0, 0, _RET_ALLOW))
    program.append((_BPF_RET, 0, 0, _RET_ERRNO | _EPERM))
    program.append((_BPF_RET, 0, 0, _RET_ERRNO | _ENOSYS))
    filters = (_SockFilter * len(program))(*(_SockFilter(*i) for i in program))
    fprog = _SockFprog(len(program), filters)
    _check(_libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0))
