"""SMTP sessions as an smtplib script (the origin document's section 6.3, modernised).

Steps (``Recording("smtp")``):

* ``connect``  host, port, security ("none", "starttls", "tls"), verify, ca_file
* ``ehlo`` name · ``starttls`` · ``login`` user · ``verify`` address · ``noop`` · ``rset``
* ``send``     sender, recipients (list), message (bytes, exactly as sent)
* ``quit``

The password comes from ``WIREBENCH_SMTP_PASSWORD`` or a prompt, never the script.
"""

from __future__ import annotations

from core.codegen.pyliteral import bytes_literal, header, tls_context_lines
from core.recording import Recording


def render(recording: Recording) -> str:
    steps = recording.steps()
    imports = ["import smtplib"]
    body: list[str] = []
    for step in steps:
        a = step.args
        if step.op == "connect":
            host, port = a.get("host", "127.0.0.1"), int(a.get("port", 25))
            security = a.get("security", "none")
            if security != "none":
                imports.append("import ssl")
                body += tls_context_lines(a.get("ca_file"), a.get("verify", True))
            if security == "tls":
                body.append(f"smtp = smtplib.SMTP_SSL({host!r}, {port}, context=context, "
                            "timeout=30)")
            else:
                body.append(f"smtp = smtplib.SMTP({host!r}, {port}, timeout=30)")
            body.append("smtp.set_debuglevel(1)  # show the dialogue, as the document does")
        elif step.op == "ehlo":
            body.append(f"print(smtp.ehlo({a.get('name')!r}))" if a.get("name")
                        else "print(smtp.ehlo())")
        elif step.op == "starttls":
            body += ["print(smtp.starttls(context=context))",
                     "smtp.ehlo()  # capabilities change once inside TLS"]
        elif step.op == "login":
            imports += ["import getpass", "import os"]
            body += ["# the password is not stored in this script",
                     "password = os.environ.get('WIREBENCH_SMTP_PASSWORD') or "
                     f"getpass.getpass('SMTP password for {a['user']}: ')",
                     f"print(smtp.login({a['user']!r}, password))"]
        elif step.op == "verify":
            body += [f"code, text = smtp.verify({a['address']!r})",
                     "print('VRFY:', code, text.decode(errors='replace'))"]
        elif step.op in ("noop", "rset"):
            body.append(f"print(smtp.{step.op}())")
        elif step.op == "send":
            body += [f"message = {bytes_literal(bytes(a['message']))}",
                     "refused = smtp.sendmail(",
                     f"    {a['sender']!r},",
                     f"    {list(a['recipients'])!r},",
                     "    message,",
                     ")",
                     "print('refused recipients:', refused or 'none')"]
        elif step.op == "quit":
            body.append("smtp.quit()")
    if not body:
        body.append("# Nothing recorded yet: connect and send in the tab.")
    return header("SMTP session.", imports) + "\n\n" + "\n".join(body) + "\n"
