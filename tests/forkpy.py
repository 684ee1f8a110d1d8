"""forkpy's server: one Python for the test suite's inline checks.

    python3 tests/forkpy.py SOCKET READY

The integration scripts run some 500 short Python programs a suite
(`python3 -c CODE ARGS...` and `python3 - ARGS... <<EOF`), each a new
interpreter: some 60 ms of CPU for the start and the imports, on a busy
machine more, where the check itself takes a millisecond. tests/run starts
this server once; `python3` on the scripts' PATH is then tests/forkpy.c,
which hands such a program, with its arguments, working directory,
environment and standard descriptors, to this server over the Unix socket
SOCKET. The server forks a child per program (the interpreter and the
common modules are already loaded), which runs it as `python3` would and
reports its exit status. Anything else (a script file, `-m`, other
options) forkpy.c runs with the real python3.

Protocol, one connection per program: forkpy.c sends a 4-byte length and
then that many bytes, NUL-separated: the argument count, the arguments
(from "-c" or "-" on), the working directory, the environment entries;
descriptors 0, 1 and 2 travel with the first bytes (SCM_RIGHTS). The child
answers with its pid (4 bytes, so forkpy.c can pass on a signal) and, when
the program has ended and its output is flushed, its exit status (4 bytes);
or with a pid of 0 and nothing else when the caller's PYTHON* variables are
not the server's (they would have shaped the interpreter): forkpy.c then
runs the real python3.

Where a child differs from a new interpreter: threads a program leaves
running do not delay its exit. The server writes its pid to the file READY
once it listens, and ends when tests/run (its parent) is gone.
"""
import gc
import os
import signal
import socket
import struct
import sys
import traceback
import types

# What the checks import, loaded once here so that a child has them.
import base64, datetime, hashlib, http.client, json, re, shlex, ssl  # noqa: E401,F401
import subprocess, time, urllib.parse, urllib.request  # noqa: E401,F401

MAX_MESSAGE = 64 << 20  # arguments and environment; a check's are a few KB


def main():
    path, ready = sys.argv[1], sys.argv[2]
    # Children are reaped by the kernel: the server never waits for one.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    with open(ready, "w") as f:
        f.write("%d\n" % os.getpid())
    # The server's objects stay out of the children's garbage collections:
    # a collection writes to every object it visits, and each page written
    # is a page the fork must copy.
    gc.freeze()
    parent = os.getppid()
    server.settimeout(1.0)
    while True:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            if os.getppid() != parent:
                return  # tests/run is gone (killed before it could stop us)
            continue
        if os.fork() == 0:
            server.close()
            child(conn)  # does not return
        conn.close()


def receive(conn):
    """The message and the three descriptors, or exits the child."""
    data, fds, _, _ = socket.recv_fds(conn, 65536, 3)
    if len(fds) != 3:
        os._exit(70)
    buf = bytearray(data)

    def fill(size):
        while len(buf) < size:
            chunk = conn.recv(1 << 20)
            if not chunk:
                os._exit(70)
            buf.extend(chunk)

    fill(4)
    (length,) = struct.unpack("=I", buf[:4])
    if length > MAX_MESSAGE:
        os._exit(70)
    fill(4 + length)
    return bytes(buf[4:4 + length]), fds


def python_variables(entries):
    return sorted(e for e in entries if e.startswith(b"PYTHON"))


# The variables that shaped this interpreter (PYTHONPATH, PYTHONUNBUFFERED,
# ...): a program whose caller has others needs an interpreter of its own.
SERVER_PYTHON_VARIABLES = python_variables(b"%s=%s" % kv for kv in os.environb.items())


def parse(body):
    """The program's arguments, working directory and environment."""
    fields = body.split(b"\0")
    argc = int(fields[0])
    argv = [os.fsdecode(a) for a in fields[1:1 + argc]]
    return argv, fields[1 + argc], fields[2 + argc:-1]  # the message ends with a NUL


def adopt(fds, cwd, env):
    """Takes on the caller's descriptors, directory and environment."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    for entry in env:
        name, _, value = entry.partition(b"=")
        if name:
            os.environb[name] = value


def exit_status(code):
    """What python3 exits with for SystemExit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run(argv):
    """Runs `python3 -c CODE ARGS` or `python3 - ARGS`; returns the status."""
    if argv[0] == "-c":
        code, name, sys.argv = argv[1], "<string>", ["-c"] + argv[2:]
    else:
        code, name, sys.argv = sys.stdin.read(), "<stdin>", ["-"] + argv[1:]
    sys.path[0] = ""  # as for -c and -: the working directory
    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = main_module
    status = 0
    try:
        exec(compile(code, name, "exec"), main_module.__dict__)
    except SystemExit as e:
        status = exit_status(e.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        status = 130  # what the shell sees of python3 ended by SIGINT
    except BaseException:  # noqa: B902 -- as the interpreter: a traceback, status 1
        traceback.print_exc()
        status = 1
    try:
        sys.stdout.flush()
    except OSError:
        status = 120  # python3's status when stdout cannot be flushed at exit
    try:
        sys.stderr.flush()
    except OSError:
        pass
    return status


def child(conn):
    # The dispositions a new interpreter starts with (the server's were set
    # by how tests/run started it); forkpy.c passes on only the signals it
    # does not ignore itself.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # a program may wait for its own
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    status = 70  # until the program has run: a message it could not read
    try:
        body, fds = receive(conn)
        argv, cwd, env = parse(body)
        if python_variables(env) != SERVER_PYTHON_VARIABLES:
            conn.sendall(struct.pack("=i", 0))  # forkpy.c runs python3 itself
            os._exit(0)
        adopt(fds, cwd, env)
        conn.sendall(struct.pack("=i", os.getpid()))
        status = run(argv)
        conn.sendall(struct.pack("=i", status))
    except OSError:
        pass  # forkpy.c went away: nobody to report to
    finally:
        os._exit(status)  # never back into the server's loop


if __name__ == "__main__":
    main()
