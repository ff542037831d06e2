"""dnsmasq as a third-party DNS server with a local zone, in a temp folder on a free port.

The zone ``interop.test`` is local (``local=/interop.test/``): a name dnsmasq has no
record for is NXDOMAIN, never forwarded. With ``--no-resolv`` and no upstream server, a
name outside the zone is REFUSED. ``big.interop.test`` holds a TXT set larger than 512
bytes, so a query without EDNS comes back truncated (TC) and must be retried over TCP.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import dns.message
import dns.query
import pytest

from tests.fixtures.daemon_peers import peer_program
from tests.fixtures.waiting import reached

START_DEADLINE = 15.0
STOP_DEADLINE = 5.0
START_ATTEMPTS = 3  # a free port can be taken between our probe and dnsmasq's bind
ZONE = "interop.test"
#: four 200-character strings in one TXT record: ~850 bytes, over the 512 of plain UDP
BIG_TXT = tuple(chr(ord("a") + i) * 200 for i in range(4))

CONFIG = f"""# dnsmasq as an interop peer: a local zone, nothing forwarded
no-resolv
no-hosts
local=/{ZONE}/
domain-needed
host-record=www.{ZONE},192.0.2.10,2001:db8::10
host-record=mail.{ZONE},192.0.2.25
host-record=mail2.{ZONE},192.0.2.26
host-record=sip.{ZONE},192.0.2.50
mx-host={ZONE},mail.{ZONE},10
mx-host={ZONE},mail2.{ZONE},20
txt-record={ZONE},"v=spf1 -all"
txt-record=big.{ZONE},{",".join(f'"{s}"' for s in BIG_TXT)}
srv-host=_sip._tcp.{ZONE},sip.{ZONE},5060,10,20
cname=alias.{ZONE},www.{ZONE}
cname=chain.{ZONE},alias.{ZONE}
ptr-record=10.2.0.192.in-addr.arpa,www.{ZONE}
"""


def _free_udp_and_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 a moment ago, as dnsmasq needs."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:  # taken for TCP: try another
                    continue
            return port
    pytest.fail("no port free for both UDP and TCP on 127.0.0.1")


class Dnsmasq:
    """``dnsmasq -d -k`` with :data:`CONFIG`, answering on 127.0.0.1 (UDP and TCP)."""

    def __init__(self, folder: Path) -> None:
        self.conf = folder / "dnsmasq.conf"
        self.conf.write_text(CONFIG)
        self.log = folder / "dnsmasq.log"
        program = peer_program("dnsmasq", "dnsmasq-base")
        for _attempt in range(START_ATTEMPTS):
            self.port = _free_udp_and_tcp_port()
            with self.log.open("wb") as log:
                self.process = subprocess.Popen(
                    [program, "-d", "-k", "--no-resolv", "--no-hosts", f"-p{self.port}",
                     "--listen-address=127.0.0.1", "--bind-interfaces",
                     f"--conf-file={self.conf}", "--user=" + _user(), "--pid-file="],
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            if self._wait_ready():
                return
            self.stop()
        pytest.fail(f"dnsmasq did not answer: {self.log.read_text(errors='replace')[-2000:]}")

    def _wait_ready(self) -> bool:
        """True once dnsmasq answers a query; False when it exited (or never answered)."""
        probe = dns.message.make_query(f"www.{ZONE}", "A")

        def answered_or_exited() -> bool:
            if self.process.poll() is not None:
                return True
            try:
                dns.query.udp(probe, "127.0.0.1", port=self.port, timeout=0.5)
                return True
            except (dns.exception.Timeout, OSError):
                return False

        return (reached(answered_or_exited, START_DEADLINE, None, 0)
                and self.process.poll() is None)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(STOP_DEADLINE)


def _user() -> str:
    """dnsmasq drops root privileges to 'nobody' unless told to stay the current user."""
    import getpass

    return getpass.getuser()
