"""Path mapping: decode once, normalise, resolve symlinks, stay inside the folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.servers.cgi.paths import (
    PathRefused,
    ScriptTarget,
    StaticTarget,
    decode_path,
    resolve_target,
    translate_path_info,
)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    root, cgi, outside = tmp_path / "www", tmp_path / "cgi", tmp_path / "outside"
    for folder in (root, cgi, outside, root / "docs", cgi / "tools"):
        folder.mkdir()
    (root / "a.txt").write_text("a")
    (root / "docs" / "b.txt").write_text("b")
    (cgi / "run.py").write_text("")
    (cgi / "tools" / "deep.sh").write_text("")
    (outside / "x.py").write_text("")
    os.symlink(outside / "x.py", cgi / "escape.py")
    os.symlink(outside, root / "out")
    os.symlink(cgi / "run.py", root / "run-source.py")
    return root.resolve(), cgi.resolve(), outside


@pytest.mark.parametrize(("raw", "expected"), [
    ("/", "/"),
    ("/a/./b/../c", "/a/c"),
    ("/a//b/", "/a/b/"),
    ("/%7Euser/p%20q", "/~user/p q"),
    ("/%252e%252e/x", "/%2e%2e/x"),  # decoded once only
    ("/a/b/..", "/a/"),
    ("/caf%C3%A9", "/café"),
])
def test_decode_path(raw: str, expected: str) -> None:
    assert decode_path(raw) == expected


@pytest.mark.parametrize(("raw", "status"), [
    ("cgi-bin/x.py", 400),
    ("/..", 400),
    ("/a/../../b", 400),
    ("/%2e%2e/b", 400),
    ("/a%2fb", 404),
    ("/a%2Fb", 404),
    ("/a%5cb", 404),
    ("/a\\b", 404),
    ("/a%00b", 404),
    ("/a%0db", 400),
    ("/%ff", 400),
])
def test_decode_path_refuses(raw: str, status: int) -> None:
    with pytest.raises(PathRefused) as info:
        decode_path(raw)
    assert info.value.status == status


@given(st.text(alphabet="./%2eEfF5cC0a", max_size=30))
def test_decoded_paths_never_climb(raw: str) -> None:
    try:
        path = decode_path("/" + raw)
    except PathRefused:
        return
    assert path.startswith("/")
    assert ".." not in path.split("/")


def test_static_and_script_targets(folders: tuple[Path, Path, Path]) -> None:
    root, cgi, _ = folders
    assert resolve_target("/docs/b.txt", root, cgi) == StaticTarget(root / "docs" / "b.txt",
                                                                      "/docs/b.txt")
    assert resolve_target("/cgi-bin/run.py", root, cgi) == ScriptTarget(
        cgi / "run.py", "/cgi-bin/run.py", "")
    assert resolve_target("/cgi-bin/run.py/x/y", root, cgi) == ScriptTarget(
        cgi / "run.py", "/cgi-bin/run.py", "/x/y")
    assert resolve_target("/cgi-bin/tools/deep.sh/z", root, cgi) == ScriptTarget(
        cgi / "tools" / "deep.sh", "/cgi-bin/tools/deep.sh", "/z")


@pytest.mark.parametrize(("raw", "status"), [
    ("/cgi-bin/escape.py", 403),     # symlink out of cgi-bin
    ("/out/x.py", 403),              # symlink out of the root
    ("/missing", 404),
    ("/cgi-bin/missing.py", 404),
    ("/cgi-bin", 403),
    ("/cgi-bin/tools", 403),
    ("/.git/config", 404),
])
def test_refused_targets(folders: tuple[Path, Path, Path], raw: str, status: int) -> None:
    root, cgi, _ = folders
    with pytest.raises(PathRefused) as info:
        resolve_target(raw, root, cgi)
    assert info.value.status == status


def test_scripts_are_never_static(folders: tuple[Path, Path, Path]) -> None:
    root, cgi, _ = folders
    with pytest.raises(PathRefused, match="outside the document root"):
        resolve_target("/run-source.py", root, cgi)
    # cgi-bin inside the document root, and another name for it: reachable only as scripts
    inner = root / "scripts"
    inner.mkdir()
    (inner / "s.py").write_text("")
    os.symlink(inner, root / "alias")
    for raw in ("/scripts/s.py", "/alias/s.py"):
        with pytest.raises(PathRefused, match="never served"):
            resolve_target(raw, root, inner.resolve())
    assert isinstance(resolve_target("/cgi-bin/s.py", root, inner.resolve()), ScriptTarget)


def test_translate_path_info(tmp_path: Path) -> None:
    assert translate_path_info("/a/b", tmp_path) == str(tmp_path / "a" / "b")
