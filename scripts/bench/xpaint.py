"""When a window's pixels change, seen from outside the process, for
window.py: an X11 client (libX11 and libXdamage through ctypes, no Python
packages) that finds the top-level window of a process by its _NET_WM_PID,
asks the X server for a Damage report on it, and reads the window's pixels
back at every report.

Why: under Xvfb WebKit runs requestAnimationFrame about once a second, so a
page that reports its first paint from an animation frame may report it late,
by a different amount in each window. The X server's damage reports do not
depend on the page at all: they say when drawing reached the window, for any
program alike.

Each frame is kept as (seconds since launch, tile digests): the window cut
into 32x32-pixel tiles, one hash per tile, so that two frames can be compared
cheaply and a countdown ticking in one corner does not make two screens
different.
"""

import ctypes
import ctypes.util
import select
import time

TILE = 32

_x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
_damage = ctypes.CDLL(ctypes.util.find_library("Xdamage") or "libXdamage.so.1")

Display_p = ctypes.c_void_p
Window = ctypes.c_ulong
Atom = ctypes.c_ulong
Damage = ctypes.c_ulong


class XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int),
        ("data", ctypes.c_void_p),
        ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int),
        ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int),
        ("bits_per_pixel", ctypes.c_int),
        ("red_mask", ctypes.c_ulong),
        ("green_mask", ctypes.c_ulong),
        ("blue_mask", ctypes.c_ulong),
        ("obdata", ctypes.c_void_p),
        # struct funcs: create_image, destroy_image, get_pixel, put_pixel,
        # sub_image, add_pixel
        ("create_image", ctypes.c_void_p),
        ("destroy_image", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)),
        ("get_pixel", ctypes.c_void_p),
        ("put_pixel", ctypes.c_void_p),
        ("sub_image", ctypes.c_void_p),
        ("add_pixel", ctypes.c_void_p),
    ]


class XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p),
        ("root", Window),
        ("class_", ctypes.c_int),
        ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("pad", ctypes.c_long * 24)]


def _sig(lib, name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


XOpenDisplay = _sig(_x11, "XOpenDisplay", Display_p, ctypes.c_char_p)
XCloseDisplay = _sig(_x11, "XCloseDisplay", ctypes.c_int, Display_p)
XDefaultRootWindow = _sig(_x11, "XDefaultRootWindow", Window, Display_p)
XConnectionNumber = _sig(_x11, "XConnectionNumber", ctypes.c_int, Display_p)
XInternAtom = _sig(_x11, "XInternAtom", Atom, Display_p, ctypes.c_char_p, ctypes.c_int)
XQueryTree = _sig(
    _x11, "XQueryTree", ctypes.c_int, Display_p, Window, ctypes.POINTER(Window),
    ctypes.POINTER(Window), ctypes.POINTER(ctypes.POINTER(Window)), ctypes.POINTER(ctypes.c_uint),
)
XGetWindowProperty = _sig(
    _x11, "XGetWindowProperty", ctypes.c_int, Display_p, Window, Atom, ctypes.c_long,
    ctypes.c_long, ctypes.c_int, Atom, ctypes.POINTER(Atom), ctypes.POINTER(ctypes.c_int),
    ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_ulong),
    ctypes.POINTER(ctypes.c_void_p),
)
XGetWindowAttributes = _sig(
    _x11, "XGetWindowAttributes", ctypes.c_int, Display_p, Window,
    ctypes.POINTER(XWindowAttributes),
)
XGetImage = _sig(
    _x11, "XGetImage", ctypes.POINTER(XImage), Display_p, Window, ctypes.c_int, ctypes.c_int,
    ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int,
)
XFree = _sig(_x11, "XFree", ctypes.c_int, ctypes.c_void_p)
XPending = _sig(_x11, "XPending", ctypes.c_int, Display_p)
XNextEvent = _sig(_x11, "XNextEvent", ctypes.c_int, Display_p, ctypes.POINTER(XEvent))
XSync = _sig(_x11, "XSync", ctypes.c_int, Display_p, ctypes.c_int)
XSetErrorHandler = _sig(_x11, "XSetErrorHandler", ctypes.c_void_p, ctypes.c_void_p)
XDamageQueryExtension = _sig(
    _damage, "XDamageQueryExtension", ctypes.c_int, Display_p, ctypes.POINTER(ctypes.c_int),
    ctypes.POINTER(ctypes.c_int),
)
XDamageCreate = _sig(_damage, "XDamageCreate", Damage, Display_p, Window, ctypes.c_int)
XDamageSubtract = _sig(
    _damage, "XDamageSubtract", None, Display_p, Damage, ctypes.c_ulong, ctypes.c_ulong,
)
XDamageDestroy = _sig(_damage, "XDamageDestroy", None, Display_p, Damage)

ZPixmap = 2
ALL_PLANES = 0xFFFFFFFFFFFFFFFF
IS_VIEWABLE = 2
DAMAGE_REPORT_NON_EMPTY = 3
XDAMAGE_NOTIFY = 0

# A window may vanish between listing and reading it: X's default handler
# would exit the process, so errors are ignored (the call then fails).
_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(
    lambda _d, _e: 0
)


class Frame:
    """One read-back of the window: when, and its tiles' digests."""

    __slots__ = ("at", "tiles", "uniform")

    def __init__(self, at, tiles, uniform):
        self.at = at
        self.tiles = tiles
        self.uniform = uniform

    def alike(self, other, share):
        """At least `share` of the tiles are identical."""
        if len(self.tiles) != len(other.tiles) or not self.tiles:
            return False
        same = sum(1 for a, b in zip(self.tiles, other.tiles) if a == b)
        return same >= share * len(self.tiles)


