"""Reading a file the user named (the input list, a relay certificate) without trusting it.

A path may name a FIFO (reading it waits forever for a writer), a device such as
``/dev/zero`` behind a symlink (read until memory runs out), a folder, or a regular file far
larger than any domain list. ``read_capped`` opens without blocking, refuses anything but a
regular file (judged on the opened descriptor, so a swapped symlink cannot slip past) and
reads at most ``limit`` bytes: every refusal is a ``FileRefused`` whose message is one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class FileRefused(OSError):
    """The file cannot be used: not a regular file, too large, unreadable. ``str()`` is one line."""


class FileMissing(FileRefused):
    """There is no such file."""


def megabytes(count: int) -> str:
    return f"{count / 1_000_000:,.0f} MB" if count >= 1_000_000 else f"{count:,} bytes"


def read_capped(path: str | Path, limit: int) -> bytes:
    """The whole content of the regular file ``path``, at most ``limit`` bytes (else FileRefused)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileMissing(f"{path}: no such file") from None
    except OSError as exc:
        raise FileRefused(f"{path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise FileRefused(f"{path} is {kind}, not a regular file")
        size = os.fstat(fd).st_size
        if size > limit:
            raise FileRefused(f"{path} is {megabytes(size)}, more than the limit of {megabytes(limit)}")
        chunks, total = [], 0
        while True:  # the size may grow while we read: the limit holds for what is read
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileRefused(f"{path} is more than the limit of {megabytes(limit)}")
        return b"".join(chunks)
    except FileRefused:
        raise
    except OSError as exc:
        raise FileRefused(f"{path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
