"""A sans-I/O telnet client protocol: RFC 854/855 commands, RFC 1143 Q-method options.

No sockets here (the h11 shape): feed received bytes to :meth:`TelnetProtocol.receive`,
which returns the plain data and the negotiation events it found, and send whatever
:meth:`TelnetProtocol.data_to_send` returns. Every command sent or received becomes a
:class:`Negotiation` event named as a person would say it: ``recv DO NAWS``,
``sent SB NAWS 80 24``.

Why not telnetlib3 for the client: its client is an asyncio stream pair that answers
options inside its own writer; it does not report each command it sends or receives by
name, and its subnegotiation buffer has no cap a test can reach. This parser keeps every
split point (``IAC`` alone at the end of a read, half of an ``IAC IAC``, a half-received
``SB``) in its state, so data can arrive one byte at a time.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.events import Event

# -- RFC 854 commands -----------------------------------------------------------------
IAC, DONT, DO, WONT, WILL, SB = 255, 254, 253, 252, 251, 250
GA, EL, EC, AYT, AO, IP, BRK, DM, NOP, SE = 249, 248, 247, 246, 245, 244, 243, 242, 241, 240

COMMAND_NAMES = {
    DONT: "DONT", DO: "DO", WONT: "WONT", WILL: "WILL", SB: "SB", GA: "GA", EL: "EL",
    EC: "EC", AYT: "AYT", AO: "AO", IP: "IP", BRK: "BRK", DM: "DM", NOP: "NOP", SE: "SE",
}
#: the special commands a user can send from the menu (Break is BRK on the wire)
SPECIAL_COMMANDS = {"AYT": AYT, "Break": BRK, "IP": IP, "AO": AO, "EC": EC, "EL": EL,
                    "NOP": NOP, "GA": GA}

# -- options --------------------------------------------------------------------------
BINARY, ECHO, SGA, STATUS, TM = 0, 1, 3, 5, 6
TTYPE, NAWS, TSPEED, LFLOW, LINEMODE = 24, 31, 32, 33, 34
XDISPLOC, ENVIRON, NEW_ENVIRON, CHARSET = 35, 36, 39, 42

OPTION_NAMES = {
    BINARY: "BINARY", ECHO: "ECHO", 2: "RCP", SGA: "SGA", 4: "NAMS", STATUS: "STATUS",
    TM: "TM", 7: "RCTE", 8: "NAOL", 9: "NAOP", 17: "EXTEND-ASCII", 18: "LOGOUT",
    19: "BM", 20: "DET", 21: "SUPDUP", 22: "SUPDUP-OUTPUT", 23: "SNDLOC", TTYPE: "TTYPE",
    25: "EOR", 26: "TUID", 27: "OUTMRK", 28: "TTYLOC", 29: "3270-REGIME", 30: "X.3-PAD",
    NAWS: "NAWS", TSPEED: "TSPEED", LFLOW: "LFLOW", LINEMODE: "LINEMODE",
    XDISPLOC: "XDISPLOC", ENVIRON: "ENVIRON", 37: "AUTHENTICATION", 38: "ENCRYPT",
    NEW_ENVIRON: "NEW-ENVIRON", 40: "TN3270E", 41: "XAUTH", CHARSET: "CHARSET",
    44: "COM-PORT", 46: "START-TLS", 69: "MSDP", 70: "MSSP", 85: "MCCP1", 86: "MCCP2",
    87: "MCCP3", 91: "MXP", 200: "ATCP", 201: "GMCP", 255: "EXOPL",
}

# subnegotiation verbs (RFC 1091 TTYPE, RFC 1572 NEW-ENVIRON)
SB_IS, SB_SEND, SB_INFO = 0, 1, 2
ENV_VAR, ENV_VALUE, ENV_ESC, ENV_USERVAR = 0, 1, 2, 3

#: longest subnegotiation kept; the rest of an over-long one is dropped, not buffered
MAX_SUBNEGOTIATION = 4096


def option_name(option: int) -> str:
    return OPTION_NAMES.get(option, str(option))


def escape_iac(data: bytes) -> bytes:
    """Double every IAC so data bytes are never read as commands."""
    return data.replace(b"\xff", b"\xff\xff")


@dataclass(frozen=True, slots=True, kw_only=True)
class Negotiation(Event):
    """One telnet command on the wire. ``text`` reads ``"recv DO NAWS"``."""

    direction: str  # "recv" | "sent"
    command: str  # "DO", "SB", "AYT", ...
    option: str = ""  # "NAWS" (empty for plain commands)
    detail: str = ""  # subnegotiation payload in words: "80 24", "IS xterm-256color"
    note: str = ""  # a warning: "truncated", "protocol error"

    @property
    def text(self) -> str:
        words = [self.direction, self.command]
        if self.option:
            words.append(self.option)
        if self.detail:
            words.append(self.detail)
        line = " ".join(words)
        return f"{line} ({self.note})" if self.note else line


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionsChanged(Event):
    """The set of enabled options changed (e.g. the server now echoes)."""

    local: frozenset[str] = frozenset()  # options we perform (WILL agreed)
    remote: frozenset[str] = frozenset()  # options the server performs (DO agreed)


class Q(enum.Enum):
    """RFC 1143 option states."""

    NO = "no"
    YES = "yes"
    WANTNO = "wantno"
    WANTYES = "wantyes"


@dataclass
class Side:
    """One direction of one option: ours (WILL/WONT) or the server's (DO/DONT)."""

    state: Q = Q.NO
    queue: bool = False  # RFC 1143's "OPPOSITE" queue bit


