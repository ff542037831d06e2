"""core/codegen/__init__.py: ``render()`` for every tab, on random recordings.

Hypothesis builds recordings of every kind with hostile values (quotes, backslashes,
line breaks, NULs, lone surrogates, enums); every script must compile, and every
recorded value the script replays must come back unchanged as a literal in it.
"""

from __future__ import annotations

import ast
import socket
import sys
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.codegen import RENDERERS, render
from core.codegen.pyliteral import STDLIB_ONLY
from core.recording import Recording

text = st.text(max_size=30)
line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
               max_size=30)
data = st.binary(max_size=80)
port = st.integers(0, 65535)
seconds = st.floats(0.1, 60, allow_nan=False)


def steps_of(*ops: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.one_of(*ops), max_size=8)


def op(op_name: str, /, **args: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries(args).map(lambda a: (op_name, a))


SOCKET = st.tuples(
    st.one_of(op("connect", family=st.sampled_from(["tcp", "udp", "unix", "unix-dgram"]),
                 host=text, port=port, path=text, ipv=st.sampled_from(["auto", "4", "6"]),
                 tls=st.booleans(), verify=st.booleans(), ca_file=st.none() | text,
                 server_hostname=st.none() | text, timeout=seconds),
              op("listen", family=st.sampled_from(["tcp", "unix"]), host=text, port=port,
                 path=text, tls=st.booleans())),
    steps_of(op("send", data=data, to=st.none() | st.tuples(text, port)),
             op("option", level=st.just("SOL_SOCKET"), name=st.just("SO_KEEPALIVE"),
                value=st.integers(0, 1)),
             op("send_file", path=text), op("drop", peer=text),
             op("repeat", payload=data, count=st.integers(1, 5),
                interval_ms=st.integers(0, 100), macros=st.booleans()),
             op("auto_replies", count=st.integers(1, 3)),
             op("shutdown", how=st.sampled_from(["SHUT_RD", "SHUT_WR", "SHUT_RDWR"])),
             op("bogus", x=text)))
TELNET = st.tuples(
    op("connect", host=text, port=port, raw=st.booleans(), tls=st.booleans(),
       verify=st.booleans(), ca_file=st.none() | text, term=text, cols=st.integers(2, 999),
       rows=st.integers(2, 499), encoding=st.sampled_from(["utf-8", "latin-1"]),
       active=st.booleans(), local_options=st.lists(st.integers(0, 255)),
       remote_options=st.lists(st.integers(0, 255)),
       environ=st.dictionaries(text, text, max_size=3)),
    steps_of(op("send", text=st.none() | text, wire=st.lists(data, min_size=1, max_size=3),
                secret=st.booleans(), secret_name=text, prompt=text),
             op("expect", pattern=text, regex=st.just(False), timeout=seconds),
             op("special", name=text, wire=data),
             op("resize", cols=st.integers(2, 999), rows=st.integers(2, 499)),
             op("close", by_peer=st.booleans())))
FTP = st.tuples(
    op("connect", host=text, port=port, user=text, anonymous=st.booleans(),
       tls=st.sampled_from(["none", "explicit", "implicit"]),
       asked_tls=st.sampled_from(["none", "explicit", "implicit"]), verify=st.booleans(),
       ca_file=st.none() | text, passive=st.booleans()),
    steps_of(*(op(name, path=text) for name in ("cwd", "mkd", "rmd", "delete",
                                                  "remove_tree", "size", "view")),
             op("list", path=text, mlsd=st.booleans()), op("rename", src=text, dst=text),
             op("download", remote=text, local=text), op("upload", local=text, remote=text),
             op("quit")))
SMTP = st.tuples(
    op("connect", host=text, port=port, security=st.sampled_from(["none", "starttls", "tls"]),
       verify=st.booleans(), ca_file=st.none() | text),
    steps_of(op("ehlo", name=st.none() | text), op("starttls"),
             op("login", user=text, mechanism=st.sampled_from(["auto", "PLAIN", "CRAM-MD5"])),
             op("verify", address=text),
             op("command", verb=st.sampled_from(["VRFY", "EXPN", "NOOP", "RSET", "HELP"]),
                argument=line),
             op("send", sender=text, recipients=st.lists(text, max_size=3), message=data),
             op("quit"), op("close")))
QUERY_OPTIONS = dict(server=text, port=port,
                     transport=st.sampled_from(["udp", "tcp", "tls", "https"]),
                     timeout=seconds, recurse=st.booleans(), edns=st.booleans(),
                     dnssec=st.booleans(), cd=st.booleans(), verify=st.booleans(),
                     ca_file=st.none() | text, doh_path=text)
DNS = st.tuples(
    st.just(("resolver", {"function": "getaddrinfo",
                          "args": [None, 80, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, 0]})),
    steps_of(op("resolver", function=st.sampled_from(["gethostbyname", "getservbyname",
                                                      "getprotobynumber", "inet_ntoa"]),
                args=st.lists(text | data | port, max_size=2)),
             op("query", name=text, rdtype=text, **QUERY_OPTIONS),
             op("reverse", address=text, **QUERY_OPTIONS),
             op("trace", name=text, rdtype=text, roots=st.lists(st.lists(text, min_size=2,
                                                                          max_size=2)),
                port=port, timeout=seconds),
             op("batch", names=st.lists(text), rdtype=text, server=text, port=port,
                mode=st.sampled_from(["dns", "system"]), timeout=seconds,
                tries=st.integers(1, 3))))
ECHO = st.tuples(op("server", proto=st.sampled_from(["tcp", "udp", "unix"]),
                    mode=st.sampled_from(["threaded", "select", "fork"]),
                    fork_style=st.sampled_from(["simple", "double"]), host=text, port=port,
                    path=text), st.just([]))
KINDS = {"socket": SOCKET, "telnet": TELNET, "ftp": FTP, "smtp": SMTP, "dns": DNS,
         "echo-server": ECHO}
#: per kind and op: the fields whose values a script carries as literals
REPLAYED = {("socket", "send"): ["data"],
            ("ftp", "mkd"): ["path"], ("ftp", "rename"): ["src", "dst"],
            ("smtp", "send"): ["message", "sender"], ("smtp", "verify"): ["address"],
            ("dns", "query"): ["name"], ("dns", "batch"): ["names"],
            ("telnet", "expect"): ["pattern"]}


def constants(script: str) -> list[Any]:
    tree = ast.parse(script)
    found = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)]
    found += [ast.literal_eval(node) for node in ast.walk(tree)
              if isinstance(node, ast.List) and all(isinstance(e, ast.Constant)
                                                   for e in node.elts)]
    return found


