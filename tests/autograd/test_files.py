"""The one writer and the one reader: regular files only, atomic, bounded (issue 12, items 9-10)."""

from __future__ import annotations

import os
import stat

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
