"""Icons: Qt's standard ones where they exist, small drawn ones otherwise (no image files to ship)."""

from __future__ import annotations

import hashlib
import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QLinearGradient, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QApplication, QStyle

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


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        pm, p = _pixmap(size)
        grad = QLinearGradient(0, 0, size, size)
        grad.setColorAt(0, ACCENT.lighter(125))
        grad.setColorAt(1, QColor(140, 70, 200))
        p.setBrush(QBrush(grad))
        p.setPen(Qt.NoPen)
        p.drawRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
        p.setBrush(QColor(255, 255, 255))
        p.drawPath(note_path(QRectF(size * 0.18, size * 0.16, size * 0.64, size * 0.68)))
        p.end()
        icon.addPixmap(pm)
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
    p.setBrush(QColor(255, 255, 255, 210))
    p.drawPath(note_path(QRectF(size * 0.25, size * 0.22, size * 0.5, size * 0.56)))
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
    color = color or QColor(70, 70, 80)
    pm, p = _pixmap(size)
    p.setPen(Qt.NoPen)
    p.setBrush(color)
    body = QRectF(size * 0.08, size * 0.3, size * 0.84, size * 0.56)
    p.drawRoundedRect(body, size * 0.1, size * 0.1)
    p.drawRect(QRectF(size * 0.34, size * 0.18, size * 0.32, size * 0.16))
    p.setBrush(QColor(255, 255, 255))
    p.drawEllipse(body.center(), size * 0.17, size * 0.17)
    p.setBrush(color)
    p.drawEllipse(body.center(), size * 0.10, size * 0.10)
    p.end()
    return QIcon(pm)


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
    pm, p = _pixmap(size)
    p.setPen(Qt.NoPen)
    p.setBrush(STAR_ON if filled else STAR_OFF)
    p.drawPolygon(star_polygon(QRectF(1, 1, size - 2, size - 2)))
    p.end()
    return QIcon(pm)


def sparkle_icon(size: int = 16, color: QColor | None = None) -> QIcon:
    """For "more like this" / recommendations: a four-pointed sparkle."""
    color = color or ACCENT
    pm, p = _pixmap(size)
    c = size / 2
    path = QPainterPath()
    r, k = size * 0.46, size * 0.12
    path.moveTo(c, c - r)
    path.quadTo(c + k, c - k, c + r, c)
    path.quadTo(c + k, c + k, c, c + r)
    path.quadTo(c - k, c + k, c - r, c)
    path.quadTo(c - k, c - k, c, c - r)
    p.setPen(Qt.NoPen)
    p.setBrush(color)
    p.drawPath(path)
    p.end()
    return QIcon(pm)


def speaker_icon(size: int = 18, muted: bool = False, level: float = 1.0) -> QIcon:
    pm, p = _pixmap(size)
    col = QColor(70, 70, 80)
    p.setPen(Qt.NoPen)
    p.setBrush(col)
    s = size
    poly = QPolygonF([QPointF(s * 0.1, s * 0.38), QPointF(s * 0.28, s * 0.38), QPointF(s * 0.5, s * 0.18),
                      QPointF(s * 0.5, s * 0.82), QPointF(s * 0.28, s * 0.62), QPointF(s * 0.1, s * 0.62)])
    p.drawPolygon(poly)
    p.setBrush(Qt.NoBrush)
    if muted:
        p.setPen(QPen(QColor(200, 60, 50), s * 0.09, Qt.SolidLine, Qt.RoundCap))
        p.drawLine(QPointF(s * 0.62, s * 0.36), QPointF(s * 0.9, s * 0.64))
        p.drawLine(QPointF(s * 0.9, s * 0.36), QPointF(s * 0.62, s * 0.64))
    else:
        p.setPen(QPen(col, s * 0.07, Qt.SolidLine, Qt.RoundCap))
        waves = 1 + int(level > 0.34) + int(level > 0.67)
        for k in range(waves):
            rr = s * (0.14 + 0.13 * k)
            p.drawArc(QRectF(s * 0.5 - rr, s * 0.5 - rr, 2 * rr, 2 * rr), -45 * 16, 90 * 16)
    p.end()
    return QIcon(pm)


