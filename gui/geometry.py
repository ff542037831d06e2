"""The main window's size and place: fit the screen on first launch, restore exactly later.

Tk's ``winfo_geometry()`` gives the client area below the menu bar, so saving it and
restoring it as the frame position walked the window down by the menu's height at every
launch. ``wm_geometry()`` is what ``geometry()`` takes back, so that is what is kept.
"""

from __future__ import annotations

import re

#: the size the app asks for when the screen has room
PREFERRED = (1280, 800)
#: screen pixels kept free: the menu bar (above the client area), the title bar of the
#: window manager and a desktop panel; 768 - 100 leaves 668 for the client area
RESERVED_HEIGHT = 100
RESERVED_WIDTH = 40
#: a restored window keeps at least its menu bar's height free below it
MENU_ALLOWANCE = 40

_GEOMETRY = re.compile(r"^(\d+)x(\d+)(?:([+-]-?\d+)([+-]-?\d+))?$")


def first_launch(screen_width: int, screen_height: int) -> str:
    """``WxH`` that fits the screen with the menu bar, the title bar and a panel."""
    width = min(PREFERRED[0], screen_width - RESERVED_WIDTH)
    height = min(PREFERRED[1], screen_height - RESERVED_HEIGHT)
    return f"{width}x{height}"


def restore(saved: object, screen_width: int, screen_height: int,
            minimum: tuple[int, int]) -> str:
    """The saved ``WxH+X+Y`` fitted to this screen (it may be smaller than last time).

    A size larger than the screen shrinks (never below ``minimum``); a position that
    would put the window partly off screen moves it back on; anything else is kept as is.
    """
    match = _GEOMETRY.match(saved) if isinstance(saved, str) else None
    if match is None:
        return first_launch(screen_width, screen_height)
    # the user chose this size on some screen: keep it if this one holds it
    room_width = screen_width
    room_height = screen_height - MENU_ALLOWANCE
    width = max(minimum[0], min(int(match[1]), room_width))
    height = max(minimum[1], min(int(match[2]), room_height))
    if match[3] is None or "-" in match[3][0] + match[4][0]:
        return f"{width}x{height}"  # no place, or one from the right/bottom edge: let the WM
    x = max(0, min(int(match[3][1:]), room_width - width))
    y = max(0, min(int(match[4][1:]), room_height - height))
    return f"{width}x{height}+{x}+{y}"
