"""The player's main window. It wires widgets to the core; the rules live in the core.

Layout: toolbar (import, search, listener, mood) · notices · sidebar | library table | Up next /
More like this + mood · now-playing bar · status bar (counts, import and analysis progress, camera).
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QComboBox, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QLineEdit,
                               QMainWindow, QMenu, QProgressBar, QSizePolicy, QSplitter, QTabWidget, QToolBar,
                               QToolButton, QVBoxLayout, QWidget)

from player.ui import analysis_adapter as aa
from player.ui.cores import core
from player.ui.details import TrackDetails, mel_spectrogram_rgb
from player.ui.dialogs import FailureDialog, ShortcutsDialog
from player.ui.icons import app_icon, camera_icon, sparkle_icon, star_icon, std
from player.ui.library_model import ARTIST, TITLE, LibraryModel, OrderSpec
from player.ui.library_view import LibraryView
from player.ui.notices import NoticeArea
from player.ui.nowplaying import NowPlayingBar
from player.ui.panels import Entry, ListPanel, MoodBox
from player.ui.settings import Settings
from player.ui.sidebar import Sidebar, compute_facets
from player.ui.workers import Pools, WorkerError

ADD_LISTENER = "__add__"
REFRESH_DURING_IMPORT_S = 0.8


class MainWindow(QMainWindow):
    """The window. ``synchronous=True`` runs every worker job at once (deterministic tests)."""

    importFinished = Signal(object)  # ScanReport
    ratingSaved = Signal(int, int, int)  # user id, track id, stars
    listenerChanged = Signal(object)  # User or None
    upNextChanged = Signal()
    moreLikeThisChanged = Signal()
    analysisProgress = Signal(object)  # AnalysisProgress, on the GUI thread

    def __init__(self, library, *, settings: Settings | None = None, pools: Pools | None = None,
                 synchronous: bool = False, audio_backend: str = "auto", mood_source: str | None = None,
                 parent=None):
        super().__init__(parent)
        self.library = library
        self.settings = settings or Settings()
        self.pools = pools or Pools(synchronous=synchronous, parent=self)
        self.audio_backend = audio_backend
        self.mood_source = mood_source
        self.user = None
        # Scans run in a child process (keeps the interpreter lock free for the GUI); in-process
        # when the pools are synchronous (tests). None: decide by that rule.
        self.scan_in_child: bool | None = None
        self._import_worker = None
        self._last_import_refresh = 0.0
        self._last_report = None
        self._details: TrackDetails | None = None
        self._failure_dialog = None
        self._closing = False
        self.setWindowTitle("Tastebuds")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setMinimumSize(900, 560)

        self.model = LibraryModel(library, self.pools, self)
        self._build_ui()
        self._build_actions()
        self._install_seek_keys()
        self._wire()
        self._restore_settings()

        from player.ui.playback import PlaybackController
        from player.ui.recommend_control import RecommendController
        from player.ui.mood_control import MoodController

        self.playback = PlaybackController(self, library, self.pools, backend=audio_backend)
        self.recs = RecommendController(self, library, self.pools)
        self.mood = MoodController(self, self.pools, source=mood_source)
        self._wire_cores()
        self.analysis = aa.AnalysisControl(library, on_progress=None)
        self._analysis_timer = QTimer(self)
        self._analysis_timer.setInterval(3000)
        self._analysis_timer.timeout.connect(self._poll_analysis)
        self._setup_analysis()

        self._reload_listeners(select=self.settings.listener)
        self.model.reload(self.user.id if self.user else None)

    # ------------------------------------------------------------------------------------------
    # construction
    def _build_ui(self) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setFloatable(False)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.TopToolBarArea, tb)
        self.toolbar = tb

        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search songs, artists, albums, tags…   Ctrl+F")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(std("FileDialogContentsView"), QLineEdit.LeadingPosition)
        self.search.setMinimumWidth(260)
        self.search.setMaximumWidth(520)
        self.search.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

        self.listener_box = QComboBox()
        self.listener_box.setObjectName("listener")
        self.listener_box.setToolTip("Who is listening: ratings and recommendations are per listener")
        self.listener_box.setSizeAdjustPolicy(QComboBox.AdjustToContents)

        # central area
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        self.notices = NoticeArea(central)
        cl.addWidget(self.notices)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setHandleWidth(1)
        self.splitter.setChildrenCollapsible(False)
        self.sidebar = Sidebar()
        self.view = LibraryView()
        self.view.setModel(self.model)
        self.empty_hint = QLabel()
        self.empty_hint.setAlignment(Qt.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setProperty("class", "hint")
        self.empty_hint.setVisible(False)
        middle = QWidget()
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.setSpacing(0)
        ml.addWidget(self.view, 1)
        ml.addWidget(self.empty_hint, 1)

        right = QWidget()
        right.setObjectName("rightPanel")
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(0)
        self.right_tabs = QTabWidget()
        self.right_tabs.setDocumentMode(True)
        self.up_next = ListPanel("Up next", reorderable=True)
        self.more_like = ListPanel("More like this", reorderable=False)
        self.more_like.refresh.setToolTip("Songs like the playing one")
        self.right_tabs.addTab(self.up_next, "Up next")
        self.right_tabs.addTab(self.more_like, sparkle_icon(14), "More like this")
        rl.addWidget(self.right_tabs, 1)
        self.mood_box = MoodBox()
        rl.addWidget(self.mood_box)
        right.setMinimumWidth(280)

        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([210, 820, 340])
        cl.addWidget(self.splitter, 1)

        self.now_playing = NowPlayingBar()
        cl.addWidget(self.now_playing)
        self.setCentralWidget(central)

        # status bar
        sb = self.statusBar()
        sb.setSizeGripEnabled(True)
        self.count_label = QLabel("Loading the library…")
        sb.addWidget(self.count_label)

        self.import_widget = QWidget()
        il = QHBoxLayout(self.import_widget)
        il.setContentsMargins(0, 0, 0, 0)
        il.setSpacing(6)
        self.import_label = QLabel("Importing…")
        self.import_bar = QProgressBar()
        self.import_bar.setFixedWidth(160)
        self.import_bar.setTextVisible(False)
        self.import_cancel = QToolButton()
        self.import_cancel.setIcon(std("DialogCancelButton"))
        self.import_cancel.setAutoRaise(True)
        self.import_cancel.setToolTip("Stop the import (what is done is kept)")
        il.addWidget(self.import_label)
        il.addWidget(self.import_bar)
        il.addWidget(self.import_cancel)
        self.import_widget.setVisible(False)
        sb.addPermanentWidget(self.import_widget)

        self.analysis_widget = QWidget()
        al = QHBoxLayout(self.analysis_widget)
        al.setContentsMargins(0, 0, 0, 0)
        al.setSpacing(4)
        self.analysis_label = QLabel("")
        self.analysis_bar = QProgressBar()
        self.analysis_bar.setFixedWidth(120)
        self.analysis_bar.setTextVisible(False)
        self.analysis_pause = QToolButton()
        self.analysis_pause.setIcon(std("MediaPause"))
        self.analysis_pause.setAutoRaise(True)
        self.analysis_pause.setCheckable(True)
        self.analysis_pause.setToolTip("Pause analysis")
        self.analysis_cancel = QToolButton()
        self.analysis_cancel.setIcon(std("DialogCancelButton"))
        self.analysis_cancel.setAutoRaise(True)
        self.analysis_cancel.setToolTip("Stop analysis (finished songs are kept)")
        for w in (self.analysis_label, self.analysis_bar, self.analysis_pause, self.analysis_cancel):
            al.addWidget(w)
        self.analysis_widget.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Preferred)
        self.import_widget.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Preferred)
        sb.addPermanentWidget(self.analysis_widget)

        self.camera_label = QLabel("● Camera on")
        self.camera_label.setObjectName("cameraOn")
        self.camera_label.setToolTip("The camera is in use to read your mood. Turn the mood off to release it.")
        self.camera_label.setVisible(False)
        sb.addPermanentWidget(self.camera_label)

    def _build_actions(self) -> None:
        mb = self.menuBar()
        A = self._action
        self.act_import = A("&Import folder…", self.choose_import_folder, "Ctrl+O", std("DirOpenIcon"),
                            tip="Add a folder of music to the library")
        self.act_quit = A("&Quit", self.close, QKeySequence.Quit)
        self.act_find = A("&Find", self.focus_search, QKeySequence.Find)
        self.act_play = A("&Play / pause", self.toggle_play, None, std("MediaPlay"))
        self.act_next = A("&Next song", self.next_track, "Ctrl+Right", std("MediaSkipForward"))
        self.act_prev = A("P&revious song", self.previous_track, "Ctrl+Left", std("MediaSkipBackward"))
        self.act_fwd = A("Seek forward 5 s", lambda: self.seek_relative(5.0), None)
        self.act_back = A("Seek back 5 s", lambda: self.seek_relative(-5.0), None)
        self.act_volup = A("Volume up", lambda: self.change_volume(0.05), "Ctrl+Up")
        self.act_voldown = A("Volume down", lambda: self.change_volume(-0.05), "Ctrl+Down")
        self.act_mute = A("&Mute", lambda: self.now_playing.mute.toggle(), "M")
        self.act_details = A("Track &details…", self.show_details_for_selection, "Ctrl+I", std("FileDialogInfoView"))
        self.act_play_next = A("Play &next", self.play_selection_next, "Ctrl+Shift+N")
        self.act_enqueue = A("Add to &queue", self.enqueue_selection, None)
        self.act_more_like = A("&More like this", self.more_like_selection, "Ctrl+M", sparkle_icon(16))
        self.act_add_listener = A("&Add listener…", self.ask_add_listener, None)
        self.act_mood = A("Use my &mood (camera)", None, None, camera_icon(16))
        self.act_mood.setCheckable(True)
        self.act_analyse = A("&Analyse now", self.start_analysis, None)
        self.act_refresh_recs = A("&Refresh up next", lambda: self.recs.refresh(), "F5")
        self.act_shortcuts = A("&Keyboard shortcuts", lambda: ShortcutsDialog(self).show(), "F1")
        self.act_about = A("&About", self._about, None)
        self.act_show_all = A("Show &all music", lambda: self.sidebar.choose(None), None)

        m = mb.addMenu("&File")
        m.addAction(self.act_import)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Library")
        m.addAction(self.act_find)
        m.addAction(self.act_show_all)
        m.addAction(self.act_details)
        m.addSeparator()
        m.addAction(self.act_analyse)
        m = mb.addMenu("&Playback")
        for a in (self.act_play, self.act_prev, self.act_next, self.act_back, self.act_fwd, None, self.act_volup,
                  self.act_voldown, self.act_mute, None, self.act_play_next, self.act_enqueue, self.act_refresh_recs):
            m.addSeparator() if a is None else m.addAction(a)
        self.device_menu = m.addMenu("Output &device")
        self.device_menu.aboutToShow.connect(self._fill_device_menu)
        m = mb.addMenu("L&istener")
        self.listener_menu = m
        m.aboutToShow.connect(self._fill_listener_menu)
        m = mb.addMenu("&Mood")
        m.addAction(self.act_mood)
        m.addSeparator()
        from PySide6.QtGui import QActionGroup

        group = QActionGroup(self)
        self.act_policy = {}
        for key, title in (("match", "Music that &matches my mood"), ("cheer_up", "Music to &cheer me up")):
            a = m.addAction(title)
            a.setCheckable(True)
            a.setChecked(self.settings.mood_policy == key)
            a.triggered.connect(lambda _c=False, k=key: self._set_mood_policy(k))
            group.addAction(a)
            self.act_policy[key] = a
        m.addSeparator()
        self.camera_menu = m.addMenu(camera_icon(16), "Ca&mera")
        self.camera_menu.aboutToShow.connect(self._fill_camera_menu)
        m = mb.addMenu("&Help")
        m.addAction(self.act_shortcuts)
        m.addAction(self.act_about)

        tb = self.toolbar
        tb.addAction(self.act_import)
        spacer = QWidget()
        spacer.setFixedWidth(12)
        tb.addWidget(spacer)
        tb.addWidget(self.search)
        stretch = QWidget()
        stretch.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        tb.addWidget(stretch)
        lab = QLabel("Listener ")
        lab.setProperty("class", "hint")
        tb.addWidget(lab)
        tb.addWidget(self.listener_box)

        # keys that must not steal typing in the search box: QShortcut (a line edit overrides them)
        def sc(key, fn):
            s = QShortcut(QKeySequence(key), self)
            s.setContext(Qt.WindowShortcut)
            s.activated.connect(fn)
            return s

        self._shortcuts = [
            sc(Qt.Key_Space, self.toggle_play),
            sc(Qt.Key_MediaPlay, self.toggle_play),
            sc(Qt.Key_MediaTogglePlayPause, self.toggle_play),
            sc(Qt.Key_MediaPause, self.pause),
            sc(Qt.Key_MediaStop, self.stop),
            sc(Qt.Key_MediaNext, self.next_track),
            sc(Qt.Key_MediaPrevious, self.previous_track),
            sc(Qt.Key_VolumeUp, lambda: self.change_volume(0.05)),
            sc(Qt.Key_VolumeDown, lambda: self.change_volume(-0.05)),
            sc(Qt.Key_VolumeMute, lambda: self.now_playing.mute.toggle()),
        ]

    def _install_seek_keys(self) -> None:
        """Left/Right seek where arrows have no better use: the song lists and the now-playing bar
        (the sidebar keeps them for folding, the search box for its cursor)."""
        for widget in (self.view, self.up_next.list, self.more_like.list, self.now_playing):
            for key, delta in ((Qt.Key_Left, -5.0), (Qt.Key_Right, 5.0)):
                s = QShortcut(QKeySequence(key), widget)
                s.setContext(Qt.WidgetWithChildrenShortcut)
                s.activated.connect(lambda d=delta: self.seek_relative(d))
                self._shortcuts.append(s)

    def _action(self, text, fn, shortcut=None, icon=None, tip=None) -> QAction:
        a = QAction(text, self)
        if icon is not None:
            a.setIcon(icon)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.WindowShortcut)
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        if fn is not None:
            a.triggered.connect(lambda *_: fn())
        self.addAction(a)
        return a

    def _wire(self) -> None:
        m = self.model
        m.countsChanged.connect(self._update_counts)
        m.loaded.connect(self._on_loaded)
        m.failed.connect(lambda msg: self.notify(msg, "error"))
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(120)
        self._search_timer.timeout.connect(lambda: self.model.set_query(self.search.text()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_enter)
        self.search.installEventFilter(self)
        self.sidebar.facetChosen.connect(self._facet_chosen)
        self.view.playRequested.connect(self.play_row)
        self.view.rateRequested.connect(self.rate)
        self.view.stars.rateClicked.connect(lambda tid, s: self.rate([tid], s))
        self.view.customContextMenuRequested.connect(self._library_menu)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._selection_changed())
        self.listener_box.activated.connect(self._listener_activated)
        self.import_cancel.clicked.connect(self.cancel_import)
        self.analysis_pause.toggled.connect(self._analysis_pause_toggled)
        self.analysis_cancel.clicked.connect(self._analysis_cancel)
        self._facets_timer = QTimer(self)
        self._facets_timer.setSingleShot(True)
        self._facets_timer.setInterval(400)
        self._facets_timer.timeout.connect(self._refresh_facets)
        m.orderApplied.connect(lambda: self._schedule_facets() if not self.sidebar._data else None)

    def _wire_cores(self) -> None:
        np_ = self.now_playing
        pb = self.playback
        np_.playPauseClicked.connect(self.toggle_play)
        np_.nextClicked.connect(self.next_track)
        np_.previousClicked.connect(self.previous_track)
        np_.seekRequested.connect(self.seek)
        np_.volumeChanged.connect(self._volume_changed)
        np_.muteToggled.connect(self._mute_toggled)
        np_.shuffleToggled.connect(self._shuffle_toggled)
        np_.repeatChanged.connect(self._repeat_changed)
        pb.ready.connect(self._playback_ready)
        if not pb.available:
            self._playback_ready(False)
        elif pb.player is None:
            np_.set_enabled_reason("Starting the audio output…", starting=True)
        pb.trackChanged.connect(self._track_changed)
        pb.stateChanged.connect(lambda st: np_.set_playing(st == "playing"))
        pb.positionChanged.connect(self._position_changed)
        pb.queueChanged.connect(self._queue_changed)
        pb.message.connect(self.notify)
        np_.set_volume(self.settings.volume, self.settings.muted)
        pb.set_volume(self.settings.volume)
        pb.set_muted(self.settings.muted)
        np_.set_shuffle(self.settings.shuffle)
        np_.set_repeat(self.settings.repeat)
        pb.set_shuffle(self.settings.shuffle)
        pb.set_repeat(self.settings.repeat)

        # up next / more like this
        un = self.up_next
        un.refreshClicked.connect(lambda: self.recs.refresh(force=True))
        un.list.playRequested.connect(self._play_up_next_row)
        un.list.removeRequested.connect(self._remove_up_next_rows)
        un.list.entries.moveRequested.connect(self._move_up_next)
        un.list.entries.idsDropped.connect(self._dropped_on_up_next)
        un.list.customContextMenuRequested.connect(lambda pos: self._entry_menu(un.list, pos, queue=True))
        ml = self.more_like
        ml.refreshClicked.connect(lambda: self.more_like_this(self.playback.current_track_id()
                                                              or self.view.current_track_id()))
        ml.list.playRequested.connect(lambda r: self._play_entry(ml.list.entries.entry(r)))
        ml.list.customContextMenuRequested.connect(lambda pos: self._entry_menu(ml.list, pos, queue=False))
        self.recs.upNextReady.connect(self._show_up_next)
        self.recs.moreLikeReady.connect(self._show_more_like)
        self.recs.message.connect(self.notify)
        if not self.recs.available:
            self.act_more_like.setEnabled(False)
            self.act_more_like.setToolTip(self.recs.reason)
            ml.refresh.setEnabled(False)
            ml.set_hint(self.recs.reason)
            self.act_refresh_recs.setEnabled(False)
        self._show_up_next()

        # mood
        mb = self.mood_box
        mb.set_weight(self.settings.mood_weight)
        self.recs.set_mood_weight(self.settings.mood_weight)
        mb.weightChanged.connect(self._mood_weight_changed)
        mb.toggled.connect(self.set_mood_enabled)
        self.act_mood.toggled.connect(self.set_mood_enabled)
        self.mood.started.connect(self._mood_started)
        self.mood.stopped.connect(self._mood_stopped)
        self.mood.moodChanged.connect(self._mood_changed)
        self.mood.frame.connect(mb.set_frame)
        self.mood.message.connect(self.notify)
        if not self.mood.available:
            mb.set_unavailable(self.mood.reason)
            self.act_mood.setEnabled(False)
            self.act_mood.setToolTip(self.mood.reason)

    def _restore_settings(self) -> None:
        s = self.settings
        geo = s.geometry
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1360, 820)
        for key, widget in (("window/splitter", self.splitter),):
            blob = s.blob(key)
            if blob is not None:
                widget.restoreState(blob)
        blob = s.blob("window/header")
        if blob is not None and s.qs.value("window/header_custom", False, bool):
            self.view.horizontalHeader().restoreState(blob)
            self.view.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
            self.view.auto_fit = False

    def save_settings(self) -> None:
        s = self.settings
        s.geometry = self.saveGeometry()
        s.set_blob("window/splitter", self.splitter.saveState())
        s.set_blob("window/header", self.view.horizontalHeader().saveState())
        s.qs.setValue("window/header_custom", not self.view.auto_fit)
        s.volume = self.now_playing.volume.value() / 100.0
        s.muted = self.now_playing.mute.isChecked()
        s.listener = self.user.name if self.user else ""
        s.mood_weight = self.mood_box.weight.value() / 50.0
        s.sync()

    # ------------------------------------------------------------------------------------------
    # notices and status
    def notify(self, text: str, level: str = "info", actions=None) -> None:
        """A readable, non-modal message (errors stay until dismissed)."""
        self.notices.show_notice(text, level, actions)
        if level in ("error", "warning"):
            self.statusBar().showMessage(text, 10000)

    def _update_counts(self, shown: int, total: int) -> None:
        if not self.model.is_loaded:
            return
        if total == 0:
            self.count_label.setText("No music yet")
        elif shown == total:
            self.count_label.setText(f"{total:,} songs")
        else:
            self.count_label.setText(f"{shown:,} of {total:,} songs")
        self._update_empty_hint()

    def _update_empty_hint(self) -> None:
        total, shown = self.model.total_count(), self.model.shown_count()
        if total == 0 and self.model.is_loaded:
            self.empty_hint.setText("<h2>Your library is empty</h2><p>Import a folder of music to get started "
                                    "(File ▸ Import folder…, Ctrl+O), or drop a folder onto this window.</p>")
        elif shown == 0 and self.model.is_loaded:
            q = self.search.text().strip()
            self.empty_hint.setText(f"<h3>No songs match “{q}”</h3>" if q else "<h3>Nothing here</h3>")
        else:
            self.empty_hint.setText("")
        empty = bool(self.empty_hint.text())
        self.empty_hint.setVisible(empty)
        self.view.setVisible(not empty)

    def _on_loaded(self) -> None:
        self._update_counts(self.model.shown_count(), self.model.total_count())
        self._refresh_facets()
        self._poll_analysis()
        self.recs.library_changed()

    # ------------------------------------------------------------------------------------------
    # search and browse
    def focus_search(self) -> None:
        self.search.setFocus(Qt.ShortcutFocusReason)
        self.search.selectAll()

    def _search_enter(self) -> None:
        self._search_timer.stop()
        self.model.set_query(self.search.text())
        self.view.setFocus()
        if self.model.rowCount() and not self.view.currentIndex().isValid():
            self.view.selectRow(0)

    def eventFilter(self, obj, ev):  # noqa: N802
        if obj is self.search and ev.type() == ev.Type.KeyPress:
            if ev.key() == Qt.Key_Escape:
                self._search_timer.stop()
                self.set_search("")
                self.view.setFocus()
                return True
            if ev.key() == Qt.Key_Down:
                self.view.setFocus()
                if self.model.rowCount():
                    self.view.selectRow(0)
                return True
        return super().eventFilter(obj, ev)

    def set_search(self, text: str) -> None:
        """Search now (tests and scripts; typing goes through a 120 ms debounce)."""
        self.search.blockSignals(True)
        self.search.setText(text)
        self.search.blockSignals(False)
        self.model.set_query(text)

    def _facet_chosen(self, facet) -> None:
        self.model.set_facet(facet)

    def _schedule_facets(self) -> None:
        if self.pools.synchronous:
            self._refresh_facets()
        else:
            self._facets_timer.start()

    def _refresh_facets(self) -> None:
        snap = self.model.snapshot
        self.pools.facets.submit(compute_facets, self.library, snap, on_result=self.sidebar.set_data,
                                 on_error=lambda e: None)

    # ------------------------------------------------------------------------------------------
    # listeners
    def _reload_listeners(self, select: str | None = None) -> None:
        users = self.library.users()
        box = self.listener_box
        box.blockSignals(True)
        box.clear()
        for u in users:
            box.addItem(star_icon(14), u.name, u.id)
        if users:
            box.insertSeparator(box.count())
        box.addItem(std("FileDialogNewFolder"), "Add listener…", ADD_LISTENER)
        chosen = None
        if select:
            chosen = next((u for u in users if u.name.casefold() == select.casefold()), None)
        if chosen is None and self.user is not None:
            chosen = next((u for u in users if u.id == self.user.id), None)
        if chosen is None and users:
            chosen = users[0]
        if chosen is not None:
            box.setCurrentIndex(box.findData(chosen.id))
        else:
            box.setCurrentIndex(-1)
            box.setPlaceholderText("No listener")
        box.blockSignals(False)
        if (chosen and (self.user is None or chosen.id != self.user.id)) or (chosen is None and self.user is not None):
            self._set_user(chosen)
        elif chosen is None:
            self.sidebar.set_listener_name(None)

    def _set_user(self, user) -> None:
        self.user = user
        self.settings.listener = user.name if user else ""
        self.sidebar.set_listener_name(user.name if user else None)
        self.model.set_user(user.id if user else None)
        self.playback.set_user(user.id if user else None)
        self.recs.set_user(user.id if user else None)
        if user is not None:
            self.notices.dismiss_matching("Choose who is listening")
        self.up_next.title.setText(f"Up next for {user.name}" if user else "Up next")
        self.listenerChanged.emit(user)
        self._schedule_facets()

    def _listener_activated(self, index: int) -> None:
        data = self.listener_box.itemData(index)
        if data == ADD_LISTENER:
            self._reload_listeners()  # put the combo back while the dialog is open
            self.ask_add_listener()
            return
        if data is None:
            return
        if self.user is None or self.user.id != data:
            self.switch_listener(self.listener_box.itemText(index))

    def switch_listener(self, name: str) -> None:
        from player.library import LibraryError

        try:
            user = self.library.user(name)
        except LibraryError as exc:
            self.notify(str(exc), "error")
            return
        self._reload_listeners(select=user.name)
        if self.user is None or self.user.id != user.id:
            self._set_user(user)
        self.statusBar().showMessage(f"Listening as {user.name}", 4000)

    def ask_add_listener(self) -> None:
        name, ok = QInputDialog.getText(self, "Add listener", "Name of the new listener:")
        if ok and name.strip():
            self.add_listener(name)

    def add_listener(self, name: str) -> None:
        """Add a listener and switch to them (the write runs in the DB pool)."""

        def done(user):
            self._reload_listeners(select=user.name)
            self.notify(f"Welcome, {user.name}! Rate a few songs (keys 1–5) and your Up next will follow your taste.",
                        "success")

        self.pools.db_write.submit(self.library.add_user, name, on_result=done,
                                   on_error=lambda e: self.notify(e.message, "error"))

    def _fill_listener_menu(self) -> None:
        m = self.listener_menu
        m.clear()
        for u in self.library.users():
            a = m.addAction(u.name)
            a.setCheckable(True)
            a.setChecked(self.user is not None and self.user.id == u.id)
            a.triggered.connect(lambda _c=False, n=u.name: self.switch_listener(n))
        m.addSeparator()
        m.addAction(self.act_add_listener)

    # ------------------------------------------------------------------------------------------
    # ratings
    def rate(self, track_ids: list[int], stars: int) -> None:
        """Rate tracks for the current listener: shown at once, saved in the DB pool, undone on error."""
        if not track_ids:
            return
        if self.user is None:
            self.notify("Choose who is listening before rating (a listener keeps their own stars).", "warning",
                        [("Add listener…", self.ask_add_listener)])
            return
        stars = int(stars)
        user_id = self.user.id
        before = {tid: self.model.stars_of(tid) for tid in track_ids}
        for tid in track_ids:
            self.model.set_stars_local(tid, stars)

        def job():
            for tid in track_ids:
                self.library.rate(user_id, tid, stars)
            return track_ids

        def ok(ids):
            for tid in ids:
                self.ratingSaved.emit(user_id, tid, stars)
            row = self.model.row_tuple(ids[0])
            what = f"“{row[TITLE]}”" if row and len(ids) == 1 else f"{len(ids)} songs"
            self.statusBar().showMessage(
                f"{what}: rating cleared" if stars == 0 else f"{what}: {'★' * stars} for {self.user.name if self.user else ''}",
                4000)
            self.recs.rating_changed(user_id)
            self._schedule_facets()

        def fail(err: WorkerError):
            if self.user is not None and self.user.id == user_id:
                for tid, s in before.items():
                    self.model.set_stars_local(tid, s)
            self.notify(f"The rating was not saved: {err.message}", "error")

        self.pools.db_write.submit(job, on_result=ok, on_error=fail)

    # ------------------------------------------------------------------------------------------
    # import
    def choose_import_folder(self) -> None:
        start = self.settings.qs.value("import/last", os.path.expanduser("~"))
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of music", str(start))
        if folder:
            self.settings.qs.setValue("import/last", folder)
            self.import_folders([folder])

    def import_folders(self, folders: list[str]) -> None:
        if self._import_worker is not None:
            self.notify("An import is already running; wait for it or stop it first.", "warning")
            return
        folders = [str(f) for f in folders]
        lib = self.library
        in_child = self.scan_in_child if self.scan_in_child is not None else not self.pools.synchronous

        def job(j, folders):
            if in_child:
                from player.ui.scan_process import scan_in_child

                return scan_in_child(j, lib.path, folders, workers=2)
            from player.library.scan import scan

            last = [0.0]

            def progress(done, total, path):
                t = time.monotonic()
                if t - last[0] >= 0.1 or done == total:
                    last[0] = t
                    j.progress((done, total, path))

            return scan(lib, folders, progress=progress, cancel=j.is_cancelled, workers=2)

        self.import_widget.setVisible(True)
        self.import_label.setText("Looking for music…")
        self.import_bar.setRange(0, 0)
        self.import_cancel.setEnabled(True)
        self._last_import_refresh = time.monotonic()
        self._import_started = time.monotonic()
        self._import_worker = self.pools.scan.submit(
            job, folders, job=True, on_progress=self._import_progress, on_result=self._import_done,
            on_error=self._import_failed, on_finished=self._import_finished)

    def _import_progress(self, value) -> None:
        done, total, path = value
        if total:
            self.import_bar.setRange(0, total)
            self.import_bar.setValue(done)
        self.import_label.setText(f"Importing {done:,} / {total:,}")
        self.import_label.setToolTip(path or "")
        now = time.monotonic()
        if now - self._last_import_refresh >= REFRESH_DURING_IMPORT_S and not self.pools.query.active:
            self._last_import_refresh = now
            self.model.refresh()

    def _import_done(self, report) -> None:
        self._last_report = report
        self.model.refresh()
        self._schedule_facets()
        failed = report.failed
        text = f"Import finished: {report.summary()}."
        actions = []
        if failed or report.folder_errors:
            n = len(failed) + len(report.folder_errors)
            text = (f"Import finished: {report.summary()}. {n} file{'s' if n != 1 else ''} could not be read — "
                    f"for example {os.path.basename(failed[0][0]) if failed else report.folder_errors[0][0]}: "
                    f"{failed[0][1] if failed else report.folder_errors[0][1]}.")
            actions.append(("Show details…", self.show_import_failures))
        self.notify(text, "warning" if failed else "success", actions)
        self.importFinished.emit(report)
        self.recs.library_changed()
        self._poll_analysis()
        if report.added or report.updated:
            self.start_analysis(quiet=True)

    def show_import_failures(self) -> FailureDialog | None:
        r = self._last_report
        if r is None:
            return None
        self._failure_dialog = FailureDialog(f"Import: {r.summary()}", r.failed, r.folder_errors, self)
        self._failure_dialog.show()
        return self._failure_dialog

    def _import_failed(self, err: WorkerError) -> None:
        self.notify(f"The import stopped: {err.message}", "error")

    def _import_finished(self) -> None:
        self._import_worker = None
        self.import_widget.setVisible(False)

    def cancel_import(self) -> None:
        if self._import_worker is not None:
            self._import_worker.cancel()
            self.import_label.setText("Stopping…")
            self.import_cancel.setEnabled(False)

    @property
    def importing(self) -> bool:
        return self._import_worker is not None

    def dragEnterEvent(self, ev):  # noqa: N802
        if ev.mimeData().hasUrls() and any(u.isLocalFile() and os.path.isdir(u.toLocalFile()) for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev):  # noqa: N802
        folders = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile() and os.path.isdir(u.toLocalFile())]
        if folders:
            self.import_folders(folders)
            ev.acceptProposedAction()

    # ------------------------------------------------------------------------------------------
    # analysis (through the adapter)
    def _setup_analysis(self) -> None:
        a = self.analysis
        a.on_progress = self._analysis_relay.emit  # from the service's listener thread: queued to ours
        self._analysis_relay.connect(self._analysis_progress)
        self._set_analysis_controls(False)
        if not a.available:
            self.act_analyse.setEnabled(False)
            self.act_analyse.setToolTip(a.reason)
        self._analysis_timer.start()

    _analysis_relay = Signal(object)
    _analysis_live = False

    def _set_analysis_controls(self, live: bool) -> None:
        self._analysis_live = live
        for w in (self.analysis_pause, self.analysis_cancel):
            w.setEnabled(live)
            w.setVisible(live)
        if not live:
            self.analysis_pause.blockSignals(True)
            self.analysis_pause.setChecked(False)
            self.analysis_pause.blockSignals(False)
            self.analysis_pause.setIcon(std("MediaPause"))
            self.analysis_pause.setToolTip("Pause analysis")

    def start_analysis(self, quiet: bool = False) -> None:
        """Analyse what is pending, in the analysis worker processes (never in this process)."""
        if not self.analysis.available:
            if not quiet:
                self.notify(self.analysis.reason, "info")
            return
        if self.analysis.running:
            return

        def started(p: aa.AnalysisProgress):
            if p.state == "idle":
                if not quiet:
                    self.statusBar().showMessage("Every song is analysed already.", 4000)
                return
            self._set_analysis_controls(True)
            self.analysis_widget.setVisible(True)
            self.analysis_bar.setVisible(True)
            self.analysis_bar.setRange(0, 0)
            self.analysis_label.setText(f"Starting analysis of {p.total:,} songs…")

        def failed(e: WorkerError):
            text = f"Songs cannot be analysed yet: {e.message}"
            if quiet and text == getattr(self, "_analysis_complaint", None):
                return  # said once already; "Analyse now" says it again
            self._analysis_complaint = text
            self.notify(text, "warning" if quiet else "error")

        self.pools.analysis.submit(self.analysis.start, on_result=started, on_error=failed)

    def _poll_analysis(self) -> None:
        if self._closing or self._analysis_live:
            return
        self.pools.analysis.submit(aa.counts, self.library, on_result=self._show_analysis_counts,
                                   on_error=lambda e: None)

    def _show_analysis_counts(self, c: aa.AnalysisCounts) -> None:
        if self._analysis_live:
            return
        if c.total == 0:
            self.analysis_widget.setVisible(False)
            return
        self.analysis_widget.setVisible(True)
        self.analysis_bar.setRange(0, max(1, c.total))
        self.analysis_bar.setValue(c.analysed + c.failed)
        self.analysis_bar.setVisible(c.pending > 0)  # a full bar says nothing
        text = f"Analysed {c.analysed:,} / {c.total:,}"
        if c.failed:
            text += f" · {c.failed:,} failed"
        self.analysis_label.setText(text)
        tip = "Analysis tags each song and finds its genre and its neighbours."
        if not self.analysis.available:
            tip += "\n" + (self.analysis.reason or "")
        elif c.pending:
            tip += f"\n{c.pending:,} songs wait (Library ▸ Analyse now)."
        self.analysis_label.setToolTip(tip)
        if c.analysed and c.analysed != getattr(self, "_last_analysed", None):
            self._last_analysed = c.analysed
            self.model.refresh_labels(delta=True)
            self._schedule_facets()

    def _analysis_progress(self, p: aa.AnalysisProgress) -> None:
        live = p.state in ("starting", "running", "paused")
        self._set_analysis_controls(live)
        self.analysis_widget.setVisible(True)
        self.analysis_bar.setVisible(live)
        if p.state == "starting":
            self.analysis_bar.setRange(0, 0)
            self.analysis_label.setText(f"Starting analysis of {p.total:,} songs (loading the models)…")
        else:
            self.analysis_bar.setRange(0, max(1, p.total))
            self.analysis_bar.setValue(min(p.done, max(1, p.total)))
        if p.state == "running":
            text = f"Analysing {p.done:,} / {p.total:,}"
            if p.rate:
                text += f" · {p.rate:.1f} songs/s · ETA {aa.eta_text(p.eta)}"
            self.analysis_label.setText(text)
        elif p.state == "paused":
            self.analysis_label.setText(f"Analysis paused at {p.done:,} / {p.total:,}")
        elif p.state == "finished":
            self.analysis_label.setText(f"Analysed {p.done - p.failed:,} new songs"
                                        + (f" · {p.failed:,} failed" if p.failed else ""))
        elif p.state == "cancelled":
            self.analysis_label.setText(f"Analysis stopped after {p.done:,} of {p.total:,} (done ones are kept)")
        elif p.state == "error":
            self.analysis_label.setText("Analysis stopped")
            self.notify(f"Analysis stopped: {p.message}", "error")
        if p.failed:
            self.analysis_label.setToolTip(f"{p.failed} song(s) could not be analysed; see Track details for why.")
        now = time.monotonic()
        if not live or now - getattr(self, "_last_label_refresh", 0.0) > 2.0:
            self._last_label_refresh = now
            self.model.refresh_labels(delta=True)
        if not live:
            self._schedule_facets()
            self.recs.library_changed()
            QTimer.singleShot(4000, self._poll_analysis)
        self.analysisProgress.emit(p)

    def _analysis_pause_toggled(self, paused: bool) -> None:
        try:
            self.analysis.pause() if paused else self.analysis.resume()
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Analysis: {exc}", "error")
        self.analysis_pause.setIcon(std("MediaPlay") if paused else std("MediaPause"))
        self.analysis_pause.setToolTip("Resume analysis" if paused else "Pause analysis")

    def _analysis_cancel(self) -> None:
        try:
            self.analysis.cancel()
        except Exception as exc:  # noqa: BLE001
            self.notify(f"Analysis: {exc}", "error")
        self.analysis_label.setText("Stopping analysis…")

    # ------------------------------------------------------------------------------------------
    # playback (through PlaybackController)
    def play_row(self, row: int) -> None:
        tid = self.model.track_id_at(row)
        if tid is not None:
            self.play_track(tid)

    def play_track(self, track_id: int, *, context: list[int] | None = None) -> None:
        if not self.playback.available:
            self.notify(self.playback.reason, "info")
            return
        if self.playback.player is None:
            self.statusBar().showMessage("The audio output is still starting; try again in a moment.", 3000)
            return
        row = self.model.row_tuple(track_id)
        if row is not None and row[6] != "ok":
            self.notify(f"“{row[TITLE]}” cannot be played: {row[7] or 'the file is missing'}", "warning")
            return
        self.playback.play_ids([track_id] if context is None else context,
                               0 if context is None else context.index(track_id))
        self.recs.refresh()

    def play_all_from_selection(self) -> None:
        ids = self.model.track_ids()
        cur = self.view.current_track_id()
        if cur is None or not ids:
            return
        i = ids.index(cur)
        self.play_track(cur, context=ids[i:i + 1000])

    def toggle_play(self) -> None:
        if not self.playback.available:
            self.notify(self.playback.reason, "info")
            return
        if self.playback.player is None:
            return
        if self.playback.current_track_id() is None:
            tid = self.view.current_track_id() or self.model.track_id_at(0)
            if tid is not None:
                self.play_track(tid)
            return
        self.playback.toggle()

    def pause(self) -> None:
        self.playback.pause()

    def stop(self) -> None:
        self.playback.stop()

    def next_track(self) -> None:
        self.playback.next()

    def previous_track(self) -> None:
        self.playback.previous()

    def seek(self, seconds: float) -> None:
        self.playback.seek(seconds)

    def seek_relative(self, delta: float) -> None:
        if self.playback.current_track_id() is not None:
            self.playback.seek(max(0.0, self.playback.position() + delta))

    def change_volume(self, delta: float) -> None:
        v = self.now_playing.volume.value() / 100.0 + delta
        self.now_playing.volume.setValue(int(round(max(0.0, min(1.0, v)) * 100)))

    def _volume_changed(self, v: float) -> None:
        self.playback.set_volume(v)
        self.settings.volume = v

    def _mute_toggled(self, on: bool) -> None:
        self.playback.set_muted(on)
        self.settings.muted = on

    def _shuffle_toggled(self, on: bool) -> None:
        self.playback.set_shuffle(on)
        self.settings.shuffle = on

    def _repeat_changed(self, mode: str) -> None:
        self.playback.set_repeat(mode)
        self.settings.repeat = mode

    def _playback_ready(self, ok: bool) -> None:
        pb = self.playback
        reason = None if ok else pb.reason
        self.now_playing.set_enabled_reason(reason)
        for a in (self.act_play, self.act_next, self.act_prev, self.act_fwd, self.act_back, self.act_play_next,
                  self.act_enqueue):
            a.setEnabled(ok)
            a.setToolTip(a.text().replace("&", "") if ok else reason)
        if not ok and reason:
            self.notify(reason, "warning")
        self._show_up_next()

    def _track_changed(self, track) -> None:
        np_ = self.now_playing
        if track is None:
            np_.set_track(None)
            self.model.set_current_track(None)
            self.setWindowTitle("Tastebuds")
        else:
            np_.set_track(track.title, track.artist, track.album, track.duration)
            self.model.set_current_track(track.id)
            self.setWindowTitle(f"{track.title} — {track.artist or 'Tastebuds'}")
            self.recs.track_changed(track.id)
        self._show_up_next()

    def _position_changed(self, pos: float, dur: float) -> None:
        self.now_playing.set_duration(dur)
        self.now_playing.set_position(pos)

    def _queue_changed(self) -> None:
        self._show_up_next()

    # up next
    def _show_up_next(self) -> None:
        if self.playback.player is not None:
            entries = self.playback.up_next_entries(self.recs.reasons)
        else:
            entries = self.recs.preview_entries()
        self.up_next.set_entries(entries)
        hint = None
        if not self.playback.available and not self.recs.available:
            hint = f"{self.playback.reason}\n{self.recs.reason}"
        elif not self.recs.available:
            hint = self.recs.reason
        elif self.user is None:
            hint = "Add a listener to get recommendations."
        elif not entries:
            hint = ("Play a song, or rate a few (keys 1–5): Up next fills with songs for "
                    f"{self.user.name}." if self.user else "")
        self.up_next.set_hint(hint)
        self.upNextChanged.emit()

    def _play_up_next_row(self, row: int) -> None:
        if self.playback.available:
            self.playback.play_up_next(row)
        else:
            e = self.up_next.list.entries.entry(row)
            if e is not None:
                self.play_track(e.track_id)

    def _remove_up_next_rows(self, rows: list[int]) -> None:
        if self.playback.available:
            self.playback.remove_up_next(rows)
        self._show_up_next()

    def _move_up_next(self, src: int, dst: int) -> None:
        if self.playback.available:
            self.playback.move_up_next(src, dst)
        self._show_up_next()

    def _dropped_on_up_next(self, ids: list[int], row: int) -> None:
        """Songs dragged from the library: at the top they play next, elsewhere after your picks."""
        if not self.playback.available or self.playback.player is None:
            return
        if row <= 0:
            self.playback.insert_next(ids)
        else:
            self.playback.enqueue(ids)
        self._show_up_next()

    def _play_entry(self, e: Entry | None) -> None:
        if e is not None:
            self.play_track(e.track_id)

    def play_selection_next(self) -> None:
        ids = self.view.selected_track_ids()
        if ids and self.playback.available:
            self.playback.insert_next(ids)
            self.statusBar().showMessage(f"{len(ids)} song{'s' if len(ids) > 1 else ''} will play next", 3000)

    def enqueue_selection(self) -> None:
        ids = self.view.selected_track_ids()
        if ids and self.playback.available:
            self.playback.enqueue(ids)

    def _show_more_like(self, title: str, entries: list) -> None:
        self.more_like.title.setText(f"More like “{title}”" if title else "More like this")
        self.more_like.set_entries(entries)
        self.more_like.set_hint(None if entries else "No similar songs yet: they appear once songs are analysed.")
        self.right_tabs.setCurrentWidget(self.more_like)
        self.moreLikeThisChanged.emit()

    def more_like_selection(self) -> None:
        self.more_like_this(self.view.current_track_id())

    def more_like_this(self, track_id: int | None) -> None:
        if track_id is None:
            return
        if not self.recs.available:
            self.notify(self.recs.reason, "info")
            return
        row = self.model.row_tuple(track_id)
        self.recs.more_like(track_id, row[TITLE] if row else str(track_id))

    # mood
    def set_mood_enabled(self, on: bool) -> None:
        self.mood_box.set_checked_silently(on)
        self.act_mood.blockSignals(True)
        self.act_mood.setChecked(on)
        self.act_mood.blockSignals(False)
        if on:
            self.mood_box.set_starting()
            self.mood.start()
        else:
            self.mood.stop()

    def _mood_started(self) -> None:
        self.mood_box.set_camera_on(True)
        self.camera_label.setVisible(True)

    def _mood_stopped(self, reason: str) -> None:
        self.mood_box.set_checked_silently(False)
        self.act_mood.blockSignals(True)
        self.act_mood.setChecked(False)
        self.act_mood.blockSignals(False)
        self.mood_box.set_camera_on(False)
        self.camera_label.setVisible(False)
        if reason:
            self.notify(reason, "warning")
        self.recs.set_mood(None)

    def _mood_changed(self, state) -> None:
        text, labels = self.mood.describe(state)
        self.mood_box.set_mood_text(text)
        self.recs.set_mood(labels)

    def _set_mood_policy(self, policy: str) -> None:
        self.settings.mood_policy = policy
        self.mood.set_policy(policy)

    def _fill_camera_menu(self) -> None:
        m = self.camera_menu
        m.clear()
        current = self.settings.camera
        for k in range(4):
            a = m.addAction(f"Camera {k}" + ("  (the usual built-in one)" if k == 0 else ""))
            a.setCheckable(True)
            a.setChecked(current == str(k))
            a.triggered.connect(lambda _c=False, k=k: self._choose_camera(str(k)))
        m.addSeparator()
        a = m.addAction("A video file instead (demo)…")
        a.triggered.connect(self._choose_camera_file)
        if not current.isdigit():
            a.setText(f"Video file: {os.path.basename(current)}")
            a.setCheckable(True)
            a.setChecked(True)

    def _choose_camera(self, spec: str) -> None:
        self.settings.camera = spec
        if self.mood.running:
            self.notify("The new camera is used the next time you switch the mood on.", "info")

    def _choose_camera_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A video or picture to use as the camera", "",
                                              "Videos and pictures (*.mp4 *.avi *.mkv *.webm *.mov *.jpg *.jpeg *.png)")
        if path:
            self._choose_camera(path)

    def _mood_weight_changed(self, w: float) -> None:
        self.settings.mood_weight = w
        if self.pools.synchronous:
            self.recs.set_mood_weight(w)
            return
        if not hasattr(self, "_weight_timer"):  # a drag sends many values: apply the last one
            self._weight_timer = QTimer(self)
            self._weight_timer.setSingleShot(True)
            self._weight_timer.setInterval(250)
            self._weight_timer.timeout.connect(lambda: self.recs.set_mood_weight(self.settings.mood_weight))
        self._weight_timer.start()

    # ------------------------------------------------------------------------------------------
    # menus and details
    def _selection_changed(self) -> None:
        if self._details is not None and self._details.isVisible():
            tid = self.view.current_track_id()
            if tid is not None and tid != self._details.track_id:
                self.show_details(tid)

    def _library_menu(self, pos) -> None:
        ix = self.view.indexAt(pos)
        if not ix.isValid():
            return
        tid = self.model.track_id_at(ix.row())
        if tid is None:
            return
        if tid not in self.view.selected_track_ids():
            self.view.selectRow(ix.row())
        ids = self.view.selected_track_ids()
        m = QMenu(self)
        a = m.addAction(std("MediaPlay"), "Play", lambda: self.play_track(tid))
        a.setEnabled(self.playback.available)
        a = m.addAction("Play all from here", self.play_all_from_selection)
        a.setEnabled(self.playback.available)
        m.addAction(self.act_play_next)
        m.addAction(self.act_enqueue)
        m.addSeparator()
        m.addAction(self.act_more_like)
        rate = m.addMenu(star_icon(14), "Rate")
        for k in range(5, 0, -1):
            rate.addAction("★" * k + "☆" * (5 - k) + f"   ({k})", lambda k=k: self.rate(ids, k))
        rate.addSeparator()
        rate.addAction("Clear rating   (0)", lambda: self.rate(ids, 0))
        m.addSeparator()
        m.addAction(self.act_details)
        m.addAction(std("DirOpenIcon"), "Show in folder", lambda: self._open_folder(tid))
        m.popup(self.view.viewport().mapToGlobal(pos))
        self._last_menu = m

    def _entry_menu(self, lst, pos, queue: bool) -> None:
        ix = lst.indexAt(pos)
        e = lst.entries.entry(ix.row()) if ix.isValid() else None
        if e is None:
            return
        m = QMenu(self)
        m.addAction(std("MediaPlay"), "Play now",
                    lambda: self._play_up_next_row(ix.row()) if queue else self._play_entry(e))
        if self.playback.available:
            m.addAction("Play next", lambda: self.playback.insert_next([e.track_id]))
        if queue and self.playback.available:
            m.addAction(std("TrashIcon"), "Remove from Up next", lambda: self._remove_up_next_rows(lst.selected_rows() or [ix.row()]))
        m.addAction(sparkle_icon(14), "More like this", lambda: self.more_like_this(e.track_id)).setEnabled(self.recs.available)
        m.addAction("Show in library", lambda: self.reveal_track(e.track_id))
        m.addAction("Track details…", lambda: self.show_details(e.track_id))
        m.popup(lst.viewport().mapToGlobal(pos))
        self._last_menu = m

    def reveal_track(self, track_id: int) -> None:
        if not self.view.select_track(track_id):
            self.sidebar.choose(None)
            self.set_search("")
            QTimer.singleShot(300, lambda: self.view.select_track(track_id))

    def _open_folder(self, track_id: int) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        row = self.model.row_tuple(track_id)
        if row:
            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(row[8])))

    def show_details_for_selection(self) -> None:
        tid = self.view.current_track_id()
        if tid is None and self.playback.current_track_id() is not None:
            tid = self.playback.current_track_id()
        if tid is not None:
            self.show_details(tid)

    def show_details(self, track_id: int) -> TrackDetails:
        if self._details is None:
            self._details = TrackDetails(self)
        d = self._details
        d.show_track(self.model.row_tuple(track_id), track_id)
        d.show()
        d.raise_()

        def ok_analysis(a, tid=track_id):
            if d.track_id == tid:
                d.set_analysis(a)

        def ok_spec(res, tid=track_id):
            if d.track_id == tid:
                d.set_spectrogram(*res)

        def bad_spec(err, tid=track_id):
            if d.track_id == tid:
                d.set_spectrogram_error(err.message)

        self.pools.query.submit(aa.track_analysis, self.library, track_id, on_result=ok_analysis,
                                on_error=lambda e: d.set_analysis_error(e.message))
        row = self.model.row_tuple(track_id)
        if row is None or row[6] != "ok":
            d.set_spectrogram_error("the file cannot be read" if row else "unknown track")
        else:
            self.pools.media.submit(mel_spectrogram_rgb, row[8], on_result=ok_spec, on_error=bad_spec)
        return d

    def _fill_device_menu(self) -> None:
        m = self.device_menu
        m.clear()
        devices, reason = self.playback.output_devices()
        current = self.settings.audio_device
        a = m.addAction("System default")
        a.setCheckable(True)
        a.setChecked(not current)
        a.triggered.connect(lambda: self._choose_device(""))
        for name in devices:
            a = m.addAction(name)
            a.setCheckable(True)
            a.setChecked(name == current)
            a.triggered.connect(lambda _c=False, n=name: self._choose_device(n))
        if reason:
            a = m.addAction(reason)
            a.setEnabled(False)

    def _choose_device(self, name: str) -> None:
        self.settings.audio_device = name
        msg = self.playback.set_device(name)
        if msg:
            self.notify(msg, "info")

    def _about(self) -> None:
        from player import __version__

        self.notify(f"Tastebuds {__version__}: a music player that listens to your music and learns your taste.",
                    "info")

    # ------------------------------------------------------------------------------------------
    def closeEvent(self, ev):  # noqa: N802
        self._closing = True
        try:
            self.save_settings()
        except Exception:  # noqa: BLE001 - never block closing on settings
            pass
        self._analysis_timer.stop()
        if self._import_worker is not None:
            self._import_worker.cancel()
        self.mood.shutdown()
        self.playback.close()
        try:
            self.analysis.close()
        except Exception:  # noqa: BLE001
            pass
        self.pools.shutdown(5000)
        super().closeEvent(ev)
