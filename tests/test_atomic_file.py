"""open_atomically: the bytes written in the block replace the file at once on a clean exit; an exception in
the block leaves the previous file as it was and no temporary file. link_atomically: a second name for a file,
which later writes of either name leave apart."""

from __future__ import annotations

import errno
import os
import sys

import pytest

from netbuilder.atomic_file import link_atomically, open_atomically, write_atomically


def test_a_write_that_fails_in_the_middle_leaves_the_previous_file(tmp_path):
    path = tmp_path / "model.pt"
    write_atomically(path, b"the previous weights")
    with pytest.raises(OSError, match="No space left"), open_atomically(path) as stream:
        stream.write(b"half of the new")
        raise OSError(28, "No space left on device")
    assert path.read_bytes() == b"the previous weights" and [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_the_new_bytes_replace_the_file_only_when_the_block_ends(tmp_path):
    path = tmp_path / "last.pt"
    write_atomically(path, b"old")
    with open_atomically(path) as stream:
        stream.write(b"new")
        assert path.read_bytes() == b"old"
    assert path.read_bytes() == b"new"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and symlinks")
def test_writing_through_a_symlink_keeps_the_link_and_the_mode(tmp_path):
    real = tmp_path / "real.pt"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "link.pt"
    link.symlink_to(real)
    with open_atomically(link) as stream:
        stream.write(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new" and real.stat().st_mode & 0o777 == 0o640


def test_a_linked_name_holds_the_file_until_either_name_is_written_again(tmp_path):
    last, best = tmp_path / "last.pt", tmp_path / "best.pt"
    write_atomically(best, b"epoch 1")
    write_atomically(last, b"epoch 2")
    link_atomically(last, best)
    assert best.read_bytes() == b"epoch 2" and os.path.samefile(last, best)
    write_atomically(last, b"epoch 3")  # a new file under that name; best.pt keeps the one it names
    assert (last.read_bytes(), best.read_bytes()) == (b"epoch 3", b"epoch 2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]


def test_without_hard_links_the_bytes_are_copied(tmp_path, monkeypatch):
    def refused(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")  # what FAT and some network shares answer

    monkeypatch.setattr(os, "link", refused)
    last, best = tmp_path / "last.pt", tmp_path / "best.pt"
    write_atomically(best, b"epoch 1")
    write_atomically(last, b"epoch 2")
    link_atomically(last, best)
    assert best.read_bytes() == b"epoch 2" and not os.path.samefile(last, best)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]
