"""SMTP sessions as an smtplib script (the origin document's section 6.3, modernised).

Steps (``Recording("smtp")``, one connection per recording):

* ``connect``  host, port, security ("none", "starttls", "tls"), verify, ca_file
* ``ehlo`` name · ``starttls`` · ``login`` user, mechanism · ``verify`` address
* ``command``  verb (VRFY, EXPN, NOOP, RSET, HELP), argument — typed by hand
* ``noop`` · ``rset``
* ``send``     sender, recipients (list), message (bytes, exactly as sent)
* ``quit`` (QUIT sent) · ``close`` (the connection ended without QUIT)

The password comes from ``WIREBENCH_SMTP_PASSWORD`` or a prompt, never the script, and
the dialogue is not printed while AUTH runs (it carries the password in base64).
"""

from __future__ import annotations

from core.codegen.pyliteral import bytes_literal, comment, header, literal, tls_context_lines
from core.recording import Recording, Step

_VERBS = ("VRFY", "EXPN", "NOOP", "RSET", "HELP")


def _login_lines(a: dict) -> list[str]:
    user = str(a.get("user", ""))
    mechanism = str(a.get("mechanism") or "auto")
    lines = ["# the password is not stored in this script: set WIREBENCH_SMTP_PASSWORD",
             "# or type it when asked",
             "password = os.environ.get('WIREBENCH_SMTP_PASSWORD') or "
             f"getpass.getpass({literal(f'SMTP password for {user}: ')})",
             "smtp.set_debuglevel(0)  # AUTH carries the password (base64): not printed"]
    if mechanism == "auto":
        lines.append(f"print(smtp.login({literal(user)}, password))")
    else:
        method = "auth_" + mechanism.lower().replace("-", "_")
        lines += [f"smtp.user, smtp.password = {literal(user)}, password",
                  f"print(smtp.auth({literal(mechanism)}, smtp.{method}))"]
    return lines + ["smtp.set_debuglevel(1)"]


def _step_lines(step: Step, imports: list[str]) -> list[str]:
    a = step.args
    if step.op == "connect":
        host, port = literal(str(a.get("host", "127.0.0.1"))), int(a.get("port", 25))
        security = str(a.get("security", "none"))
        lines: list[str] = []
        if security != "none":
            imports.append("import ssl")
            lines += tls_context_lines(a.get("ca_file"), a.get("verify", True))
        if security == "tls":
            lines.append(f"smtp = SMTP_SSL({host}, {port}, context=context, timeout=30)")
        else:
            lines.append(f"smtp = SMTP({host}, {port}, timeout=30)")
        return lines + ["smtp.set_debuglevel(1)  # show the dialogue, as the document does"]
    if step.op == "ehlo":
        name = a.get("name")
        return [f"print(smtp.ehlo({literal(str(name))}))" if name else "print(smtp.ehlo())"]
    if step.op == "starttls":
        return ["print(smtp.starttls(context=context))",
                "smtp.ehlo()  # capabilities change once inside TLS"]
    if step.op == "login":
        imports += ["import getpass", "import os"]
        return _login_lines(a)
    if step.op == "verify":
        return [f"code, text = smtp.verify({literal(str(a['address']))})",
                "print('VRFY:', code, text.decode(errors='replace'))"]
    if step.op == "command" and str(a.get("verb", "")).upper() in _VERBS:
        verb, argument = str(a["verb"]).upper(), str(a.get("argument", ""))
        return [f"code, text = smtp.docmd({literal(verb)}, {literal(argument)})",
                f"print({literal(verb)}, code, text.decode(errors='replace'))"]
    if step.op in ("noop", "rset"):
        return [f"print(smtp.{step.op}())"]
    if step.op == "send":
        return [f"message = {bytes_literal(bytes(a['message']))}",
                "refused = smtp.sendmail(",
                f"    {literal(str(a['sender']))},",
                f"    {literal([str(r) for r in a['recipients']])},",
                "    message,",
                ")",
                "print('refused recipients:', refused or 'none')"]
    if step.op == "quit":
        return ["smtp.quit()"]
    if step.op == "close":
        return ["smtp.close()  # the session's connection ended without QUIT"]
    return [comment(f"step {step.op!r} has no replay in this script: left out")]


# smtplib spells verbs and their keywords differently by Python version ("mail FROM:" on
# 3.11, "mail from:" on 3.13); the session sends them as RFC 5321 does, so the script must
# too, or a replay would not put the session's bytes on the wire.
_RFC_SPELLING = '''

class RfcSpelling:
    """Verbs as RFC 5321 spells them, as the Wirebench session sent them."""

    VERBS = {"ehlo", "helo", "mail", "rcpt", "data", "rset", "noop", "quit", "vrfy",
             "expn", "help", "starttls", "auth"}

    def putcmd(self, cmd, args=""):
        if cmd.lower() in ("mail", "rcpt"):
            keyword, colon, rest = args.partition(":")
            args = keyword.upper() + colon + rest
        if cmd.lower() in self.VERBS:  # an AUTH continuation (base64) keeps its case
            cmd = cmd.upper()
        super().putcmd(cmd, args)


class SMTP(RfcSpelling, smtplib.SMTP):
    pass


class SMTP_SSL(RfcSpelling, smtplib.SMTP_SSL):
    pass
'''


def render(recording: Recording) -> str:
    steps = recording.steps()
    imports = ["import smtplib"]
    body: list[str] = []
    for step in steps:
        body += _step_lines(step, imports)
    if not body:
        body.append("# Nothing recorded yet: connect and send in the tab.")
    elif steps[-1].op not in ("quit", "close"):
        body.append("smtp.quit()  # the session was still open; the script says goodbye")
    return (header("SMTP session.", imports) + _RFC_SPELLING + "\n\n" + "\n".join(body)
            + "\n")
