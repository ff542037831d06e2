"""FTP sessions as an ftplib script (the origin document's section 6.2, modernised).

Steps (``Recording("ftp")``):

* ``connect``  host, port, user, anonymous, tls ("none", "explicit", "implicit"),
  verify, ca_file, passive
* ``cwd`` path · ``list`` path · ``mkd`` path · ``rmd`` path · ``delete`` path
* ``rename`` src, dst · ``download`` remote, local · ``upload`` local, remote · ``quit``

The password is never written into the script: it comes from the environment variable
``WIREBENCH_FTP_PASSWORD`` or a prompt.
"""

from __future__ import annotations

from core.codegen.pyliteral import header, tls_context_lines
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


def render(recording: Recording) -> str:
    steps = recording.steps()
    imports = ["import ftplib", "import hashlib", "import os"]
    body: list[str] = []
    tls_mode = "none"
    for step in steps:
        a = step.args
        if step.op == "connect":
            tls_mode = a.get("tls", "none")
            host, port = a.get("host", "127.0.0.1"), int(a.get("port", 21))
            if tls_mode != "none":
                imports += ["import socket", "import ssl"]
                body += tls_context_lines(a.get("ca_file"), a.get("verify", True))
                cls = "ImplicitFTP_TLS" if tls_mode == "implicit" else "ReusingFTP_TLS"
                body.append(f"ftp = {cls}(context=context, timeout=30)")
            else:
                body.append("ftp = ftplib.FTP(timeout=30)")
            body.append(f"print(ftp.connect({host!r}, {port}))")
            if a.get("anonymous"):
                body.append("print(ftp.login('anonymous', 'wirebench@localhost'))")
            else:
                imports.append("import getpass")
                user = a.get("user", "")
                body += ["# the password is not stored in this script",
                         "password = os.environ.get('WIREBENCH_FTP_PASSWORD') or "
                         f"getpass.getpass('FTP password for {user}: ')",
                         f"print(ftp.login({user!r}, password))"]
            if tls_mode != "none":
                body.append("ftp.prot_p()  # encrypt the data connections too")
            if not a.get("passive", True):
                body.append("ftp.set_pasv(False)  # active mode, as in the session")
        elif step.op == "cwd":
            body.append(f"ftp.cwd({a['path']!r})")
        elif step.op == "list":
            path = a.get("path") or ""
            body += [f"# listing of {path or 'the current folder'}",
                     f"for name, facts in sorted(ftp.mlsd({path!r})):"
                     if a.get("mlsd") else f"ftp.dir({path!r})"]
            if a.get("mlsd"):
                body.append("    print(facts.get('type', '?'), facts.get('size', ''), name)")
        elif step.op in ("mkd", "rmd", "delete"):
            body.append(f"ftp.{step.op}({a['path']!r})")
        elif step.op == "rename":
            body.append(f"ftp.rename({a['src']!r}, {a['dst']!r})")
        elif step.op == "download":
            local = a.get("local") or a["remote"].rsplit("/", 1)[-1]
            body += [f"with open({local!r}, 'wb') as fh:",
                     f"    ftp.retrbinary('RETR ' + {a['remote']!r}, fh.write, blocksize=65536)",
                     f"with open({local!r}, 'rb') as fh:",
                     f"    print('downloaded', {local!r}, hashlib.sha256(fh.read()).hexdigest())"]
        elif step.op == "upload":
            body += [f"with open({a['local']!r}, 'rb') as fh:",
                     f"    ftp.storbinary('STOR ' + {a['remote']!r}, fh, blocksize=65536)",
                     f"print('uploaded', {a['remote']!r}, ftp.size({a['remote']!r}), 'bytes')"]
        elif step.op == "quit":
            body.append("ftp.quit()")
    if not body:
        body.append("# Nothing recorded yet: connect, browse and transfer in the tab.")
    out = header("FTP session.", imports)
    if tls_mode != "none":
        out += _TLS_CLASSES
    return out + "\n\n" + "\n".join(body) + "\n"
