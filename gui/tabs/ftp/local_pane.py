"""The FTP tab's local pane: browse, create, rename and delete on this computer."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path
from tkinter import simpledialog

from gui.tabs.ftp.file_pane import PaneRow


class LocalPaneActions:
    """The local-pane half of :class:`~gui.tabs.ftp.tab.FtpTab` (a mixin of its widgets)."""

    # -- local pane -------------------------------------------------------------------------
    def refresh_local(self) -> None:
        self._local_listed = time.monotonic()
        rows: list[PaneRow] = []
        try:
            with os.scandir(self.local_path) as it:
                for entry in it:
                    try:
                        st = entry.stat()
                        is_dir = entry.is_dir()
                    except OSError:
                        continue
                    rows.append(PaneRow(key=entry.name, text=entry.name,
                                        kind="dir" if is_dir else "file",
                                        size=None if is_dir else st.st_size,
                                        modified=dt.datetime.fromtimestamp(st.st_mtime)))
        except OSError as exc:
            self.show_error(f"Cannot list {self.local_path}: {exc.strerror or exc}.")
        self.local.set_rows(str(self.local_path), rows,
                            with_up=self.local_path.parent != self.local_path)

    def go_local(self, path: str | Path) -> None:
        target = Path(path).expanduser()
        if not target.is_absolute():
            target = self.local_path / target
        if not target.is_dir():
            self.show_error(f"Local folder {target} does not exist: type an existing folder.")
            return
        self.local_path = target.resolve()
        self.refresh_local()

    def local_up(self) -> None:
        self.go_local(self.local_path.parent)

    def _open_local(self, row: PaneRow) -> None:
        if row.is_dir:
            self.go_local(self.local_path / row.key)
        elif self.session.connected:
            self.upload_selected()

    def _open_local_selected(self) -> None:
        self.local.open_selected()

    def mkdir_local(self, name: str | None = None) -> None:
        name = name or simpledialog.askstring("New local folder", "Folder name:", parent=self)
        if not name:
            return
        if "/" in name or name in (".", ".."):
            self.show_error("Folder name must be a single name without '/'.")
            return
        try:
            (self.local_path / name).mkdir()
        except OSError as exc:
            self.show_error(f"Cannot create {name}: {exc.strerror or exc}.")
        self.refresh_local()

    def rename_local(self, new: str | None = None) -> None:
        rows = self.local.selected()[:1]
        for row in rows:
            new = new or simpledialog.askstring("Rename", f"New name for {row.text}:",
                                                initialvalue=row.text, parent=self)
            if not new or "/" in new:
                return
            try:
                (self.local_path / row.key).rename(self.local_path / new)
            except OSError as exc:
                self.show_error(f"Cannot rename {row.text}: {exc.strerror or exc}.")
        self.refresh_local()

    def delete_local(self, confirm: bool = True) -> None:
        rows = self.local.selected()
        if not rows or not self._confirm_delete([r.text for r in rows], "this computer",
                                                confirm):
            return
        for row in rows:
            path = self.local_path / row.key
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError as exc:
                self.show_error(f"Cannot delete {row.text}: {exc.strerror or exc}.")
        self.refresh_local()

    def _refresh_focused(self) -> None:
        if self.focus_get() is self.local.tree:
            self.refresh_local()
        elif self.session.connected:
            self.session.refresh()
