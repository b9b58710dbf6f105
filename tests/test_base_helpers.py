"""The base layer's one-of-each helpers: boolean words, name lists, the atomic writer."""

from __future__ import annotations

import os

import pytest
from timemory import _files, _text


@pytest.mark.parametrize("word", ["on", "TRUE", " yes ", "y", "t", "1", "2.5", "-1"])
def test_true_words(word):
    assert _text.parse_bool(word) is True


@pytest.mark.parametrize("word", ["off", "False", "no", "N", "f", "0", "0.0"])
def test_false_words(word):
    assert _text.parse_bool(word) is False


@pytest.mark.parametrize("word", ["maybe", "", "nan", "inf", "onn"])
def test_other_words_name_the_choices(word):
    with pytest.raises(ValueError, match="on/true/yes/y/t/1, off/false/no/n/f/0"):
        _text.parse_bool(word)


def test_env_flag_defaults_on_garbage(monkeypatch):
    monkeypatch.setenv("TIMEMORY_TEST_FLAG", "sure")
    assert _text.env_flag("TIMEMORY_TEST_FLAG", True) is True
    monkeypatch.setenv("TIMEMORY_TEST_FLAG", "OFF")
    assert _text.env_flag("TIMEMORY_TEST_FLAG", True) is False
    monkeypatch.delenv("TIMEMORY_TEST_FLAG")
    assert _text.env_flag("TIMEMORY_TEST_FLAG") is False


def test_split_names():
    assert _text.split_names("wall_clock, cpu_clock;peak_rss\tuser_clock,,") == [
        "wall_clock",
        "cpu_clock",
        "peak_rss",
        "user_clock",
    ]
    assert _text.split_names("") == []


def test_atomic_write_replaces_a_planted_symlink(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("keep")
    target = tmp_path / "out" / "file.txt"
    target.parent.mkdir()
    os.symlink(secret, target)
    _files.atomic_write(target, "new ", b"text")
    assert secret.read_text() == "keep"
    assert not target.is_symlink() and target.read_text() == "new text"
    assert os.listdir(target.parent) == ["file.txt"]


def test_atomic_write_failure_is_oserror_naming_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match="blocker|file"):
        _files.atomic_write(blocker / "below" / "x.txt", "data")


def test_atomic_write_with_a_stream_writer(tmp_path):
    path = tmp_path / "data.bin"
    _files.atomic_write_with(path, lambda stream: stream.write(b"\x00\x01"))
    assert path.read_bytes() == b"\x00\x01"


def test_private_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    path = _files.make_private_dir("timemory-test-")
    assert os.path.dirname(path) == str(tmp_path)
    assert os.stat(path).st_mode & 0o777 == 0o700
