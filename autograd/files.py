"""Writing and reading the files a user keeps: atomically, regular files only, bounded.

Every file the library writes (a saved model, a picture, a page) goes through
:func:`write_atomic`, and every file it reads back through :func:`read_bounded`, so the rules
hold everywhere:

- A writer writes regular files only. A directory, a device (``/dev/null``), a FIFO or a socket
  at the path is refused with an error that names it, never replaced. A symlink is written
  through: its target is replaced and the link stays a link. A target without write permission
  is refused, even for root (who could otherwise replace it).
- The new content goes to a temporary file beside the target, is flushed to disk, and is then
  renamed over it: a reader sees the old file or the new one, never half of one. A failure
  leaves the old file as it was.
- A reader reads regular files only (a FIFO would block, ``/dev/zero`` never ends) and at most
  ``limit`` bytes, checked before reading.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes | str, who: str) -> str:
    """Replace the regular file at ``path`` (or create it) with ``data``; return the path.

    ``who`` names the caller in errors (``"save"``, ``"render"``). Text is written as UTF-8.
    Parent folders are created as needed.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = _writable_target(Path(path), who)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _file_mode(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private (0600); keep the old file's mode
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return os.fspath(path)


def _writable_target(path: Path, who: str) -> Path:
    """The file a write to ``path`` must replace: the path itself, or a symlink's target."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    shown = os.fspath(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{who}: {shown!r} is a directory; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(
            f"{who}: {shown!r} is {_kind(st.st_mode)}, not a regular file; nothing written"
        )
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise PermissionError(f"{who}: {shown!r} is read-only; nothing written")
    return target


def _file_mode(path: Path) -> int:
    """The mode the file has, or the one a plain ``open(path, "w")`` would give it."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a special file"


def read_bounded(path: str | os.PathLike[str], limit: int, who: str) -> bytes:
    """The bytes of the regular file at ``path``, refusing anything bigger than ``limit`` bytes.

    Raises ValueError (naming ``who`` and the file) for a directory, device, FIFO or socket and
    for a file over the limit; FileNotFoundError and PermissionError as ``open`` does.
    """
    shown = os.fspath(path)
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)  # before fdopen, which refuses a directory with an error naming the fd
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{who}: {shown!r} is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise ValueError(_too_big(who, shown, st.st_size, limit))
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        # Read what the file holds, not the limit: read(n) reserves n bytes before reading.
        data = f.read(st.st_size + 1)
        if len(data) > st.st_size:  # it grew while we read
            data += f.read(limit + 1 - len(data))
    if len(data) > limit:
        raise ValueError(_too_big(who, shown, len(data), limit))
    return data


def _too_big(who: str, shown: str, size: int, limit: int) -> str:
    return (
        f"{who}: {shown!r} is {size:,} bytes, over the limit of {limit:,} bytes; "
        "pass max_bytes= to allow bigger files"
    )
