"""Lookup sessions as a script: the socket module's resolver functions and dnspython.

Steps (``Recording("dns")``; Lookup has no connection, so it records every action):

* ``resolver``  function (a socket module function name), args (plain values; socket
  constants such as ``AF_INET`` are written by name)
* ``query``     name, rdtype, server, port, transport ("udp", "tcp", "tls" = DoT,
  "https" = DoH), timeout, recurse, edns, dnssec, cd, verify, ca_file, doh_path
* ``reverse``   address and the same options as ``query``
* ``trace``     name, rdtype, roots (list of [name, address]), port, timeout
* ``batch``     names, rdtype, server, port, mode ("dns" or "system"), timeout, tries
"""

from __future__ import annotations

import enum
import socket
from typing import Any

from core.codegen.pyliteral import comment, header, literal
from core.recording import Recording, Step

_SAFE_FUNCTIONS = {
    "gethostname", "getfqdn", "gethostbyname", "gethostbyname_ex", "gethostbyaddr",
    "getaddrinfo", "getservbyname", "getservbyport", "getprotobyname", "htons", "ntohs",
    "htonl", "ntohl", "inet_aton", "inet_ntoa", "inet_pton", "inet_ntop",
}
_DNS_MODULES = ["import dns.flags", "import dns.message", "import dns.query", "import dns.rcode",
                "import dns.rdatatype", "import dns.reversename"]

_QUERY_HELPER = '''

def ask(name, rdtype, server, port, transport="udp", timeout=5.0, recurse=True, edns=True,
        dnssec=False, cd=False, context=None, path="/dns-query"):
    """One query to one server over UDP (TCP again when truncated), TCP, DoT or DoH."""
    query = dns.message.make_query(name, rdtype, use_edns=0 if edns or dnssec else None,
                                   payload=1232, want_dnssec=dnssec)
    if not recurse:
        query.flags &= ~dns.flags.RD
    if cd:
        query.flags |= dns.flags.CD
    if transport == "tcp":
        response = dns.query.tcp(query, server, port=port, timeout=timeout)
    elif transport == "tls":
        response = dns.query.tls(query, server, port=port, timeout=timeout,
                                 ssl_context=context, server_hostname=server)
    elif transport == "https":
        response = dns.query.https(query, server, port=port, timeout=timeout, path=path,
                                   verify=context if context is not None else False)
    else:
        response, _used_tcp = dns.query.udp_with_fallback(query, server, port=port,
                                                          timeout=timeout)
    print(f";; {name} {rdtype} @{server}:{port} ({transport})"
          f"  rcode={dns.rcode.to_text(response.rcode())}")
    for rrset in response.answer:
        for line in sorted(rr.to_text() for rr in rrset):
            print(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {line}")
    return response
'''

_TRACE_HELPER = '''

def trace(name, rdtype, roots, port, timeout=2.0, depth=0):
    """Iterative resolution as dig +trace does: from the roots down the referrals."""
    servers = [address for _name, address in roots]
    qname = dns.name.from_text(name)
    while servers and depth < 30:
        depth += 1
        query = dns.message.make_query(qname, rdtype)
        query.flags &= ~dns.flags.RD
        for server in servers:
            try:
                response = dns.query.udp(query, server, port=port, timeout=timeout)
                break
            except (dns.exception.Timeout, OSError):
                print(f";; {server}: no answer")
        else:
            return None
        print(f";; asked {server}: rcode={dns.rcode.to_text(response.rcode())}")
        if response.answer or response.rcode() != dns.rcode.NOERROR:
            for rrset in response.answer:
                for line in sorted(rr.to_text() for rr in rrset):
                    print(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {line}")
            return response
        referral = [rr.target for rrset in response.authority
                    if rrset.rdtype == dns.rdatatype.NS for rr in rrset]
        glue = {rrset.name: rr.address for rrset in response.additional
                if rrset.rdtype == dns.rdatatype.A for rr in rrset}
        print(";; referral to", ", ".join(str(ns) for ns in referral) or "nobody")
        servers = [glue[ns] for ns in referral if ns in glue]
        if not servers and referral:  # no glue: find the name server's address first
            found = trace(str(referral[0]), "A", roots, port, timeout, depth)
            servers = [rr.address for rrset in (found.answer if found else [])
                       if rrset.rdtype == dns.rdatatype.A for rr in rrset]
    return None
'''

_BATCH_HELPER = '''

def batch(names, rdtype, server, port, mode="dns", timeout=2.0, tries=2):
    """Resolve every name, one line each, in the order given."""
    for name in names:
        if mode == "system":
            try:
                found = sorted({info[4][0] for info in socket.getaddrinfo(name, None)})
                print(f"{name} NOERROR {' '.join(found)}")
            except socket.gaierror as exc:
                print(f"{name} error {exc}")
            continue
        query = dns.message.make_query(name, rdtype)
        for _attempt in range(tries):
            try:
                response, _tcp = dns.query.udp_with_fallback(query, server, port=port,
                                                             timeout=timeout)
                break
            except dns.exception.Timeout:
                response = None
        if response is None:
            print(f"{name} timeout")
            continue
        answers = sorted(rr.to_text() for rrset in response.answer for rr in rrset
                         if rrset.rdtype == dns.rdatatype.from_text(rdtype))
        print(f"{name} {dns.rcode.to_text(response.rcode())} {' '.join(answers)}".rstrip())
'''


