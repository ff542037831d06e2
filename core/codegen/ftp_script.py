"""FTP sessions as an ftplib script (the origin document's section 6.2, modernised).

Steps (``Recording("ftp")``):

* ``connect``  host, port, user, anonymous, tls (the security used: "none", "explicit",
  "implicit"), asked_tls (what the user chose), verify, ca_file, passive
* ``cwd`` path · ``list`` path · ``mkd`` path · ``rmd`` path · ``delete`` path
* ``remove_tree`` path · ``size`` path · ``view`` path
* ``rename`` src, dst · ``download`` remote, local · ``upload`` local, remote · ``quit``

The password is never written into the script: it comes from the environment variable
``WIREBENCH_FTP_PASSWORD`` or a prompt.
"""

from __future__ import annotations

from core.codegen.pyliteral import comment, header, literal, tls_context_lines
from core.recording import Recording

_TLS_CLASSES = '''

class ReusingFTP_TLS(ftplib.FTP_TLS):
    """Explicit FTPS that reuses the control connection's TLS session for data
    connections: servers such as vsftpd (require_ssl_reuse) refuse transfers otherwise."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size


class ImplicitFTP_TLS(ReusingFTP_TLS):
    """Implicit FTPS (port 990): TLS from the first byte, before the banner."""

    def connect(self, host, port=990, timeout=30, source_address=None):
        self.host, self.port, self.timeout = host, port, timeout
        raw = socket.create_connection((host, port), timeout)
        self.sock = self.context.wrap_socket(raw, server_hostname=host)
        self.af = self.sock.family
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome
'''


_REMOVE_TREE = '''

def remove_tree(ftp, path):
    """Delete a folder with everything in it (the tab's "Delete folder and contents")."""
    for name, facts in ftp.mlsd(path, facts=["type"]):
        if name in (".", "..") or "/" in name:
            continue
        child = path.rstrip("/") + "/" + name
        if facts.get("type") == "dir":
            remove_tree(ftp, child)
        elif facts.get("type") == "file":
            ftp.delete(child)
    ftp.rmd(path)
'''


def render(recording: Recording) -> str:
    steps = recording.steps()
    imports = ["import ftplib", "import hashlib", "import os"]
    body: list[str] = []
    tls_mode = "none"
    for step in steps:
        a = step.args
        if step.op == "connect":
            tls_mode = str(a.get("tls", "none"))
            host, port = str(a.get("host", "127.0.0.1")), int(a.get("port", 21))
            if a.get("asked_tls", tls_mode) != tls_mode:
                body += [comment(f"FTPS ({a.get('asked_tls')}) was asked for, but the server "
                                 "refused AUTH TLS and you agreed to go on in clear: so "
                                 "does this script (the password travels in clear).")]
            if tls_mode != "none":
                imports += ["import socket", "import ssl"]
                body += tls_context_lines(a.get("ca_file"), a.get("verify", True))
                cls = "ImplicitFTP_TLS" if tls_mode == "implicit" else "ReusingFTP_TLS"
                body.append(f"ftp = {cls}(context=context, timeout=30)")
            else:
                body.append("ftp = ftplib.FTP(timeout=30)")
            body.append(f"print(ftp.connect({literal(host)}, {port}))")
            if a.get("anonymous"):
                body.append("print(ftp.login('anonymous', 'wirebench@localhost'))")
            else:
                imports.append("import getpass")
                user = str(a.get("user", ""))
                body += ["# the password is not stored in this script: set "
                         "WIREBENCH_FTP_PASSWORD or type it when asked",
                         "password = os.environ.get('WIREBENCH_FTP_PASSWORD') or "
                         f"getpass.getpass({literal(f'FTP password for {user}: ')})",
                         f"print(ftp.login({literal(user)}, password))"]
            if tls_mode != "none":
                body.append("ftp.prot_p()  # encrypt the data connections too")
            if not a.get("passive", True):
                body.append("ftp.set_pasv(False)  # active mode, as in the session")
        elif step.op == "cwd":
            body.append(f"ftp.cwd({literal(str(a['path']))})")
        elif step.op == "list":
            path = a.get("path") or ""
            body += [comment(f"listing of {path or 'the current folder'}"),
                     f"for name, facts in sorted(ftp.mlsd({literal(str(path))})):"
                     if a.get("mlsd") else f"ftp.dir({literal(str(path))})"]
            if a.get("mlsd"):
                body.append("    print(facts.get('type', '?'), facts.get('size', ''), name)")
        elif step.op in ("mkd", "rmd", "delete"):
            body.append(f"ftp.{step.op}({literal(str(a['path']))})")
        elif step.op == "rename":
            body.append(f"ftp.rename({literal(str(a['src']))}, {literal(str(a['dst']))})")
        elif step.op == "download":
            remote = literal(str(a["remote"]))
            local = literal(str(a.get("local") or str(a["remote"]).rsplit("/", 1)[-1]))
            body += [f"with open({local}, 'wb') as fh:",
                     f"    ftp.retrbinary('RETR ' + {remote}, fh.write, blocksize=65536)",
                     f"with open({local}, 'rb') as fh:",
                     f"    print('downloaded', {local}, hashlib.sha256(fh.read()).hexdigest())"]
        elif step.op == "upload":
            remote = literal(str(a["remote"]))
            body += [f"with open({literal(str(a['local']))}, 'rb') as fh:",
                     f"    ftp.storbinary('STOR ' + {remote}, fh, blocksize=65536)",
                     f"print('uploaded', {remote}, ftp.size({remote}), 'bytes')"]
        elif step.op == "remove_tree":
            body.append(f"remove_tree(ftp, {literal(str(a['path']))})")
        elif step.op == "size":
            body += ["ftp.voidcmd('TYPE I')  # SIZE counts bytes in binary mode",
                     f"print('size of', {literal(str(a['path']))}, "
                     f"ftp.size({literal(str(a['path']))}))"]
        elif step.op == "view":
            body += [comment(f"view {a['path']}: the file's text, as the tab showed it"),
                     f"ftp.retrbinary('RETR ' + {literal(str(a['path']))}, "
                     "lambda data: print(data.decode('utf-8', 'replace'), end=''))"]
        elif step.op == "quit":
            body.append("ftp.quit()")
        else:
            body.append(comment(f"step {step.op!r} has no replay in this script: left out"))
    if not body:
        body.append("# Nothing recorded yet: connect, browse and transfer in the tab.")
    out = header("FTP session.", imports)
    if tls_mode != "none":
        out += _TLS_CLASSES
    if any(s.op == "remove_tree" for s in steps):
        out += _REMOVE_TREE
    return out + "\n\n" + "\n".join(body) + "\n"
