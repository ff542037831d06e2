"""A minimal telnet client for the hostile tests: refuses every option, reads text."""

from __future__ import annotations

import socket
import time

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240


def split_telnet(data: bytes) -> tuple[bytes, bytes]:
    """(answers refusing every DO/WILL in ``data``, the text without commands)."""
    answers, text = bytearray(), bytearray()
    i = 0
    while i < len(data):
        if data[i] == IAC and i + 1 < len(data):
            cmd = data[i + 1]
            if cmd in (DO, DONT, WILL, WONT) and i + 2 < len(data):
                if cmd == DO:
                    answers += bytes([IAC, WONT, data[i + 2]])
                elif cmd == WILL:
                    answers += bytes([IAC, DONT, data[i + 2]])
                i += 3
                continue
            i += 2
            continue
        text.append(data[i])
        i += 1
    return bytes(answers), bytes(text)


def read_text_until(sock: socket.socket, marker: bytes, timeout: float) -> bytes:
    """Text (commands stripped, refused) until ``marker``, within ``timeout`` overall."""
    deadline = time.monotonic() + timeout
    text = b""
    while marker not in text:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except (TimeoutError, OSError):
            break
        if not data:
            break
        answers, chunk = split_telnet(data)
        text += chunk
        if answers:
            sock.sendall(answers)
    return text


def login_prompt_time(host: str, port: int, timeout: float = 10.0) -> float:
    """Seconds from connect to the ``login:`` prompt of a normal client (inf if never)."""
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        text = read_text_until(sock, b"login:", timeout)
    return time.monotonic() - start if b"login:" in text else float("inf")


def log_in(host: str, port: int, timeout: float = 10.0) -> bytes:
    """Log in as the lab user, run ``echo still-served``, return the text seen."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        text = read_text_until(sock, b"login:", timeout)
        sock.sendall(b"lab\r\n")
        text += read_text_until(sock, b"Password:", timeout)
        sock.sendall(b"wirebench\r\n")
        text += read_text_until(sock, b"$ ", timeout)
        sock.sendall(b"echo still-served\r\n")
        text += read_text_until(sock, b"still-served\r\n", timeout)
        return text