@dataclass
class OptionState:
    us: Side = field(default_factory=Side)
    him: Side = field(default_factory=Side)


class _Parse(enum.Enum):
    DATA = 0
    IAC = 1
    OPTION = 2
    SB = 3
    SB_IAC = 4


@dataclass
class TelnetConfig:
    terminal_type: str = "xterm-256color"
    columns: int = 80
    rows: int = 24
    environ: dict[str, str] = field(default_factory=dict)
    #: options we agree to perform (we WILL)
    local_options: frozenset[int] = frozenset({BINARY, SGA, TTYPE, NAWS, NEW_ENVIRON})
    #: options we agree the server performs (we DO)
    remote_options: frozenset[int] = frozenset({BINARY, ECHO, SGA})
    #: active start: offer and ask first; passive: only answer
    active: bool = True


class TelnetProtocol:
    """The client side of a telnet connection, without I/O."""

    def __init__(self, config: TelnetConfig | None = None, source: str = "") -> None:
        self.config = config or TelnetConfig()
        self.source = source
        self.options: dict[int, OptionState] = {}
        self._out = bytearray()
        self._state = _Parse.DATA
        self._command = 0
        self._sb = bytearray()
        self._sb_overflow = False
        self._cr = False  # last data byte was CR (CR NUL means CR, RFC 854)
        self._events: list[Event] = []

    # -- state --------------------------------------------------------------------------
    def _opt(self, option: int) -> OptionState:
        state = self.options.get(option)
        if state is None:
            state = self.options[option] = OptionState()
        return state

    def local_enabled(self, option: int) -> bool:
        return self._opt(option).us.state is Q.YES

    def remote_enabled(self, option: int) -> bool:
        return self._opt(option).him.state is Q.YES

    @property
    def binary(self) -> bool:
        return self.remote_enabled(BINARY)

    def enabled_names(self) -> tuple[frozenset[str], frozenset[str]]:
        local = frozenset(option_name(o) for o, s in self.options.items()
                          if s.us.state is Q.YES)
        remote = frozenset(option_name(o) for o, s in self.options.items()
                           if s.him.state is Q.YES)
        return local, remote

    # -- output ---------------------------------------------------------------------------
    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def events(self) -> list[Event]:
        """Events produced by calls other than :meth:`receive` (start, resize, command)."""
        out, self._events = self._events, []
        return out

    def _note(self, direction: str, command: int, option: int | None = None,
              detail: str = "", note: str = "") -> None:
        self._events.append(Negotiation(
            source=self.source, direction=direction,
            command=COMMAND_NAMES.get(command, str(command)),
            option=option_name(option) if option is not None else "", detail=detail,
            note=note))

    def _send_option(self, command: int, option: int) -> None:
        self._out += bytes((IAC, command, option))
        self._note("sent", command, option)

    def _send_sb(self, option: int, payload: bytes, detail: str) -> None:
        self._out += bytes((IAC, SB, option)) + escape_iac(payload) + bytes((IAC, SE))
        self._note("sent", SB, option, detail)

    def send_data(self, data: bytes) -> bytes:
        """Data bytes ready for the wire (IAC doubled). Not queued: the caller sends it."""
        return escape_iac(data)

    def command(self, name: str) -> None:
        """Queue a special command (AYT, Break, IP, AO, EC, EL, NOP, GA)."""
        code = SPECIAL_COMMANDS[name]
        self._out += bytes((IAC, code))
        self._note("sent", code)

    # -- starting and user requests -------------------------------------------------------
    def start(self) -> None:
        """Active start: offer what we do and ask for what we want (passive: nothing)."""
        if not self.config.active:
            return
        for option in (TTYPE, NAWS, BINARY):
            if option in self.config.local_options:
                self.request_local(option, True)
        for option in (SGA, BINARY):
            if option in self.config.remote_options:
                self.request_remote(option, True)
        self._changed()

    def request_local(self, option: int, enable: bool) -> None:
        """Ask to enable/disable an option on our side (RFC 1143 section 7)."""
        self._request(self._opt(option).us, option, enable, WILL, WONT)

    def request_remote(self, option: int, enable: bool) -> None:
        """Ask the server to enable/disable an option on its side."""
        self._request(self._opt(option).him, option, enable, DO, DONT)

    def _request(self, side: Side, option: int, enable: bool, yes: int, no: int) -> None:
        if enable:
            if side.state is Q.NO:
                side.state = Q.WANTYES
                self._send_option(yes, option)
            elif side.state is Q.WANTNO:
                side.queue = True
            elif side.state is Q.WANTYES:
                side.queue = False
        else:
            if side.state is Q.YES:
                side.state = Q.WANTNO
                self._send_option(no, option)
            elif side.state is Q.WANTYES:
                side.queue = True
            elif side.state is Q.WANTNO:
                side.queue = False

    def resize(self, columns: int, rows: int) -> None:
        """New window size; sent at once when NAWS is on (RFC 1073: on every change)."""
        self.config.columns, self.config.rows = columns, rows
        if self.local_enabled(NAWS):
            self._send_naws()

    def _send_naws(self) -> None:
        cols = max(0, min(65535, self.config.columns))
        rows = max(0, min(65535, self.config.rows))
        payload = cols.to_bytes(2, "big") + rows.to_bytes(2, "big")
        self._send_sb(NAWS, payload, f"{cols} {rows}")

    # -- input ----------------------------------------------------------------------------
    def receive(self, data: bytes) -> tuple[bytes, list[Event]]:
        """Consume received bytes; return (plain data, events). Replies go to the out queue."""
        out = bytearray()
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state is _Parse.DATA:
                j = data.find(b"\xff", i)
                end = n if j < 0 else j
                if end > i:
                    self._data(data, i, end, out)
                if j < 0:
                    break
                self._state = _Parse.IAC
                i = j + 1
                continue
            byte = data[i]
            i += 1
            if state is _Parse.IAC:
                if byte == IAC:
                    out.append(IAC)  # IAC IAC is a data 255
                    self._cr = False
                    self._state = _Parse.DATA
                elif byte in (DO, DONT, WILL, WONT):
                    self._command = byte
                    self._state = _Parse.OPTION
                elif byte == SB:
                    self._sb.clear()
                    self._sb_overflow = False
                    self._state = _Parse.SB
                else:
                    self._note("recv", byte)
                    self._state = _Parse.DATA
            elif state is _Parse.OPTION:
                self._state = _Parse.DATA
                self._on_option(self._command, byte)
            elif state is _Parse.SB:
                if byte == IAC:
                    self._state = _Parse.SB_IAC
                else:
                    # scan ahead to the next IAC in one slice instead of byte by byte
                    j = data.find(b"\xff", i)
                    end = n if j < 0 else j
                    self._sb_add(data[i - 1:end])
                    i = end
            elif state is _Parse.SB_IAC:
                if byte == SE:
                    self._state = _Parse.DATA
                    self._on_subnegotiation()
                elif byte == IAC:
                    self._sb_add(b"\xff")
                    self._state = _Parse.SB
                else:
                    # RFC 855 violation: IAC <cmd> inside SB. End the SB and read the command.
                    self._note("recv", SB, self._sb[0] if self._sb else None,
                               note="not ended by IAC SE")
                    self._sb.clear()
                    self._state = _Parse.IAC
                    i -= 1
        events, self._events = self._events, []
        return bytes(out), events

    def _data(self, data: bytes, start: int, end: int, out: bytearray) -> None:
        chunk = data[start:end]
        if self.binary:
            out += chunk
            return
        # CR NUL stands for a bare CR (RFC 854); the NUL may come in the next read, so
        # whether a CR waits for its NUL is read from the bytes as received
        waiting = chunk[-1:] == b"\r"
        if self._cr and chunk[:1] == b"\x00":
            chunk = chunk[1:]
        if b"\r\x00" in chunk:
            chunk = chunk.replace(b"\r\x00", b"\r")
        out += chunk
        self._cr = waiting

    def _sb_add(self, part: bytes) -> None:
        room = MAX_SUBNEGOTIATION - len(self._sb)
        if len(part) > room:
            self._sb += part[:max(0, room)]
            self._sb_overflow = True
        else:
            self._sb += part

    def _on_option(self, command: int, option: int) -> None:
        self._note("recv", command, option)
        s = self._opt(option)
        if command == WILL:
            self._recv_yes(s.him, option, option in self.config.remote_options, DO, DONT)
        elif command == WONT:
            self._recv_no(s.him, option, DO, DONT)
        elif command == DO:
            if self._recv_yes(s.us, option, option in self.config.local_options, WILL, WONT):
                self._enabled_local(option)
        elif command == DONT:
            self._recv_no(s.us, option, WILL, WONT)
        self._changed()

    def _recv_yes(self, side: Side, option: int, supported: bool, yes: int, no: int) -> bool:
        """WILL (server side) or DO (our side) arrived; True when the option turned on."""
        if side.state is Q.NO:
            if supported:
                side.state = Q.YES
                self._send_option(yes, option)
                return True
            self._send_option(no, option)
        elif side.state is Q.WANTNO:
            if side.queue:
                side.state, side.queue = Q.YES, False
                return True
            side.state = Q.NO  # our "no" answered by "yes": a protocol error, stay off
        elif side.state is Q.WANTYES:
            if side.queue:
                side.state, side.queue = Q.WANTNO, False
                self._send_option(no, option)
            else:
                side.state = Q.YES
                return True
        return False

    def _recv_no(self, side: Side, option: int, yes: int, no: int) -> None:
        """WONT (server side) or DONT (our side) arrived. In state NO it is ignored:
        that is what ends the WONT/DONT ping-pong of a naive peer."""
        if side.state is Q.YES:
            side.state = Q.NO
            self._send_option(no, option)
        elif side.state is Q.WANTNO:
            if side.queue:
                side.state, side.queue = Q.WANTYES, False
                self._send_option(yes, option)
            else:
                side.state = Q.NO
        elif side.state is Q.WANTYES:
            side.state, side.queue = Q.NO, False

    def _enabled_local(self, option: int) -> None:
        if option == NAWS:
            self._send_naws()

    def _changed(self) -> None:
        local, remote = self.enabled_names()
        self._events.append(OptionsChanged(source=self.source, local=local, remote=remote))

    def _on_subnegotiation(self) -> None:
        payload = bytes(self._sb)
        truncated = self._sb_overflow
        self._sb.clear()
        self._sb_overflow = False
        if not payload:
            self._note("recv", SB, note="empty")
            return
        option, body = payload[0], payload[1:]
        note = f"truncated at {MAX_SUBNEGOTIATION} bytes" if truncated else ""
        self._note("recv", SB, option, describe_sb(option, body), note)
        if truncated or not self.local_enabled(option):
            return
        if option == TTYPE and body[:1] == bytes((SB_SEND,)):
            # RFC 1091: repeating the last name ends the server's cycle through our list
            name = self.config.terminal_type
            self._send_sb(TTYPE, bytes((SB_IS,)) + name.encode("ascii", "replace"), f"IS {name}")
        elif option == NEW_ENVIRON and body[:1] == bytes((SB_SEND,)):
            self._send_environ(body[1:])

    def _send_environ(self, request: bytes) -> None:
        wanted = _environ_names(request)
        env = self.config.environ
        names = [k for k in env if not wanted or k in wanted]
        payload = bytearray((SB_IS,))
        words = ["IS"]
        for name in names:
            payload += bytes((ENV_VAR,)) + _env_escape(name.encode()) + bytes((ENV_VALUE,))
            payload += _env_escape(env[name].encode())
            words.append(f"VAR {name}={env[name]}")
        self._send_sb(NEW_ENVIRON, bytes(payload), " ".join(words))


