"""The FTP tab's remote pane and transfer queue actions."""

from __future__ import annotations

import posixpath
import time
from tkinter import messagebox, simpledialog

from core.errors import UserError
from core.ftp.listing import RemoteEntry
from core.ftp.transfers import DONE, UPLOAD, TransferItem, TransferQueue
from gui.tabs.ftp.file_pane import PaneRow

POLICIES = {"Ask": "", "Overwrite": "overwrite", "Resume": "resume", "Skip": "skip"}


class RemotePaneActions:
    """The remote-pane and transfer half of :class:`~gui.tabs.ftp.tab.FtpTab` (a mixin)."""

    def _transfers_changed(self, items: list[TransferItem]) -> None:
        self.transfers.show(items)
        for item in items:
            if item.folder and item.state == DONE and item.error:
                # files queued, or which limit stopped the walk and how to raise it
                self.show_info(f"{item.name}/: {item.error}.")
        if any(i.state == "running" for i in items) and self._poll_after is None:
            self._poll_after = self.after(250, self._poll_running)
        finished = [i for i in items if i.state == DONE and not i.folder]
        if any(i.direction == UPLOAD for i in finished) and self.session.connected:
            self.session.refresh()
        into_here = [i for i in items if i.direction != UPLOAD
                     and i.local_path.parent == self.local_path]
        stale = time.monotonic() - self._local_listed_at > 2.0  # growing .part files
        if any(i in finished for i in into_here) or any(
                i.folder and i.state == DONE for i in items) or (into_here and stale):
            self.refresh_local()

    def _poll_running(self) -> None:
        """Progress events stop when the bytes stop (a bursty server, a stall): read the
        queue's in-memory counts so the bar shows the last burst and the speed decays."""
        self._poll_after = None
        if self.queue is None:
            return
        running = [i for i in self.queue.snapshot() if i.state == "running"]
        if running:
            self.transfers.show(running)
            self._poll_after = self.after(250, self._poll_running)

    # -- remote pane ---------------------------------------------------------------------
    @staticmethod
    def _remote_row(entry: RemoteEntry) -> PaneRow:
        return PaneRow(key=entry.name, text=entry.display, kind=entry.kind, size=entry.size,
                       modified=entry.modified, permissions=entry.permissions,
                       target=entry.target)

    def _need_session(self) -> bool:
        if not self.session.connected:
            self.show_error("Not connected: fill in the site bar and press Connect.")
            return False
        return True

    def _open_remote(self, row: PaneRow) -> None:
        """Enter/double-click: a folder (or link) opens; a file downloads, as in FileZilla."""
        if row.kind in ("dir", "link"):
            self.go_remote(row.key)
        elif row.kind == "file":
            self.download_selected()

    def _open_remote_selected(self) -> None:
        self.remote.open_selected()

    def go_remote(self, path: str) -> None:
        if self._need_session():
            try:
                self.session.change_dir(path)
            except UserError as exc:
                self.show_error(str(exc))

    def remote_up(self) -> None:
        if self._need_session():
            self.session.up()

    def refresh_remote(self) -> None:
        if self._need_session():
            self.session.refresh()

    def _remote_selection(self, what: str) -> list[PaneRow]:
        rows = [r for r in self.remote.selected() if r.kind != "raw"]
        if not rows:
            self.show_error(f"Select a remote item to {what} first.")
        return rows

    def view_remote(self) -> None:
        for row in self._remote_selection("view")[:1]:
            if row.is_dir:
                self.show_error(f"{row.text} is a folder: open it instead.")
            else:
                self.session.view(row.key)

    def size_remote(self) -> None:
        for row in self._remote_selection("measure")[:1]:
            self.session.size(row.key)

    def mkdir_remote(self, name: str | None = None) -> None:
        if not self._need_session():
            return
        name = name or simpledialog.askstring("New remote folder", "Folder name:", parent=self)
        if name:
            self._guarded(lambda: self.session.mkd(name))

    def rename_remote(self, new: str | None = None) -> None:
        for row in self._remote_selection("rename")[:1]:
            new = new or simpledialog.askstring("Rename", f"New name for {row.text}:",
                                                initialvalue=row.text, parent=self)
            if new and new != row.key:
                self._guarded(lambda r=row, n=new: self.session.rename(r.key, n))

    def delete_remote(self, confirm: bool = True) -> None:
        rows = self._remote_selection("delete")
        if not rows or not self._confirm_delete([r.text for r in rows], "the server",
                                                confirm):
            return
        for row in rows:
            if row.is_dir:  # with everything inside, as the confirmation said
                self._guarded(lambda r=row: self.session.remove_tree(r.key))
            else:
                self._guarded(lambda r=row: self.session.delete(r.key))

    def _confirm_delete(self, names: list[str], where: str, confirm: bool) -> bool:
        if not confirm:
            return True
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return messagebox.askyesno(
            "Delete", f"Delete {shown} from {where}? Folders are deleted with everything "
            "in them.", icon="warning", default="no", parent=self)

    def _guarded(self, action) -> None:
        try:
            action()
        except UserError as exc:
            self.show_error(str(exc))

    def show_python(self) -> None:
        """This session (browsing and finished transfers) as an ftplib script."""
        from gui.widgets.code_panel import show_code

        show_code(self, self.session.recording, "FTP", self.app.worker)

    # -- transfers -------------------------------------------------------------------------
    def _transfer_queue(self) -> TransferQueue | None:
        if self.options is None or not self.session.connected:
            self.show_error("Not connected: connect before transferring files.")
            return None
        if self.queue is None:
            self.queue = TransferQueue(self.options, self.outbox,
                                       recording=self.session.recording)
        return self.queue

    def download_selected(self) -> None:
        rows = self._remote_selection("download")
        q = self._transfer_queue() if rows else None
        if q is None:
            return
        policy = POLICIES.get(self.policy_var.get(), "")
        for row in rows:
            remote = posixpath.join(self.remote_path or "/", row.key)
            try:
                q.add_download(remote, self.local_path, size=row.size,
                               binary=self.binary_var.get(), folder=row.is_dir, policy=policy)
            except UserError as exc:
                self.show_error(str(exc))

    def upload_selected(self) -> None:
        rows = [r for r in self.local.selected()]
        if not rows:
            self.show_error("Select a local file or folder to upload first.")
            return
        q = self._transfer_queue()
        if q is None:
            return
        policy = POLICIES.get(self.policy_var.get(), "")
        for row in rows:
            try:
                q.add_upload(self.local_path / row.key, self.remote_path,
                             binary=self.binary_var.get(), policy=policy,
                             folder=row.is_dir, size=row.size)  # as listed: no disk call
            except (UserError, OSError) as exc:
                self.show_error(str(exc))

    def cancel_selected(self) -> None:
        if self.queue is not None:
            for item_id in self.transfers.selected_ids() or [
                    i.id for i in self.queue.snapshot() if i.state == "running"]:
                self.queue.cancel(item_id)

    def resume_selected(self) -> None:
        if self.queue is not None:
            ids = self.transfers.selected_ids() or [
                i.id for i in self.queue.snapshot() if i.resumable]
            for item_id in ids:
                self.queue.resume(item_id)

    def clear_finished(self) -> None:
        if self.queue is not None:
            before = {i.id for i in self.queue.snapshot()}
            self.queue.clear_finished()
            after = {i.id for i in self.queue.snapshot()}
            self.transfers.forget(before - after)
