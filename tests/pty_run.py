#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal (stdout and stderr both a tty, 100x30),
saves everything it writes to OUTFILE as it comes (a test can wait for a
line there), and exits with the command's status. SIGINT and SIGTERM are
passed on to the command, so a test can interrupt it once it showed a line.

Usage: pty_run.py OUTFILE CMD [ARGS...]
"""
import fcntl
import os
import pty
import signal
import struct
import sys
import termios


def main():
    outfile, argv = sys.argv[1], sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: os.kill(pid, signum))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    with open(outfile, "wb") as f:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            f.write(data)
            f.flush()
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