def _env_escape(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in (ENV_VAR, ENV_VALUE, ENV_ESC, ENV_USERVAR):
            out.append(ENV_ESC)
        out.append(b)
    return bytes(out)


def _environ_names(request: bytes) -> set[str]:
    names: set[str] = set()
    current: bytearray | None = None
    escaped = False
    for b in request:
        if escaped:
            if current is not None:
                current.append(b)
            escaped = False
        elif b == ENV_ESC:
            escaped = True
        elif b in (ENV_VAR, ENV_USERVAR):
            if current:
                names.add(current.decode("latin-1"))
            current = bytearray()
        elif current is not None:
            current.append(b)
    if current:
        names.add(current.decode("latin-1"))
    return names


def describe_sb(option: int, body: bytes) -> str:
    """A subnegotiation payload in words, for the inspector."""
    if option == NAWS and len(body) == 4:
        return f"{int.from_bytes(body[:2], 'big')} {int.from_bytes(body[2:], 'big')}"
    if option in (TTYPE, TSPEED, XDISPLOC, NEW_ENVIRON, ENVIRON, CHARSET) and body:
        verb = {SB_IS: "IS", SB_SEND: "SEND", SB_INFO: "INFO"}.get(body[0], str(body[0]))
        rest = body[1:]
        if option in (NEW_ENVIRON, ENVIRON):
            text = rest.replace(bytes((ENV_VAR,)), b" VAR ").replace(
                bytes((ENV_USERVAR,)), b" USERVAR ").replace(bytes((ENV_VALUE,)), b"=")
            return (verb + text.decode("latin-1", "replace")).strip()
        text = rest.decode("ascii", "replace")
        return f"{verb} {text}".strip()
    return " ".join(f"{b:02x}" for b in body[:32]) + (" ..." if len(body) > 32 else "")


def negotiation_texts(events: Iterable[Event]) -> list[str]:
    """The ``text`` of every :class:`Negotiation` among ``events`` (for logs and tests)."""
    return [e.text for e in events if isinstance(e, Negotiation)]
