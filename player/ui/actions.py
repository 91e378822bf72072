"""The window's actions (menus, toolbar, shortcuts) and its keys. What an action does is connected by
the window; here are only their texts, shortcuts and icons, and the menu bar's order."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from player.ui.icons import camera_icon, sparkle_icon, std

SEEK_STEP_S = 5.0
VOLUME_STEP = 0.05


def make_action(owner: QWidget, text: str, shortcut=None, icon=None, tip: str | None = None) -> QAction:
    a = QAction(text, owner)
    if icon is not None:
        a.setIcon(icon)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
        a.setShortcutContext(Qt.WindowShortcut)
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    owner.addAction(a)
    return a


class Actions:
    """Every action of the window, by name."""

    def __init__(self, owner: QWidget):
        def A(*args, **kw):  # noqa: N802
            return make_action(owner, *args, **kw)

        self.import_folder = A("&Import folder…", "Ctrl+O", std("DirOpenIcon"), tip="Add a folder of music to the library")
        self.import_files = A("Import &files…", "Ctrl+Shift+O", tip="Add music files to the library")
        self.rescan = A("&Rescan folders", tip="Look again for new, changed and deleted files in the imported folders")
        self.quit = A("&Quit", QKeySequence.Quit)
        self.find = A("&Find", QKeySequence.Find)
        # "\t" + a key: shown in the menu, not bound (Space and the arrows are QShortcuts: install_keys)
        self.play = A("&Play / pause\tSpace", None, std("MediaPlay"))
        self.stop = A("&Stop", None, std("MediaStop"), tip="Stop playing")
        self.next = A("&Next song", "Ctrl+Right", std("MediaSkipForward"))
        self.previous = A("P&revious song", "Ctrl+Left", std("MediaSkipBackward"))
        self.forward = A("Seek forward 5 s\t→")
        self.back = A("Seek back 5 s\t←")
        for action in (self.play, self.forward, self.back):
            action.setToolTip(action.text().replace("&", "").replace("\t", " (") + ")")
        self.volume_up = A("Volume up", "Ctrl+Up")
        self.volume_down = A("Volume down", "Ctrl+Down")
        self.mute = A("&Mute", "M")
        self.details = A("Track &details…", "Ctrl+I", std("FileDialogInfoView"))
        self.play_next = A("Play &next", "Ctrl+Shift+N")
        self.enqueue = A("Add to &queue")
        self.more_like = A("&More like this", "Ctrl+M", sparkle_icon(16))
        self.add_listener = A("&Add listener…")
        self.mood = A("Use my &mood (camera)", None, camera_icon(16))
        self.mood.setCheckable(True)
        self.analyse = A("&Analyse now")
        self.duplicates = A("Possible &duplicates…", tip="Files that hold the same recording (re-encodes, copies)")
        self.refresh_recs = A("&Refresh up next", "F5")
        self.shortcuts = A("&Keyboard shortcuts", "F1")
        self.about = A("&About")
        self.show_all = A("Show &all music")

    @property
    def transport(self) -> list[QAction]:
        """The actions that need playback."""
        return [self.play, self.stop, self.next, self.previous, self.forward, self.back, self.play_next, self.enqueue]


class Menus:
    """The menu bar: File, Library, Playback (with Output device), Listener, Mood (with Camera), Help.
    The submenus that list things (devices, listeners, cameras) are filled when they open."""

    def __init__(self, bar: QMenuBar, a: Actions):
        m = self.file = bar.addMenu("&File")
        m.addAction(a.import_folder)
        m.addAction(a.import_files)
        m.addSeparator()
        m.addAction(a.quit)
        m = bar.addMenu("&Library")
        for action in (a.find, a.show_all, a.details, None, a.rescan, a.analyse, a.duplicates):
            m.addSeparator() if action is None else m.addAction(action)
        m = bar.addMenu("&Playback")
        for action in (a.play, a.stop, a.previous, a.next, a.back, a.forward, None, a.volume_up, a.volume_down, a.mute, None,
                       a.play_next, a.enqueue, a.refresh_recs):
            m.addSeparator() if action is None else m.addAction(action)
        self.device: QMenu = m.addMenu("Output &device")
        self.levelling: QMenu = m.addMenu("&Volume levelling")
        self.crossfade: QMenu = m.addMenu("Cross&fade")
        self.listener: QMenu = bar.addMenu("L&istener")
        self.mood: QMenu = bar.addMenu("&Mood")
        self.mood.addAction(a.mood)
        self.mood.addSeparator()
        self.help: QMenu = bar.addMenu("&Help")
        self.help.addAction(a.shortcuts)
        self.help.addAction(a.about)

    def add_desktop_actions(self, *actions: QAction) -> None:
        """File ▸ the desktop's settings (notifications, close to tray), above Quit."""
        quit_action = self.file.actions()[-1]
        for action in actions:
            self.file.insertAction(quit_action, action)
        self.file.insertSeparator(quit_action)

    def add_camera_menu(self) -> QMenu:
        """After the mood policies: Mood ▸ Camera."""
        self.mood.addSeparator()
        return self.mood.addMenu(camera_icon(16), "Ca&mera")


def window_shortcut(owner: QWidget, key, fn, context=Qt.WindowShortcut) -> QShortcut:
    """A key as a ``QShortcut``: a line edit overrides these, so they never steal typing in the search box."""
    s = QShortcut(QKeySequence(key), owner)
    s.setContext(context)
    s.activated.connect(fn)
    return s


def install_keys(owner: QWidget, transport, seek_widgets: list[QWidget]) -> list[QShortcut]:
    """Space and the media keys; Left/Right seek where arrows have no better use: the song lists and
    the now-playing bar (the sidebar keeps them for folding, the search box for its cursor)."""
    t = transport
    keys = [
        (Qt.Key_Space, t.toggle_play),
        (Qt.Key_MediaPlay, t.toggle_play),
        (Qt.Key_MediaTogglePlayPause, t.toggle_play),
        (Qt.Key_MediaPause, t.pause),
        (Qt.Key_MediaStop, t.stop),
        (Qt.Key_MediaNext, t.next_track),
        (Qt.Key_MediaPrevious, t.previous_track),
        (Qt.Key_VolumeUp, lambda: t.change_volume(VOLUME_STEP)),
        (Qt.Key_VolumeDown, lambda: t.change_volume(-VOLUME_STEP)),
        (Qt.Key_VolumeMute, t.toggle_mute),
    ]
    out = [window_shortcut(owner, key, fn) for key, fn in keys]
    for widget in seek_widgets:
        for key, delta in ((Qt.Key_Left, -SEEK_STEP_S), (Qt.Key_Right, SEEK_STEP_S)):
            out.append(window_shortcut(widget, key, lambda d=delta: t.seek_relative(d), Qt.WidgetWithChildrenShortcut))
    return out
