"""The server's own pages escape everything they show."""

from __future__ import annotations

from pathlib import Path

from core.servers.cgi.pages import diagnosis_page, error_page, listing_page, reason


def test_error_page_escapes() -> None:
    page = error_page(404, "<script>")
    assert b"404 Not Found" in page and b"&lt;script&gt;" in page and b"<script>" not in page
    assert reason(599) == "Unknown"


def test_diagnosis_page_has_the_checklist_and_escaped_stderr() -> None:
    page = diagnosis_page("/cgi-bin/x.py", "no output", "print <b>", ["Traceback <x>"])
    assert b"/cgi-bin/x.py" in page and b"print &lt;b&gt;" in page
    assert b"Traceback &lt;x&gt;" in page and b"chmod a+rx" in page


def test_listing_hides_dotfiles_and_escapes(tmp_path: Path) -> None:
    (tmp_path / "<i>.txt").write_text("")
    (tmp_path / ".secret").write_text("")
    (tmp_path / "dir").mkdir()
    page = listing_page("/sub/", tmp_path)
    assert b"&lt;i&gt;.txt" in page and b'href="%3Ci%3E.txt"' in page
    assert b'href="dir/"' in page and b'href="../"' in page and b".secret" not in page
