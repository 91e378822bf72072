"""The window's look: Fusion with a calm light palette and one accent colour."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

ACCENT = "#4f6bed"
HEADER_ARROW_ROOM = 22  # a header's right padding: the sort arrow sits there, never over the title

STYLESHEET = f"""
QMainWindow, QDialog {{ background: #f6f7f9; }}
QToolBar#mainToolBar {{ background: #ffffff; border: none; border-bottom: 1px solid #e1e4ea; padding: 6px 8px; spacing: 8px; }}
QToolBar#mainToolBar QToolButton {{ padding: 5px 10px; border-radius: 6px; }}
QToolBar#mainToolBar QToolButton:hover {{ background: #eef1fb; }}
QToolBar#mainToolBar QToolButton:checked {{ background: #e3e8fd; color: {ACCENT}; }}
QLineEdit#search {{ border: 1px solid #d5d9e2; border-radius: 15px; padding: 5px 12px; background: #f3f5f8; min-height: 20px; }}
QLineEdit#search:focus {{ border: 1px solid {ACCENT}; background: #ffffff; }}
QComboBox#listener {{ padding: 4px 10px; min-width: 130px; }}

QTreeWidget#sidebar {{ background: #eef0f4; border: none; border-right: 1px solid #e1e4ea; padding-top: 6px; outline: 0; }}
QTreeWidget#sidebar::item {{ padding: 4px 2px; border-radius: 5px; }}
QTreeWidget#sidebar::item:selected {{ background: #dde3fb; color: #1d2b6b; }}
QTreeWidget#sidebar::branch:selected {{ background: transparent; }}
QTreeWidget#sidebar::item:hover:!selected {{ background: #e4e7ee; }}

QTableView#libraryView {{ outline: 0; background: #ffffff; alternate-background-color: #f8f9fb; border: none;
    selection-background-color: #dde3fb; selection-color: #111827; }}

QHeaderView::section {{ background: #ffffff; border: none; border-bottom: 1px solid #e1e4ea;
    padding: 6px {HEADER_ARROW_ROOM}px 6px 6px; color: #5b6170; font-weight: 600; }}

QWidget#rightPanel {{ background: #fbfbfd; border-left: 1px solid #e1e4ea; }}
QLabel.panelTitle {{ font-weight: 700; color: #30343f; font-size: 11pt; }}
QLabel.hint {{ color: #7a808c; }}
QListView#upNext {{ background: transparent; border: none; outline: 0; }}
QFrame#moodBox {{ border-top: 1px solid #e1e4ea; background: #fbfbfd; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ padding: 7px 14px; border: none; background: transparent; color: #5b6170; }}
QTabBar::tab:selected {{ color: #1f2430; border-bottom: 2px solid {ACCENT}; font-weight: 600; }}
QTabBar::tab:hover:!selected {{ color: #1f2430; }}
QListView#upNext::item:selected {{ background: #dde3fb; color: #111827; border-radius: 6px; }}

QFrame#nowPlaying {{ background: #ffffff; border-top: 1px solid #e1e4ea; }}
QLabel#npTitle {{ font-weight: 700; font-size: 11pt; color: #111827; }}
QLabel#npArtist {{ color: #5b6170; }}
QLabel#npTime {{ color: #5b6170; font-family: monospace; }}
QToolButton#playButton {{ background: {ACCENT}; border-radius: 20px; border: none; }}
QToolButton#playButton:hover {{ background: #3f59d6; }}
QToolButton#playButton:disabled {{ background: #c9cfe0; }}
QToolButton.transport {{ border: none; border-radius: 16px; padding: 4px; }}
QToolButton.transport:hover {{ background: #eef1fb; }}
QToolButton.transport:checked {{ background: #d3dcfd; border: 1px solid {ACCENT}; }}
QSlider::groove:horizontal {{ height: 4px; background: #dfe3ea; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QSlider::sub-page:horizontal:disabled {{ background: #c9cfe0; }}
QSlider::handle:horizontal {{ background: #ffffff; border: 1px solid #b8bfcc; width: 12px; height: 12px; margin: -5px 0; border-radius: 7px; }}
QSlider::handle:horizontal:hover {{ border: 1px solid {ACCENT}; }}

QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
QScrollBar::handle:vertical {{ background: #c9ced8; border-radius: 4px; min-height: 28px; margin: 2px; }}
QScrollBar::handle:vertical:hover {{ background: #aab1bf; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; }}
QScrollBar::handle:horizontal {{ background: #c9ced8; border-radius: 4px; min-width: 28px; margin: 2px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QFrame.notice {{ border-radius: 8px; padding: 2px; }}
QFrame.notice[level="info"] {{ background: #e8f0fe; border: 1px solid #c3d4fb; }}
QFrame.notice[level="success"] {{ background: #e6f5ea; border: 1px solid #bfe3c9; }}
QFrame.notice[level="warning"] {{ background: #fff6e0; border: 1px solid #f2d99a; }}
QFrame.notice[level="error"] {{ background: #fdecea; border: 1px solid #f3c1bb; }}
QFrame.notice QPushButton {{ padding: 3px 10px; }}

QStatusBar {{ background: #f0f2f5; border-top: 1px solid #e1e4ea; color: #4b5160; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QLabel#cameraOn {{ color: #ffffff; background: #d93025; border-radius: 9px; padding: 1px 9px; font-weight: 700; }}
QProgressBar {{ border: 1px solid #d5d9e2; border-radius: 4px; background: #ffffff; text-align: center; max-height: 14px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QGroupBox {{ font-weight: 700; border: 1px solid #e1e4ea; border-radius: 8px; margin-top: 12px; padding-top: 8px; background: #ffffff; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; }}
"""


def apply_style(app: QApplication) -> None:
    if "Fusion" in QStyleFactory.keys() and app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    pal = QPalette()
    pal.setColor(QPalette.Window, QColor("#f6f7f9"))
    pal.setColor(QPalette.WindowText, QColor("#1f2430"))
    pal.setColor(QPalette.Base, QColor("#ffffff"))
    pal.setColor(QPalette.AlternateBase, QColor("#f8f9fb"))
    pal.setColor(QPalette.Text, QColor("#1f2430"))
    pal.setColor(QPalette.Button, QColor("#ffffff"))
    pal.setColor(QPalette.ButtonText, QColor("#1f2430"))
    pal.setColor(QPalette.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ToolTipBase, QColor("#ffffff"))
    pal.setColor(QPalette.ToolTipText, QColor("#1f2430"))
    pal.setColor(QPalette.PlaceholderText, QColor("#8a909c"))
    pal.setColor(QPalette.Disabled, QPalette.Text, QColor("#a0a5b0"))
    pal.setColor(QPalette.Disabled, QPalette.ButtonText, QColor("#a0a5b0"))
    pal.setColor(QPalette.Disabled, QPalette.WindowText, QColor("#a0a5b0"))
    app.setPalette(pal)
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
