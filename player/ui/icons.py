"""Icons: Qt's standard ones where they exist, the player's own SVGs (``assets/icons/``) otherwise.

The SVGs paint in ``currentColor``; each function takes the colour to paint them in (the default is
the one the light style uses), so the dark style passes its own. They are rendered at 1x and 2x for
high-DPI screens. The star rating and the placeholder covers are still drawn in code: they are
painted per cell or per album, in colours computed at run time.
"""

from __future__ import annotations

import hashlib
import logging
import math
from functools import lru_cache

from PySide6.QtCore import QByteArray, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QLinearGradient, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QApplication, QStyle

log = logging.getLogger("player.ui")
APP_ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
INK = QColor(60, 64, 76)  # the glyphs' colour on the light style

ACCENT = QColor(79, 107, 237)
STAR_ON = QColor(245, 166, 35)
STAR_OFF = QColor(200, 200, 205)


def std(name: str) -> QIcon:
    """A ``QStyle.StandardPixmap`` icon by short name, e.g. ``std('MediaPlay')``."""
    return QApplication.style().standardIcon(getattr(QStyle.StandardPixmap, "SP_" + name))


def star_polygon(rect: QRectF) -> QPolygonF:
    cx, cy = rect.center().x(), rect.center().y()
    r_out = min(rect.width(), rect.height()) / 2.0
    r_in = r_out * 0.45
    pts = []
    for k in range(10):
        r = r_out if k % 2 == 0 else r_in
        a = -math.pi / 2 + k * math.pi / 5
        pts.append(QPointF(cx + r * math.cos(a), cy + r * math.sin(a) + r_out * 0.06))
    return QPolygonF(pts)


def paint_stars(p: QPainter, rect: QRectF, stars: int, *, hover: int = 0, size: float = 14.0, gap: float = 3.0,
                on: QColor = STAR_ON, off: QColor = STAR_OFF) -> None:
    """Five stars left-aligned and vertically centred in ``rect``; ``hover`` previews a value."""
    p.save()
    p.setRenderHint(QPainter.Antialiasing, True)
    p.setPen(Qt.NoPen)
    y = rect.center().y() - size / 2
    shown = hover or stars
    for i in range(5):
        x = rect.left() + 4 + i * (size + gap)
        color = on if i < shown else off
        if hover and i < hover:
            color = on.lighter(115)
        p.setBrush(color)
        p.drawPolygon(star_polygon(QRectF(x, y, size, size)))
    p.restore()


def star_at(rect: QRectF, x: float, size: float = 14.0, gap: float = 3.0) -> int:
    """Which star (1–5) is under ``x`` in a cell painted by :func:`paint_stars`; 0 left of them."""
    rel = x - rect.left() - 4
    if rel < -gap:
        return 0
    k = int(rel // (size + gap)) + 1
    return max(1, min(5, k)) if rel <= 5 * (size + gap) else 5


def _pixmap(size: int) -> tuple[QPixmap, QPainter]:
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing, True)
    return pm, p


def note_path(rect: QRectF) -> QPainterPath:
    """A beamed pair of eighth notes in ``rect``."""
    w, h = rect.width(), rect.height()
    x0, y0 = rect.left(), rect.top()
    path = QPainterPath()
    stem_w = w * 0.08
    # heads
    for cx, cy in ((x0 + w * 0.30, y0 + h * 0.78), (x0 + w * 0.74, y0 + h * 0.70)):
        path.addEllipse(QPointF(cx, cy), w * 0.14, h * 0.10)
    # stems
    path.addRect(QRectF(x0 + w * 0.40, y0 + h * 0.22, stem_w, h * 0.56))
    path.addRect(QRectF(x0 + w * 0.84, y0 + h * 0.14, stem_w, h * 0.56))
    # beam
    beam = QPolygonF([QPointF(x0 + w * 0.40, y0 + h * 0.22), QPointF(x0 + w * 0.92, y0 + h * 0.14),
                      QPointF(x0 + w * 0.92, y0 + h * 0.26), QPointF(x0 + w * 0.40, y0 + h * 0.34)])
    path.addPolygon(beam)
    path.setFillRule(Qt.WindingFill)
    return path


def _color_css(color: QColor) -> str:
    return f"rgb({color.red()},{color.green()},{color.blue()})"


@lru_cache(maxsize=None)
def _svg_source(name: str) -> bytes:
    from player.paths import assets_dir

    path = assets_dir() / "icons" / f"{name}.svg"
    try:
        return path.read_bytes()
    except OSError as exc:
        log.warning("icon %s is missing (%s): the player's assets are not installed", name, exc.strerror or exc)
        return b""


def svg_pixmap(name: str, size: int, color: QColor | None = None, scale: int = 1) -> QPixmap:
    """``assets/icons/<name>.svg`` at ``size`` logical pixels, ``currentColor`` painted ``color``.
    Rendered once per name, size, colour and scale (the tray and the transport ask again at every
    change of state); each caller gets its own copy (shared until it is painted on)."""
    color = QColor(color) if color is not None else INK
    return QPixmap(_rendered_svg(name, int(size), color.rgba(), int(scale)))