class PaintWatch:
    """Watches the top-level window of one process from launch on."""

    def __init__(self, pid, started, keep_pixels=False):
        self.keep_pixels = keep_pixels
        self.pixels = []
        self.pid = pid
        self.started = started
        self.frames = []
        self.window = None
        self.damage = None
        self.display = XOpenDisplay(None)
        if not self.display:
            raise RuntimeError("xpaint: cannot open the X display ($DISPLAY)")
        XSetErrorHandler(ctypes.cast(_ERROR_HANDLER, ctypes.c_void_p))
        event_base, error_base = ctypes.c_int(), ctypes.c_int()
        if not XDamageQueryExtension(self.display, ctypes.byref(event_base), ctypes.byref(error_base)):
            raise RuntimeError("xpaint: the X server has no DAMAGE extension")
        self.damage_event = event_base.value + XDAMAGE_NOTIFY
        self.root = XDefaultRootWindow(self.display)
        self.pid_atom = XInternAtom(self.display, b"_NET_WM_PID", 0)
        self.fd = XConnectionNumber(self.display)

    def close(self):
        if self.damage:
            XDamageDestroy(self.display, self.damage)
        XCloseDisplay(self.display)

    def _window_pid(self, window):
        kind, fmt = Atom(), ctypes.c_int()
        count, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        status = XGetWindowProperty(
            self.display, window, self.pid_atom, 0, 1, 0, 0, ctypes.byref(kind),
            ctypes.byref(fmt), ctypes.byref(count), ctypes.byref(after), ctypes.byref(data),
        )
        if status != 0 or not data.value:
            return None
        pid = ctypes.cast(data, ctypes.POINTER(ctypes.c_ulong))[0] if count.value else None
        XFree(data)
        return pid

    def _find_window(self):
        root, parent = Window(), Window()
        children, count = ctypes.POINTER(Window)(), ctypes.c_uint()
        if not XQueryTree(self.display, self.root, ctypes.byref(root), ctypes.byref(parent),
                          ctypes.byref(children), ctypes.byref(count)):
            return None
        found = None
        try:
            for i in range(count.value):
                window = children[i]
                if self._window_pid(window) != self.pid:
                    continue
                attrs = XWindowAttributes()
                if not XGetWindowAttributes(self.display, window, ctypes.byref(attrs)):
                    continue
                # GTK also maps small helper windows (1x1, input-only).
                if attrs.map_state == IS_VIEWABLE and attrs.width > 1 and attrs.height > 1:
                    found = (window, attrs.width, attrs.height)
        finally:
            if children:
                XFree(children)
        return found

    def grab(self):
        """Reads the window's pixels now; None if it is gone."""
        window, width, height = self.window
        image = XGetImage(self.display, window, 0, 0, width, height, ALL_PLANES, ZPixmap)
        if not image:
            return None
        at = time.perf_counter() - self.started
        img = image.contents
        stride = img.bytes_per_line
        data = ctypes.string_at(img.data, stride * img.height)
        img.destroy_image(ctypes.cast(image, ctypes.c_void_p))
        step = TILE * img.bits_per_pixel // 8
        tiles = []
        for top in range(0, height, TILE):
            rows = [data[y * stride:(y + 1) * stride] for y in range(top, min(top + TILE, height))]
            for left in range(0, stride, step):
                tiles.append(hash(b"".join(row[left:left + step] for row in rows)))
        pixel = data[:img.bits_per_pixel // 8]
        uniform = data.count(pixel) * len(pixel) == len(data) if stride == width * len(pixel) else False
        frame = Frame(at, tiles, uniform)
        if self.keep_pixels:
            self.pixels.append((width, height, stride, img.bits_per_pixel, data))
        self.frames.append(frame)
        return frame

    def watch(self, until, stop=lambda: False):
        """Finds the window, then reads it back at each damage report, until
        the perf_counter time `until` or stop() says so."""
        while self.window is None:
            if time.perf_counter() >= until or stop():
                return
            self.window = self._find_window()
            if self.window is None:
                time.sleep(0.003)
        self.damage = XDamageCreate(self.display, self.window[0], DAMAGE_REPORT_NON_EMPTY)
        XSync(self.display, 0)
        # Drawn before the report was asked for: see it now.
        self.grab()
        event = XEvent()
        while time.perf_counter() < until and not stop():
            if not XPending(self.display):
                wait = min(0.05, max(0.0, until - time.perf_counter()))
                select.select([self.fd], [], [], wait)
                if not XPending(self.display):
                    continue
            damaged = False
            while XPending(self.display):
                XNextEvent(self.display, ctypes.byref(event))
                if event.type == self.damage_event:
                    damaged = True
            if damaged:
                XDamageSubtract(self.display, self.damage, 0, 0)
                XSync(self.display, 0)
                if self.grab() is None:
                    return

    def first_content(self):
        """When the window first showed anything but one flat colour."""
        return next((f.at for f in self.frames if not f.uniform), None)

    def first_settled(self, settled, share=0.97):
        """When the window first looked like `settled` (a frame read at
        idle): the first frame with at least `share` of its tiles the same."""
        return next((f.at for f in self.frames if f.alike(settled, share)), None)
