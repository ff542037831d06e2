"""Lookup sessions as a script: the socket module's resolver functions and dnspython.

Steps (``Recording("dns")``):

* ``resolver``  function (a socket module function name), args (list)
* ``query``     name, rdtype, server, port, tcp, timeout
* ``reverse``   address, server, port, timeout
"""

from __future__ import annotations

from core.codegen.pyliteral import header
from core.recording import Recording

_SAFE_FUNCTIONS = {
    "gethostname", "getfqdn", "gethostbyname", "gethostbyname_ex", "gethostbyaddr",
    "getaddrinfo", "getservbyname", "getservbyport", "getprotobyname", "htons", "ntohs",
    "htonl", "ntohl", "inet_aton", "inet_ntoa", "inet_pton", "inet_ntop",
}

_QUERY_HELPER = '''

def ask(name, rdtype, server, port, tcp=False, timeout=5.0):
    """One query to one server; UDP first, and TCP again when the answer was truncated."""
    query = dns.message.make_query(name, rdtype)
    if tcp:
        response = dns.query.tcp(query, server, port=port, timeout=timeout)
    else:
        response, _used_tcp = dns.query.udp_with_fallback(query, server, port=port,
                                                          timeout=timeout)
    print(f";; {name} {rdtype} @{server}:{port}  rcode={dns.rcode.to_text(response.rcode())}")
    for rrset in response.answer:
        for line in sorted(rr.to_text() for rr in rrset):
            print(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {line}")
    return response
'''


def render(recording: Recording) -> str:
    steps = recording.steps()
    lines: list[str] = []
    imports = ["import socket"]
    uses_dns = any(s.op in ("query", "reverse") for s in steps)
    if uses_dns:
        imports += ["import dns.message", "import dns.query", "import dns.rcode",
                    "import dns.rdatatype", "import dns.reversename"]
    for step in steps:
        a = step.args
        if step.op == "resolver" and a.get("function") in _SAFE_FUNCTIONS:
            args = ", ".join(repr(x) for x in a.get("args", []))
            lines.append(f"print({a['function']!r}, socket.{a['function']}({args}))")
        elif step.op == "query":
            lines.append(
                f"ask({a['name']!r}, {a.get('rdtype', 'A')!r}, {a.get('server', '127.0.0.1')!r},"
                f" {int(a.get('port', 53))}, tcp={bool(a.get('tcp'))},"
                f" timeout={float(a.get('timeout', 5.0))})")
        elif step.op == "reverse":
            lines += [f"name = dns.reversename.from_address({a['address']!r})  # in-addr.arpa",
                      f"ask(name.to_text(), 'PTR', {a.get('server', '127.0.0.1')!r}, "
                      f"{int(a.get('port', 53))}, timeout={float(a.get('timeout', 5.0))})"]
    if not lines:
        lines.append("# Nothing recorded yet: run a lookup or a query in the tab.")
    out = header("Lookup session: resolver functions and DNS queries.", imports)
    if uses_dns:
        out += _QUERY_HELPER
    return out + "\n\n" + "\n".join(lines) + "\n"
