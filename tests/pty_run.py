#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal (stdout and stderr both a tty, 100x30),
saves everything it wrote to OUTFILE, and exits with the command's status.

Usage: pty_run.py OUTFILE CMD [ARGS...]
"""
import fcntl
import os
import pty
import struct
import sys
import termios


def main():
    outfile, argv = sys.argv[1], sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    with open(outfile, "wb") as f:
        f.write(b"".join(chunks))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
