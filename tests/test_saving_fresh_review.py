"""Saving and loading as a demanding user meets them: paths, permissions, foreign files,
containers that would come back as another type, and whole training checkpoints."""

import os

import numpy as np
import pytest

import retrograd as rg

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX paths and permission bits")


# ----- the path argument -----
@posix_only
def test_save_to_a_path_ending_in_a_slash_is_refused(tmp_path):
    """'checkpoints/' names a directory: a file called 'checkpoints' is not what was asked."""
    target = f"{tmp_path}/checkpoints/"
    with pytest.raises(ValueError, match=r"save\(\): path .*checkpoints/' ends in '/'"):
        rg.save({"a": 1}, target)
    assert os.listdir(tmp_path) == []


def test_save_and_load_refuse_an_empty_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^save\(\): path is empty"):
        rg.save({"a": 1}, "")
    with pytest.raises(ValueError, match=r"^load\(\): path is empty"):
        rg.load("")


def test_load_of_an_int_is_refused_and_leaves_that_file_descriptor_open(tmp_path):
    """open() takes an int as a file descriptor, and closing the file closes it."""
    fd = os.open(tmp_path / "other", os.O_CREAT | os.O_RDWR)
    try:
        with pytest.raises(
            TypeError, match=r"load\(\): path must be a str or os.PathLike, got int"
        ):
            rg.load(fd)
        os.fstat(fd)  # still open
    finally:
        os.close(fd)


def test_save_with_its_arguments_swapped_says_so(tmp_path):
    with pytest.raises(TypeError, match=r"got dict; the object to save comes first"):
        rg.save(str(tmp_path / "x.ckpt"), {"a": 1})
    assert os.listdir(tmp_path) == []


def test_save_and_load_take_a_bytes_path(tmp_path):
    path = os.fsencode(tmp_path / "x.ckpt")
    rg.save({"a": np.arange(3)}, path)
    assert rg.load(path)["a"].tolist() == [0, 1, 2]


def test_load_of_a_directory_names_it(tmp_path):
    with pytest.raises(IsADirectoryError, match=rf"^cannot load {tmp_path}: it is a directory"):
        rg.load(tmp_path)
