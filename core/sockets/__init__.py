"""Socket sessions: TCP/UDP/UNIX, client, listener or datagram, TLS, options, automation.

``SocketSession`` (session.py: API and command queue) is the public entry; its I/O
thread's work is in mixins: loop.py (selector loop, stream I/O), connect.py (connect,
listen, accept), datagram.py and repeat.py. The other modules hold what it uses:
addressing (host/port/path to addresses), options (setsockopt/getsockopt), automation
(repeat macros, auto-replies) and events (what only sessions post).
"""

from core.sockets.addressing import BROADCAST, FAMILIES, TRANSPORTS, format_address
from core.sockets.automation import MACROS, AutoReply, RepeatPlan, expand_macros
from core.sockets.events import LocalAddress, PeerClosed, TlsEstablished
from core.sockets.options import OPTIONS, options_for
from core.sockets.session import SocketConfig, SocketSession

__all__ = [
    "BROADCAST", "FAMILIES", "MACROS", "OPTIONS", "TRANSPORTS", "AutoReply", "LocalAddress",
    "PeerClosed", "RepeatPlan", "SocketConfig", "SocketSession", "TlsEstablished",
    "expand_macros", "format_address", "options_for",
]
