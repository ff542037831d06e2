"""The FTP tab's local pane: browse, create, rename and delete on this computer.

The disk work runs in :class:`core.ftp.local.LocalFolder` on a worker thread; this side
asks, and draws the :class:`~core.ftp.local.LocalListed` events it gets back.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from tkinter import simpledialog

from core.ftp.local import LocalListed
from gui.tabs.ftp.file_pane import PaneRow


class LocalPaneActions:
    """The local-pane half of :class:`~gui.tabs.ftp.tab.FtpTab` (a mixin of its widgets)."""

    @property
    def local_path(self) -> Path:
        """The folder the local pane shows (the last one listed)."""
        return self.local_folder.path

    def _local_listed(self, event: LocalListed) -> None:
        self._local_listed_at = time.monotonic()
        rows = [PaneRow(key=e.name, text=e.name, kind="dir" if e.is_dir else "file",
                        size=e.size, modified=dt.datetime.fromtimestamp(e.modified))
                for e in event.entries]
        self.local.set_rows(str(event.path), rows, with_up=event.path.parent != event.path)
        if event.truncated:
            self.show_info(f"{event.path} holds {event.total:,} items; the first "
                           f"{len(event.entries):,} are listed.")

    def refresh_local(self) -> None:
        self._local_listed_at = time.monotonic()  # asked: no second ask while it runs
        self.local_folder.refresh()

    def go_local(self, path: str | Path) -> None:
        self.local_folder.change_dir(path)

    def local_up(self) -> None:
        self.local_folder.up()

    def _open_local(self, row: PaneRow) -> None:
        if row.is_dir:
            self.go_local(row.key)
        elif self.session.connected:
            self.upload_selected()

    def _open_local_selected(self) -> None:
        self.local.open_selected()

    def mkdir_local(self, name: str | None = None) -> None:
        name = name or simpledialog.askstring("New local folder", "Folder name:", parent=self)
        if name:
            self._guarded(lambda: self.local_folder.mkdir(name))

    def rename_local(self, new: str | None = None) -> None:
        for row in self.local.selected()[:1]:
            new = new or simpledialog.askstring("Rename", f"New name for {row.text}:",
                                                initialvalue=row.text, parent=self)
            if new and new != row.key:
                self._guarded(lambda r=row, n=new: self.local_folder.rename(r.key, n))

    def delete_local(self, confirm: bool = True) -> None:
        rows = self.local.selected()
        if rows and self._confirm_delete([r.text for r in rows], "this computer", confirm):
            self.local_folder.delete([r.key for r in rows])

    def _refresh_focused(self) -> None:
        if self.focus_get() is self.local.tree:
            self.refresh_local()
        elif self.session.connected:
            self.session.refresh()


