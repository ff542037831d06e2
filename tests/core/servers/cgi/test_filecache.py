"""The small-file cache: keyed by identity and timestamps, bounded in bytes."""

from __future__ import annotations

import os
from pathlib import Path

from core.servers.cgi.filecache import SmallFileCache, file_key


def key_of(path: Path, age: float = 10.0):
    """The key of ``path`` once its last change is ``age`` seconds old."""
    info = os.stat(path)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - int(age * 1e9)))
    return file_key(str(path), os.stat(path))


def test_hit_after_put_and_new_key_after_change(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_bytes(b"one")
    cache = SmallFileCache()
    first = key_of(page)
    assert cache.get(first) is None
    cache.put(first, b"one")
    assert cache.get(first) == b"one"
    page.write_bytes(b"two!")
    second = key_of(page, age=5.0)
    assert second != first and cache.get(second) is None
    cache.put(second, b"two!")
    assert len(cache) == 1 and cache.size == 4  # the old version is dropped


def test_bounds(tmp_path: Path) -> None:
    cache = SmallFileCache(max_bytes=10, max_file=6)
    keys = []
    for i in range(4):
        path = tmp_path / f"f{i}"
        path.write_bytes(b"x" * 4)
        keys.append(key_of(path))
        cache.put(keys[-1], b"x" * 4)
    assert cache.size <= 10 and cache.get(keys[0]) is None and cache.get(keys[3]) == b"xxxx"
    big = tmp_path / "big"
    big.write_bytes(b"y" * 7)
    big_key = key_of(big)
    cache.put(big_key, b"y" * 7)
    assert cache.get(big_key) is None


def test_content_that_does_not_match_the_size_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    cache = SmallFileCache()
    key = key_of(path)
    cache.put(key, b"abcdef")  # read while the file grew
    assert cache.get(key) is None
    cache.put(key, b"abc")
    assert cache.get(key) == b"abc"


def test_freshly_changed_files_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    cache = SmallFileCache()
    key = key_of(path, age=0.0)
    cache.put(key, b"abc")
    assert cache.get(key) is None
