"""Writing and reading the files a user keeps: atomically, regular files only, bounded.

Every file the library writes (a saved model, a picture, a page) goes through
:func:`write_atomic`, and every file it reads back through :func:`read_bounded`, so the rules
hold everywhere:

- A writer writes regular files only. A directory, a device (``/dev/null``), a FIFO or a socket
  at the path is refused with an error that names it, never replaced; so is a path ending in a
  slash (``m.json/`` names a directory). A symlink is written through: its target is replaced
  and the link stays a link; a link whose target's folder is missing is refused (the writer
  creates the folders of the path it is given, never those a link points into). A target
  without write permission is refused, even for root (who could otherwise replace it).
- The new content goes to a temporary file beside the target, is flushed to disk, and is then
  renamed over it: a reader sees the old file or the new one, never half of one. A failure
  leaves the old file as it was. The replaced file keeps its mode and, where the writer may set
  them (root), its owner and group; setuid and setgid bits are never copied.
- Temporaries are named ``.<name>.<pid>-<random>.tmp``: one left behind by a writer that was
  killed (SIGKILL, a power cut) is removed by the next write to the same file, when it belongs
  to the same user and its process is gone.
- A reader reads regular files only (a FIFO would block, ``/dev/zero`` never ends) and at most
  ``max_bytes`` bytes, checked before reading.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

_TMP = ".tmp"  # temporaries are ".<name>.<pid>-<random>.tmp"


def write_atomic(path: str | os.PathLike[str], data: bytes | str, who: str) -> str:
    """Replace the regular file at ``path`` (or create it) with ``data``; return the path.

    ``who`` names the caller in errors (``"save"``, ``"render"``). Text is written as UTF-8.
    Parent folders are created as needed.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = _writable_target(path, who)
    if Path(path).is_symlink():  # the link's target's folder must exist already
        if not target.parent.is_dir():
            raise FileNotFoundError(
                f"{who}: {os.fspath(path)!r} is a symlink to {os.fspath(target)!r}, whose folder "
                "does not exist; nothing written"
            )
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)
    old = _stat(target)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}-", suffix=_TMP
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _keep_owner_and_mode(tmp, old)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return os.fspath(path)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _keep_owner_and_mode(tmp: str, old: os.stat_result | None) -> None:
    """Give the temporary the replaced file's owner, group and mode (mkstemp makes it ours and
    private, 0600), or for a new file the mode ``open(path, "w")`` would give. Setuid and setgid
    are dropped: they were granted to the old content, as the kernel drops them on a write."""
    if old is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        # Root may give the file back to its owner; anyone else keeps what the OS allows.
        with contextlib.suppress(PermissionError):
            os.chown(tmp, old.st_uid, old.st_gid)
    os.chmod(tmp, stat.S_IMODE(old.st_mode) & ~(stat.S_ISUID | stat.S_ISGID))


def _remove_stale_temporaries(target: Path) -> None:
    """Remove ``.<name>.<pid>-*.tmp`` files beside ``target`` that this user owns and whose
    writer process is gone: what a killed save left behind."""
    prefix = f".{target.name}."
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_TMP)):
            continue
        pid_text = name[len(prefix) : -len(_TMP)].partition("-")[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this machine)."""
    if pid <= 0:  # kill(0) would signal our own process group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number we cannot ask about: leave it
    return True


def _writable_target(path: str | os.PathLike[str], who: str) -> Path:
    """The file a write to ``path`` must replace: the path itself, or a symlink's target."""
    shown = os.fspath(path)
    if os.fsdecode(shown).endswith(("/", os.sep)):
        raise IsADirectoryError(
            f"{who}: {shown!r} ends with a slash, so it names a directory; give a file name"
        )
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{who}: {shown!r} is a directory; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(
            f"{who}: {shown!r} is {_kind(st.st_mode)}, not a regular file; nothing written"
        )
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise PermissionError(f"{who}: {shown!r} is read-only; nothing written")
    return target


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


def read_bounded(path: str | os.PathLike[str], max_bytes: int, who: str) -> bytes:
    """The bytes of the regular file at ``path``, refusing anything bigger than ``max_bytes``.

    Raises ValueError (naming ``who`` and the file) for a directory, device, FIFO or socket, for
    a file over the limit and for a limit that is not an int in [1, sys.maxsize - 1];
    FileNotFoundError and PermissionError as ``open`` does.
    """
    limit = max_bytes
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit < sys.maxsize:
        raise ValueError(
            f"{who} {os.fspath(path)!r}: max_bytes must be an int in [1, {sys.maxsize - 1}], "
            f"got {limit!r:.40}"
        )
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
