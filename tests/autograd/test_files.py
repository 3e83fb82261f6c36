"""The one writer and the one reader: regular files only, atomic, bounded (issue 12, items 9-10)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tracemalloc

import pytest

from autograd import files
from autograd.files import read_bounded, write_atomic


def test_writes_text_and_bytes_and_makes_folders(tmp_path):
    target = tmp_path / "a" / "b" / "x.txt"
    assert write_atomic(target, "héllo", "save") == os.fspath(target)
    assert target.read_text(encoding="utf-8") == "héllo"
    write_atomic(target, b"\x00\x01", "save")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]  # no temporary left behind


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null here")
def test_a_device_is_refused_and_left_alone():
    before = os.stat("/dev/null")
    with pytest.raises(ValueError, match=r"save: '/dev/null' is a device, not a regular file"):
        write_atomic("/dev/null", "x", "save")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_fifo_and_a_directory_are_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is a FIFO"):
        write_atomic(fifo, "x", "render")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(IsADirectoryError, match="render: .* is a directory"):
        write_atomic(tmp_path, "x", "render")


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new", "save")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_read_only_file_is_refused_even_for_root(tmp_path):
    target = tmp_path / "kept.json"
    target.write_text("old")
    target.chmod(0o444)
    with pytest.raises(PermissionError, match="is read-only; nothing written"):
        write_atomic(target, "new", "save")
    assert target.read_text() == "old"


def test_the_mode_of_an_existing_file_is_kept(tmp_path):
    target = tmp_path / "shared.png"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new", "render")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "model.json"
    target.write_text("old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new", "save")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_read_is_bounded_and_names_the_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, 100, "load") == b"x" * 100
    with pytest.raises(ValueError, match=r"load: .*m\.json' is 100 bytes, over the limit of 99"):
        read_bounded(path, 99, "load")
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "missing.json", 100, "load")


def test_read_refuses_what_is_not_a_regular_file_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: a plain open() would wait forever
    with pytest.raises(ValueError, match=r"load: .*pipe' is a FIFO"):
        read_bounded(fifo, 100, "load")
    with pytest.raises(ValueError, match=r"load: .* is a directory, not a regular file"):
        read_bounded(tmp_path, 100, "load")
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="'/dev/zero' is a device"):
            read_bounded("/dev/zero", 100, "load")


# ---- issue 20, item 13: the writer's corners -----------------------------------------------------


def test_a_path_with_a_trailing_slash_is_refused(tmp_path):
    for path in (f"{tmp_path}/m.json/", f"{tmp_path}/new/m.json/"):
        with pytest.raises(IsADirectoryError, match=r"save: .*m\.json/' ends with a slash"):
            write_atomic(path, "x", "save")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_overwriting_another_users_file_keeps_its_owner_and_mode_without_setuid(tmp_path):
    target = tmp_path / "theirs.json"
    target.write_text("old")
    os.chown(target, 4321, 4322)
    target.chmod(0o6754)  # setuid, setgid, rwxr-xr--
    write_atomic(target, "new", "save")
    st = target.stat()
    assert target.read_text() == "new"
    assert (st.st_uid, st.st_gid) == (4321, 4322)
    assert stat.S_IMODE(st.st_mode) == 0o754


def test_setuid_and_setgid_bits_are_never_copied(tmp_path):
    target = tmp_path / "mine.json"
    target.write_text("old")
    target.chmod(0o6750)
    write_atomic(target, "new", "save")
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_a_dangling_symlink_does_not_make_its_targets_folders(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "missing" / "deeper" / "real.json")
    with pytest.raises(FileNotFoundError, match=r"is a symlink to .*real\.json', whose folder"):
        write_atomic(link, "x", "save")
    assert not (tmp_path / "missing").exists() and link.is_symlink()
    (tmp_path / "missing" / "deeper").mkdir(parents=True)
    write_atomic(link, "x", "save")  # a dangling link into a folder that exists: written through
    assert (tmp_path / "missing" / "deeper" / "real.json").read_text() == "x"


def test_a_save_killed_mid_write_leaves_a_temporary_the_next_save_removes(tmp_path):
    target = tmp_path / "m.json"
    target.write_text("old")
    killed = (
        "import os, signal, sys\n"
        "from autograd import files\n"
        "files.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        "files.write_atomic(sys.argv[1], 'new', 'save')\n"
    )
    run = subprocess.run([sys.executable, "-c", killed, str(target)], check=False)
    assert run.returncode == -signal.SIGKILL
    left = [p.name for p in tmp_path.iterdir() if p.name != "m.json"]
    assert len(left) == 1 and left[0].startswith(".m.json.") and left[0].endswith(".tmp")
    assert target.read_text() == "old"
    # A temporary of a live writer (ours) and one of another file are left alone.
    live = tmp_path / f".m.json.{os.getpid()}-abcd.tmp"
    live.write_text("in progress")
    other = tmp_path / left[0].replace(".m.json.", ".other.json.")
    other.write_text("not ours to judge")
    write_atomic(target, "newer", "save")
    assert target.read_text() == "newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.json", live.name, other.name])


def test_a_limit_too_big_for_the_os_is_a_value_error_not_an_overflow(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b"{}")
    for bad in (2**70, 0, -1, 1.5, True, None):
        with pytest.raises(ValueError, match=r"load .*m\.json': max_bytes must be an int in \[1, "):
            read_bounded(path, bad, "load")


def test_a_generous_limit_reserves_no_memory_of_its_own(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b"x" * 1000)
    tracemalloc.start()
    try:
        assert read_bounded(path, 2**40, "load") == b"x" * 1000  # read(2**40 + 1) would not fit
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000