def _argument(value: Any) -> str:
    """A resolver argument: socket constants by name, everything else as a literal."""
    if isinstance(value, enum.Enum) and getattr(socket, value.name, None) == value:
        return f"socket.{value.name}"
    return literal(value)


def _context_lines(a: dict, imports: list[str]) -> tuple[list[str], str]:
    """For DoT/DoH: an SSL context that verifies as the session did."""
    if a.get("transport") not in ("tls", "https"):
        return [], "None"
    imports.append("import ssl")
    lines = ["context = ssl.create_default_context()  # verifies certificates"]
    if a.get("ca_file"):
        lines.append(f"context.load_verify_locations({literal(str(a['ca_file']))})")
    if not a.get("verify", True):
        if a.get("transport") == "https":
            return ["# verification was switched off in the session: test servers only"], "None"
        lines += ["# verification was switched off in the session: test servers only",
                  "context.check_hostname = False", "context.verify_mode = ssl.CERT_NONE"]
    return lines, "context"


def _query_lines(step: Step, imports: list[str]) -> list[str]:
    a = step.args
    lines, context = _context_lines(a, imports)
    server, port = literal(str(a.get("server", "127.0.0.1"))), int(a.get("port", 53))
    transport = str(a.get("transport") or ("tcp" if a.get("tcp") else "udp"))
    options = (f"transport={literal(transport)}, timeout={float(a.get('timeout', 5.0))}, "
               f"recurse={bool(a.get('recurse', True))}, edns={bool(a.get('edns', True))}, "
               f"dnssec={bool(a.get('dnssec', False))}, cd={bool(a.get('cd', False))}, "
               f"context={context}, path={literal(str(a.get('doh_path') or '/dns-query'))}")
    if step.op == "reverse":
        lines += [f"name = dns.reversename.from_address({literal(str(a['address']))})",
                  f"ask(name.to_text(), 'PTR', {server}, {port},", f"    {options})"]
    else:
        lines += [f"ask({literal(str(a['name']))}, {literal(str(a.get('rdtype', 'A')))}, "
                  f"{server}, {port},", f"    {options})"]
    return lines


def render(recording: Recording) -> str:
    steps = recording.steps()
    lines: list[str] = []
    imports = ["import socket"]
    helpers = ""
    uses = {s.op for s in steps}
    needs = "Python 3.11+ standard library only"
    if uses & {"query", "reverse", "trace", "batch"}:
        imports += _DNS_MODULES + ["import dns.exception", "import dns.name"]
        needs = "dnspython (pip install dnspython)"
        helpers += _QUERY_HELPER
    if any(s.op in ("query", "reverse") and s.args.get("transport") == "https" for s in steps):
        needs = "dnspython with DNS over HTTPS (pip install 'dnspython[doh]')"
    if "trace" in uses:
        helpers += _TRACE_HELPER
    if "batch" in uses:
        helpers += _BATCH_HELPER
    for step in steps:
        a = step.args
        if step.op == "resolver" and a.get("function") in _SAFE_FUNCTIONS:
            args = ", ".join(_argument(x) for x in a.get("args", []))
            lines.append(f"print({literal(a['function'])}, socket.{a['function']}({args}))")
        elif step.op in ("query", "reverse"):
            lines += _query_lines(step, imports)
        elif step.op == "trace":
            lines.append(f"trace({literal(str(a['name']))}, {literal(str(a['rdtype']))}, "
                         f"{literal([[str(n), str(ip)] for n, ip in a['roots']])}, "
                         f"{int(a['port'])}, timeout={float(a.get('timeout', 2.0))})")
        elif step.op == "batch":
            lines += [f"batch({literal([str(n) for n in a['names']])},",
                      f"      {literal(str(a.get('rdtype', 'A')))}, "
                      f"{literal(str(a.get('server', '127.0.0.1')))}, {int(a.get('port', 53))},"
                      f" mode={literal(str(a.get('mode', 'dns')))}, "
                      f"timeout={float(a.get('timeout', 2.0))}, tries={int(a.get('tries', 2))})"]
        else:
            why = ("it is not a socket module function" if step.op == "resolver"
                   else "this script has no replay for it")
            lines.append(comment(f"{step.op} {a.get('function', '')}: left out, {why}"))
    if not lines:
        lines.append("# Nothing recorded yet: run a lookup or a query in the tab.")
    out = header("Lookup session: resolver functions and DNS queries.", imports, needs)
    return out + helpers + "\n\n" + "\n".join(lines) + "\n"
