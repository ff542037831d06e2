"""Postfix as a peer: ``smtp-sink`` dumping each message to a file, and a private Postfix
instance (its own config folder, queue and log; ``postfix -c DIR start-fg``; no system
service) that offers STARTTLS, VRFY and a SIZE limit and delivers to a virtual mailbox.

A private instance needs the ``postfix`` account and ``postdrop`` group that the Debian
package creates; it runs as root (CI does) and lives in a /tmp folder that its daemons,
which drop to the ``postfix`` account, can enter.
"""

from __future__ import annotations

import contextlib
import grp
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures.processes import process_stats
from tests.fixtures.waiting import wait_for
from tests.interop.conftest import (
    LOOPBACK,
    STOP_DEADLINE,
    Daemon,
    DaemonStarter,
    peer_binary,
    tcp_greets,
)

MAILBOX = "box@example.test"
SIZE_LIMIT = 200_000  # message_size_limit of the private instance

# the daemons a private instance needs; chroot off (column 5 "n"): no copies of /etc
_MASTER_CF = """\
{address} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def _main_cf(root: Path) -> str:
    uid, gid = pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid
    return f"""\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = wirebench-postfix.test
mydestination =
inet_interfaces = {LOOPBACK}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = texthash:{root}/conf/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
message_size_limit = {SIZE_LIMIT}
disable_vrfy_command = no
smtpd_tls_cert_file = {root}/conf/cert.pem
smtpd_tls_key_file = {root}/conf/key.pem
smtpd_tls_security_level = may
smtpd_sasl_auth_enable = no
"""


@dataclass
class PrivatePostfix:
    daemon: Daemon
    root: Path
    ca_file: Path

    @property
    def port(self) -> int:
        return self.daemon.port

    def delivered(self) -> list[Path]:
        """Files delivered to the virtual mailbox (a Maildir: new/)."""
        return sorted((self.root / "mail" / "box" / "new").glob("*"))

    def log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""


def postfix_version() -> str:
    out = subprocess.run([peer_binary("postconf"), "-d", "mail_version"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.split("=", 1)[-1].strip()


@contextlib.contextmanager
def private_postfix(start_daemon: DaemonStarter) -> Iterator[PrivatePostfix]:
    """A private Postfix on a free port; stopped, and its folder removed, afterwards."""
    import trustme

    postfix = peer_binary("postfix")
    root = Path(tempfile.mkdtemp(prefix="wirebench-postfix-"))
    root.chmod(0o755)  # the daemons drop to the postfix account
    daemon: Daemon | None = None
    try:
        conf = root / "conf"
        for folder in ("conf", "queue", "data", "mail"):
            (root / folder).mkdir()
        for folder in ("data", "mail"):
            shutil.chown(root / folder, "postfix", "postfix")
        ca = trustme.CA()
        leaf = ca.issue_cert("localhost", "127.0.0.1")
        leaf.cert_chain_pems[0].write_to_path(conf / "cert.pem")
        leaf.private_key_pem.write_to_path(conf / "key.pem")
        ca.cert_pem.write_to_path(root / "ca.pem")
        (conf / "vmailbox").write_text(f"{MAILBOX} box/\n")
        (conf / "main.cf").write_text(_main_cf(root))

        def argv(port: int) -> list[str]:
            (conf / "master.cf").write_text(_MASTER_CF.format(address=f"{LOOPBACK}:{port}"))
            # check creates the queue's folders with their owners, then the master runs
            # in the foreground (Postfix >= 3.3) as our child
            subprocess.run([postfix, "-c", str(conf), "check"], check=True, timeout=60,
                           capture_output=True)
            return [postfix, "-c", str(conf), "start-fg"]

        daemon = start_daemon("postfix", argv, ready=tcp_greets)
        yield PrivatePostfix(daemon, root, root / "ca.pem")
    finally:
        if daemon is not None:
            _stop_master(root)
            daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def _stop_master(root: Path) -> None:
    """The master puts itself in a session of its own (setsid), out of our process
    group's reach: stop it by the pid it wrote, and wait (bounded) until it is gone."""
    import os
    import signal

    try:
        pid = int((root / "queue" / "pid" / "master.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)  # the master stops its children, then itself
        wait_for(lambda: not _alive(pid), STOP_DEADLINE, interval=0.05)
    except ProcessLookupError:
        pass
    except AssertionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_smtp_sink(start_daemon: DaemonStarter, dump_dir: Path, *flags: str) -> Daemon:
    """``smtp-sink`` dumping every transaction into ``dump_dir`` (one file each)."""
    sink = peer_binary("smtp-sink")
    dump_dir.mkdir(exist_ok=True)
    # -u is required as root; root keeps write access to pytest's 0700 temp folder
    return start_daemon("smtp-sink", lambda port: [
        sink, "-u", "root", "-d", f"{dump_dir}/%M.", *flags, f"{LOOPBACK}:{port}", "16"],
        ready=tcp_greets)


@dataclass
class SinkDump:
    """One smtp-sink dump: its X- envelope records and the message as received."""

    records: dict[str, list[str]]
    message: bytes  # LF line ends, smtp-sink's own Received: header removed


def read_sink_dump(path: Path) -> SinkDump:
    raw = path.read_bytes()
    records: dict[str, list[str]] = {}
    lines = raw.split(b"\n")
    index = 0
    while index < len(lines) and lines[index].startswith(b"X-"):
        name, _, value = lines[index].decode().partition(": ")
        records.setdefault(name, []).append(value)
        index += 1
    rest = b"\n".join(lines[index:])
    # smtp-sink prepends one Received: header (with folded lines) of its own
    rest = re.sub(rb"\AReceived: [^\n]*\n(?:[ \t][^\n]*\n)*", b"", rest)
    assert rest.endswith(b"\n\n"), "a dump ends with an empty line"
    return SinkDump(records, rest[:-1])


def wait_for_files(folder: Path, pattern: str = "*", timeout: float = 30.0) -> list[Path]:
    """The files in ``folder`` once at least one exists and was closed (size stable)."""
    last: dict[Path, int] = {}
    found: dict[Path, int] = {}

    def settled() -> bool:
        nonlocal last, found
        last, found = found, {p: p.stat().st_size for p in folder.glob(pattern) if p.is_file()}
        return bool(found) and found == last

    wait_for(settled, timeout, f"no file appeared in {folder} within {timeout:.0f} s",
             interval=0.1)
    return sorted(found)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    return process_stats().get(pid, ["Z"])[0] != "Z"