def test_every_kind_has_a_strategy() -> None:
    assert set(KINDS) == set(RENDERERS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(KINDS)).flatmap(
    lambda kind: st.tuples(st.just(kind), KINDS[kind])))
def test_random_recordings_compile_and_keep_their_values(case) -> None:
    kind, (first, rest) = case
    recording = Recording(kind)
    recording.begin(first[0], **first[1])
    for name, args in rest:
        recording.add(name, **args)
    script = render(recording)
    compile(script, f"{kind}.py", "exec")
    script.encode("utf-8")  # the file can be saved
    found = constants(script)
    for step in recording.steps():
        for field in REPLAYED.get((kind, step.op), []):
            value = step.args[field]
            if kind == "smtp" and field == "message":
                value = bytes(value)
            assert value in found, (step.op, field, value)
    needs = next(line for line in script.splitlines() if line.startswith("Needs: "))
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(script))
                if isinstance(node, ast.Import) for alias in node.names}
    third_party = imported - sys.stdlib_module_names
    # the header names exactly what the script needs beyond the standard library
    assert all(name.replace("dns", "dnspython") in needs for name in third_party), needs
    assert (STDLIB_ONLY in needs) == (not third_party), needs
    for step in recording.steps():  # a secret typed in telnet never reaches the script
        if kind == "telnet" and step.op == "send" and step.args["secret"]:
            assert "getpass" in script
