"""Renderers that turn a :class:`~core.recording.Recording` into a runnable script.

One place to register a tab's renderer: :data:`RENDERERS` maps a recording's ``kind`` to
the module that renders it (imported on first use). A new tab adds one line here and a
module with ``render(recording) -> str``.
"""

from __future__ import annotations

import importlib

from core.recording import Recording

RENDERERS: dict[str, str] = {
    "socket": "core.codegen.socket_script",
    "dns": "core.codegen.dns_script",
    "ftp": "core.codegen.ftp_script",
    "smtp": "core.codegen.smtp_script",
    "echo-server": "core.codegen.echo_server_script",
    "telnet": "core.codegen.telnet_script",
}


def render(recording: Recording) -> str:
    """The script for ``recording``; a short comment when nothing was recorded yet."""
    module_name = RENDERERS.get(recording.kind)
    if module_name is None:
        return f"# No script renderer is registered for {recording.kind!r} sessions yet.\n"
    module = importlib.import_module(module_name)
    return module.render(recording)