@lru_cache(maxsize=256)
def _rendered_svg(name: str, size: int, rgba: int, scale: int) -> QPixmap:
    from PySide6.QtSvg import QSvgRenderer

    color = QColor.fromRgba(rgba)
    px = max(1, int(round(size * scale)))
    pm = QPixmap(px, px)
    pm.fill(Qt.transparent)
    source = _svg_source(name)
    if source:
        renderer = QSvgRenderer(QByteArray(source.replace(b"currentColor", _color_css(color).encode())))
        p = QPainter(pm)
        p.setRenderHint(QPainter.Antialiasing, True)
        p.setOpacity(color.alphaF())
        renderer.render(p, QRectF(0, 0, px, px))
        p.end()
    pm.setDevicePixelRatio(scale)
    return pm


def svg_icon(name: str, size: int, color: QColor | None = None) -> QIcon:
    """An icon from ``assets/icons/<name>.svg`` at 1x and 2x."""
    icon = QIcon()
    for scale in (1, 2):
        icon.addPixmap(svg_pixmap(name, size, color, scale))
    return icon


def app_icon() -> QIcon:
    """The application icon: the PNGs made from ``assets/tastebuds.svg`` (``scripts/make_icons.py``)."""
    from player.paths import assets_dir

    icon = QIcon()
    root = assets_dir()
    for size in APP_ICON_SIZES:
        png = root / "hicolor" / f"{size}x{size}" / "apps" / "tastebuds.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    if icon.isNull() and (root / "tastebuds.svg").is_file():
        icon.addFile(str(root / "tastebuds.svg"))
    return icon


def cover_pixmap(key: str, size: int) -> QPixmap:
    """A placeholder cover: a gradient in colours derived from ``key`` (album or title) and a note."""
    digest = hashlib.md5((key or "?").encode("utf-8", "replace")).digest()
    hue = digest[0] / 255.0
    c1 = QColor.fromHsvF(hue, 0.55, 0.85)
    c2 = QColor.fromHsvF((hue + 0.12) % 1.0, 0.65, 0.55)
    pm, p = _pixmap(size)
    grad = QLinearGradient(0, 0, size, size)
    grad.setColorAt(0, c1)
    grad.setColorAt(1, c2)
    p.setBrush(QBrush(grad))
    p.setPen(Qt.NoPen)
    p.drawRoundedRect(QRectF(0, 0, size, size), size * 0.12, size * 0.12)
    note = int(round(size * 0.56))
    p.drawPixmap(int(round(size * 0.22)), int(round(size * 0.22)), svg_pixmap("note", note, QColor(255, 255, 255, 210)))
    p.end()
    return pm


def dot_icon(color: QColor, size: int = 12) -> QIcon:
    pm, p = _pixmap(size)
    p.setBrush(color)
    p.setPen(QPen(color.darker(130), 1))
    p.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    p.end()
    return QIcon(pm)


def camera_icon(size: int = 20, color: QColor | None = None) -> QIcon:
    return svg_icon("camera", size, color or QColor(70, 70, 80))


def text_icon(text: str, size: int = 20, color: QColor | None = None) -> QIcon:
    pm, p = _pixmap(size)
    f = QFont()
    f.setPixelSize(int(size * 0.8))
    f.setBold(True)
    p.setFont(f)
    p.setPen(color or QColor(70, 70, 80))
    p.drawText(QRectF(0, 0, size, size), Qt.AlignCenter, text)
    p.end()
    return QIcon(pm)


def star_icon(size: int = 16, filled: bool = True) -> QIcon:
    return svg_icon("star", size, STAR_ON if filled else STAR_OFF)


def sparkle_icon(size: int = 16, color: QColor | None = None) -> QIcon:
    """For "more like this" / recommendations: a four-pointed sparkle."""
    return svg_icon("sparkle", size, color or ACCENT)


def speaker_icon(size: int = 18, muted: bool = False, level: float = 1.0, color: QColor | None = None) -> QIcon:
    """The volume button: a speaker with 1-3 waves by ``level``, or crossed out in red when muted."""
    name = "speaker-muted" if muted else f"speaker-{1 + int(level > 0.34) + int(level > 0.67)}"
    return svg_icon(name, size, color or QColor(70, 70, 80))


TRANSPORT = ("play", "pause", "next", "prev", "shuffle", "repeat", "repeat1")


def transport_icon(kind: str, size: int = 20, color: QColor | None = None) -> QIcon:
    """Media glyphs: 'play', 'pause', 'next', 'prev', 'shuffle', 'repeat', 'repeat1'."""
    return svg_icon(kind, size, color or INK)


def playing_icon(size: int = 14, color: QColor | None = None) -> QIcon:
    """The playing row's mark: a small speaker with one wave, in the accent colour."""
    return svg_icon("playing", size, color or ACCENT)