def transport_icon(kind: str, size: int = 20, color: QColor | None = None) -> QIcon:
    """Drawn media glyphs: 'play', 'pause', 'next', 'prev', 'shuffle', 'repeat', 'repeat1'."""
    color = color or QColor(60, 64, 76)
    icon = QIcon()
    for scale in (1, 2):
        s = size * scale
        pm, p = _pixmap(s)
        p.setPen(Qt.NoPen)
        p.setBrush(color)
        if kind == "play":
            p.drawPolygon(QPolygonF([QPointF(s * 0.30, s * 0.18), QPointF(s * 0.84, s * 0.5), QPointF(s * 0.30, s * 0.82)]))
        elif kind == "pause":
            p.drawRoundedRect(QRectF(s * 0.24, s * 0.18, s * 0.18, s * 0.64), s * 0.04, s * 0.04)
            p.drawRoundedRect(QRectF(s * 0.58, s * 0.18, s * 0.18, s * 0.64), s * 0.04, s * 0.04)
        elif kind in ("next", "prev"):
            if kind == "prev":
                p.translate(s, 0)
                p.scale(-1, 1)
            p.drawPolygon(QPolygonF([QPointF(s * 0.16, s * 0.2), QPointF(s * 0.66, s * 0.5), QPointF(s * 0.16, s * 0.8)]))
            p.drawRoundedRect(QRectF(s * 0.68, s * 0.2, s * 0.13, s * 0.6), s * 0.03, s * 0.03)
        elif kind == "shuffle":
            pen = QPen(color, s * 0.08, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            a = QPainterPath(QPointF(s * 0.1, s * 0.3))
            a.cubicTo(QPointF(s * 0.45, s * 0.3), QPointF(s * 0.45, s * 0.7), QPointF(s * 0.8, s * 0.7))
            b = QPainterPath(QPointF(s * 0.1, s * 0.7))
            b.cubicTo(QPointF(s * 0.45, s * 0.7), QPointF(s * 0.45, s * 0.3), QPointF(s * 0.8, s * 0.3))
            p.drawPath(a)
            p.drawPath(b)
            p.setPen(Qt.NoPen)
            p.setBrush(color)
            for y in (0.3, 0.7):
                p.drawPolygon(QPolygonF([QPointF(s * 0.74, s * (y - 0.13)), QPointF(s * 0.95, s * y),
                                         QPointF(s * 0.74, s * (y + 0.13))]))
        elif kind in ("repeat", "repeat1"):
            pen = QPen(color, s * 0.08, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            p.drawRoundedRect(QRectF(s * 0.14, s * 0.3, s * 0.72, s * 0.42), s * 0.14, s * 0.14)
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(255, 255, 255, 0))
            p.setCompositionMode(QPainter.CompositionMode_Clear)
            p.drawRect(QRectF(s * 0.40, s * 0.22, s * 0.16, s * 0.16))
            p.setCompositionMode(QPainter.CompositionMode_SourceOver)
            p.setBrush(color)
            p.drawPolygon(QPolygonF([QPointF(s * 0.40, s * 0.18), QPointF(s * 0.58, s * 0.3), QPointF(s * 0.40, s * 0.42)]))
            if kind == "repeat1":
                f = QFont()
                f.setPixelSize(int(s * 0.34))
                f.setBold(True)
                p.setFont(f)
                p.setPen(color)
                p.drawText(QRectF(0, s * 0.32, s, s * 0.4), Qt.AlignCenter, "1")
        p.end()
        pm.setDevicePixelRatio(scale)
        icon.addPixmap(pm)
    return icon


def playing_icon(size: int = 14, color: QColor | None = None) -> QIcon:
    """The playing row's mark: a small speaker with one wave, in the accent colour."""
    color = color or ACCENT
    icon = QIcon()
    for scale in (1, 2):
        s = size * scale
        pm, p = _pixmap(s)
        p.setPen(Qt.NoPen)
        p.setBrush(color)
        p.drawPolygon(QPolygonF([QPointF(s * 0.08, s * 0.36), QPointF(s * 0.3, s * 0.36), QPointF(s * 0.55, s * 0.12),
                                 QPointF(s * 0.55, s * 0.88), QPointF(s * 0.3, s * 0.64), QPointF(s * 0.08, s * 0.64)]))
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(color, s * 0.1, Qt.SolidLine, Qt.RoundCap))
        p.drawArc(QRectF(s * 0.42, s * 0.26, s * 0.48, s * 0.48), -50 * 16, 100 * 16)
        p.end()
        pm.setDevicePixelRatio(scale)
        icon.addPixmap(pm)
    return icon
