"""The player's main window: it lays out the widgets and connects the controllers; the rules live in
the controllers (player/ui) and the cores (player/*).

Layout: toolbar (import, search, listener) · notices · sidebar | library table | Up next /
More like this + mood · now-playing bar · status bar (counts, import and analysis progress, camera).

Controllers, one per concern: :class:`BrowseController` (search, sidebar, counts),
:class:`ListenerController` (listeners, ratings), :class:`TransportController` (playing),
:class:`UpNextController` (Up next, More like this), :class:`ImportController`,
:class:`AnalysisController`, :class:`MoodPanelController`, :class:`LibraryMenus` (context menus) and
:class:`DetailsController`.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QSizePolicy, QSplitter, QTabWidget, QToolBar, QVBoxLayout, QWidget

from player import options as opt
from player.ui.actions import Actions, Menus, install_keys
from player.ui.album_grid import AlbumGrid, AlbumGridController
from player.ui.analysis_adapter import AnalysisControl
from player.ui.analysis_status import AnalysisController
from player.ui.browse import BrowseController, search_box
from player.ui.context import Services, WindowContext
from player.ui.cover_art import CoverLoader
from player.ui.desktop import DesktopController
from player.ui.details import DetailsController
from player.ui.dialogs import ShortcutsDialog
from player.ui.duplicates_view import DuplicatesController
from player.ui.first_run import FirstRun
from player.ui.icons import app_icon, sparkle_icon
from player.ui.import_status import ImportController
from player.ui.library_manage import RemoveFromLibrary
from player.ui.library_menu import LibraryMenus, MenuParts
from player.ui.levelling_menu import LevellingMenus
from player.ui.library_model import LibraryModel
from player.ui.library_view import LibraryView
from player.ui.listeners import ListenerController
from player.ui.mood_control import MoodController
from player.ui.mood_panel import MoodPanelController
from player.ui.notices import NoticeArea
from player.ui.nowplaying import NowPlayingBar
from player.ui.panels import ListPanel, MoodBox
from player.ui.playback import PlaybackController
from player.ui.playlists_panel import PlaylistsController, PlaylistView
from player.ui.radio_control import RadioBar, RadioController
from player.ui.recommend_control import RecommendController
from player.ui.settings import Settings
from player.ui.status_parts import AnalysisStatus, ImportStatus
from player.ui.sidebar import Sidebar
from player.ui.transport import APP_TITLE, TransportController
from player.ui.up_next import UpNextController
from player.ui.watch_control import WatchController
from player.ui.workers import Pools


def _on(action, fn) -> None:
    action.triggered.connect(lambda *_: fn())


def _vbox(widget: QWidget) -> QVBoxLayout:
    lay = QVBoxLayout(widget)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    return lay


class MainWindow(QMainWindow):
    """The window. ``synchronous=True`` runs every worker job at once (deterministic tests)."""

    def __init__(self, library, *, settings: Settings | None = None, pools: Pools | None = None,
                 synchronous: bool = False, audio_backend: str = "auto", mood_source: str | None = None,
                 parent=None):
        super().__init__(parent)
        self.library = library
        self.settings = settings or Settings()
        self.pools = pools or Pools(synchronous=synchronous, parent=self)
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setMinimumSize(900, 560)
        self.model = LibraryModel(library, self.pools, self)
        services = Services(library, self.pools, self.settings, self.model, self.notify,
                            lambda text, ms: self.statusBar().showMessage(text, ms))
        self._build_ui()
        self.actions = Actions(self)

        # the adapters to the cores
        self.playback = PlaybackController(services, audio_backend, self.settings[opt.OUTPUT_DEVICE], self)
        self.recs = RecommendController(services, self.playback, self)
        self.playback.refill = self.recs.refill_from_thread
        self.mood = MoodController(services, mood_source, self)
        self.analysis = AnalysisControl(library)
        self.ctx = WindowContext.of(services, playback=self.playback, recs=self.recs, mood=self.mood,
                                    analysis=self.analysis)
        self._build_controllers()
        self._build_menus()
        self._build_toolbar()
        self._wire()
        self.covers = CoverLoader(library, parent=self)
        self.now_playing.follow_covers(self.covers, self.playback.trackChanged)
        self.up_next.set_covers(self.covers)
        self.more_like.set_covers(self.covers)
        self.details.covers = self.covers
        self.album_grid = AlbumGrid(self.covers)
        self.view.parentWidget().layout().insertWidget(1, self.album_grid, 1)
        self.albums = AlbumGridController(self.ctx, self.view, self.album_grid, self)
        self.albums.install(self.menuBar(), self.menus.listener, self.toolbar)
        self._restore_settings()
        self.listeners.reload(select=self.settings[opt.LISTENER])
        self.model.reload(self.listeners.user_id)

    # ------------------------------------------------------------------------------------------
    # layout
    def _build_ui(self) -> None:
        central = QWidget()
        cl = _vbox(central)
        self.notices = NoticeArea(central)
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
        ml = _vbox(middle)
        ml.addWidget(self.view, 1)
        ml.addWidget(self.empty_hint, 1)
        self.playlist_view = PlaylistView()
        ml.addWidget(self.playlist_view, 1)

        right = QWidget()
        right.setObjectName("rightPanel")
        rl = _vbox(right)
        self.right_tabs = QTabWidget()
        self.right_tabs.setDocumentMode(True)
        self.up_next = ListPanel("Up next", reorderable=True)
        self.more_like = ListPanel("More like this", reorderable=False)
        self.more_like.refresh.setToolTip("Songs like the playing one")
        self.right_tabs.addTab(self.up_next, "Up next")
        self.right_tabs.addTab(self.more_like, sparkle_icon(14), "More like this")
        self.radio_bar = RadioBar()
        rl.addWidget(self.radio_bar)
        rl.addWidget(self.right_tabs, 1)
        self.mood_box = MoodBox()
        rl.addWidget(self.mood_box)
        right.setMinimumWidth(280)

        for k, (widget, stretch) in enumerate(((self.sidebar, 0), (middle, 1), (right, 0))):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(k, stretch)
        self.splitter.setSizes([210, 820, 340])
        cl.addWidget(self.splitter, 1)
        self.now_playing = NowPlayingBar()
        cl.addWidget(self.now_playing)
        self.setCentralWidget(central)
        self.notices.float_over(self.splitter)

        sb = self.statusBar()
        sb.setSizeGripEnabled(True)
        self.count_label = QLabel("Loading the library…")
        sb.addWidget(self.count_label)
        self.import_status = ImportStatus()
        sb.addPermanentWidget(self.import_status)
        self.analysis_status = AnalysisStatus()
        sb.addPermanentWidget(self.analysis_status)
        self.camera_label = QLabel("● Camera on")
        self.camera_label.setObjectName("cameraOn")
        self.camera_label.setToolTip("The camera is in use to read your mood. Turn the mood off to release it.")
        self.camera_label.setVisible(False)
        sb.addPermanentWidget(self.camera_label)
        self.search = search_box()

    def _build_controllers(self) -> None:
        ctx, a = self.ctx, self.actions
        self.browse = BrowseController(ctx, self.search, self.sidebar, self.view, self.count_label, self.empty_hint,
                                       self)
        self.listeners = ListenerController(ctx, self)
        self.transport = TransportController(ctx, self.now_playing, self.view, a.transport, self)
        self.queue = UpNextController(ctx, self.up_next, self.more_like, self.right_tabs, self.view, self)
        self.imports = ImportController(ctx, self.import_status, self)
        self.analysis_ctl = AnalysisController(ctx, self.analysis_status, self)
        self.mood_panel = MoodPanelController(ctx, self.mood_box, a.mood, self.camera_label, self)
        self.details = DetailsController(ctx, self.view, self)
        self.desktop = DesktopController(ctx, self.transport, self, parent=self)
        self.watching = WatchController(ctx, self.imports, self)
        self.removal = RemoveFromLibrary(ctx, self.view, self)
        parts = MenuParts(self.view, self.sidebar, a.play_next, a.enqueue, a.more_like, a.details, self.transport,
                          self.queue, self.listeners, self.details, self.browse)
        self.context_menus = LibraryMenus(ctx, parts, self)
        self.duplicates = DuplicatesController(ctx, a.duplicates, self.transport, self.context_menus, self.removal, self)
        self.first_run = FirstRun(ctx, self.imports, self)
        self.context_menus.song_entries.append(self.removal.add_to_menu)
        self.playlists = PlaylistsController(ctx, self.sidebar, self.playlist_view, [self.view, self.empty_hint], self)
        self.context_menus.song_entries.append(self.playlists.add_to_menu)
        self.playlists.watch_search(self.search)
        self.radio = RadioController(ctx, self.radio_bar, self)
        self.context_menus.song_entries.append(self.radio.song_menu)
        self.playlists.playlist_entries.append(self.radio.facet_menu)
        self.sidebar.customContextMenuRequested.connect(lambda pos: self.radio.sidebar_menu(self.sidebar, pos))
        self.listeners.ratingSaved.connect(self.radio.rated)

    def _build_menus(self) -> None:
        menus = Menus(self.menuBar(), self.actions)
        file_menu = self.menuBar().actions()[0].menu()
        file_menu.insertActions(self.actions.quit, self.playlists.file_actions(self))
        file_menu.insertSeparator(self.actions.quit)
        menus.device.aboutToShow.connect(lambda: self.transport.fill_device_menu(menus.device))
        self.levelling_menus = LevellingMenus(menus.levelling, menus.crossfade, self.playback, self.settings)
        menus.listener.aboutToShow.connect(lambda: self.listeners.fill_menu(menus.listener, self.actions.add_listener))
        self.act_policy = self.mood_panel.add_policy_actions(menus.mood)
        camera = menus.add_camera_menu()
        camera.aboutToShow.connect(lambda: self.mood_panel.fill_camera_menu(camera))
        playback_menu = self.menuBar().actions()[2].menu()
        together = playback_menu.addMenu("Listen &together")
        together.aboutToShow.connect(lambda: self.radio.fill_together_menu(together))
        self.together_menu = together
        menus.add_desktop_actions(self.desktop.notify_action, self.desktop.tray_action)
        self.menus = menus

    def _build_toolbar(self) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setFloatable(False)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.TopToolBarArea, tb)
        tb.addAction(self.actions.import_folder)
        tb.addAction(self.actions.stop)
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
        tb.addWidget(self.listeners.box)
        self.toolbar = tb

    # ------------------------------------------------------------------------------------------
    # wiring
    def _wire(self) -> None:
        a, t, q, b = self.actions, self.transport, self.queue, self.browse
        for action, fn in (
            (a.import_folder, self.imports.choose_folder), (a.quit, self.desktop.close_to_tray.quit),
            (a.import_files, self.imports.choose_files), (a.rescan, self.watching.rescan_all), (a.stop, t.stop), (a.find, b.focus_search),
            (a.play, t.toggle_play), (a.next, t.next_track), (a.previous, t.previous_track),
            (a.forward, lambda: t.seek_relative(5.0)), (a.back, lambda: t.seek_relative(-5.0)),
            (a.volume_up, lambda: t.change_volume(0.05)), (a.volume_down, lambda: t.change_volume(-0.05)),
            (a.mute, t.toggle_mute), (a.details, self.details.show_for_selection),
            (a.play_next, q.play_selection_next), (a.enqueue, q.enqueue_selection),
            (a.more_like, q.more_like_selection), (a.add_listener, self.listeners.ask_add),
            (a.analyse, self.analysis_ctl.start), (a.refresh_recs, self.recs.refresh),
            (a.shortcuts, lambda: ShortcutsDialog(self).show()), (a.about, self._about),
            (a.show_all, lambda: self.sidebar.choose(None)),
        ):
            _on(action, fn)
        self._keys = install_keys(self, t, [self.view, self.up_next.list, self.more_like.list, self.now_playing])

        m = self.model
        m.loaded.connect(self._loaded)
        m.failed.connect(lambda msg: self.notify(msg, "error"))
        v = self.view
        v.playRequested.connect(t.play_row)
        v.rateRequested.connect(self.listeners.rate)
        v.stars.rateClicked.connect(lambda tid, s: self.listeners.rate([tid], s))
        t.titleChanged.connect(self.setWindowTitle)
        q.playRequested.connect(t.play_track)

        lc = self.listeners
        lc.changed.connect(self._listener_changed)
        lc.ratingsChanged.connect(self.recs.rating_changed)
        lc.ratingsChanged.connect(b.schedule_facets)
        self.imports.finished.connect(self._imported)
        ac = self.analysis_ctl
        ac.labelsChanged.connect(b.schedule_facets)
        self.removal.removed.connect(lambda _n: b.schedule_facets())
        ac.ended.connect(self.recs.library_changed)
        for signal in (lc.ratingsChanged, ac.labelsChanged, ac.ended, self.imports.finished, m.loaded):
            signal.connect(self.playlists.library_changed)

        for core in (self.playback, self.recs, self.mood):
            core.message.connect(self.notify)
        self.recs.unavailable.connect(self._recommender_unavailable)
        if not self.recs.available:
            self._recommender_unavailable(self.recs.reason)
        q.show()
        self.desktop.start()
        self.watching.start()

    def _recommender_unavailable(self, reason: str) -> None:
        for action in (self.actions.more_like, self.actions.refresh_recs):
            action.setEnabled(False)
            action.setToolTip(reason)
        self.queue.recommender_unavailable(reason)

    def _loaded(self) -> None:
        self.browse.loaded()
        self.analysis_ctl.poll()
        self.recs.library_changed()

    def _listener_changed(self, user) -> None:
        uid = user.id if user else None
        self.sidebar.set_listener_name(user.name if user else None)
        self.model.set_user(uid)
        self.playback.set_user(uid)
        self.recs.set_user(uid)
        if user is not None:
            self.notices.dismiss_matching("Choose who is listening")
        self.queue.set_user(user)
        self.playlists.set_user(uid)
        self.browse.schedule_facets()

    def _imported(self, report) -> None:
        self.browse.schedule_facets()
        self.recs.library_changed()
        self.analysis_ctl.poll()
        if report.added or report.updated:
            self.analysis_ctl.start(quiet=True)

    # ------------------------------------------------------------------------------------------
    # settings
    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s[opt.GEOMETRY]
        if geometry:
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 820)
        if s[opt.SPLITTER]:
            self.splitter.restoreState(s[opt.SPLITTER])
        header = self.view.horizontalHeader()
        if s[opt.HEADER] and s[opt.HEADER_CUSTOM]:
            header.restoreState(s[opt.HEADER])
            header.setSortIndicator(-1, Qt.AscendingOrder)
            self.view.auto_fit = False

    def save_settings(self) -> None:
        s = self.settings
        s[opt.GEOMETRY] = bytes(self.saveGeometry())
        s[opt.SPLITTER] = bytes(self.splitter.saveState())
        s[opt.HEADER] = bytes(self.view.horizontalHeader().saveState())
        s[opt.HEADER_CUSTOM] = not self.view.auto_fit
        s[opt.LISTENER] = self.listeners.user.name if self.listeners.user else ""
        self.transport.save()
        self.mood_panel.save()
        s.sync()

    # ------------------------------------------------------------------------------------------
    def notify(self, text: str, level: str = "info", actions=None) -> None:
        """A readable, non-modal message (errors stay until dismissed)."""
        self.notices.show_notice(text, level, actions)
        if level in ("error", "warning"):
            self.statusBar().showMessage(text, 10000)

    def _about(self) -> None:
        from player import __version__

        self.notify(f"Tastebuds {__version__}: a music player that listens to your music and learns your taste.",
                    "info")

    @staticmethod
    def _folders(ev) -> list[str]:
        """The dropped folders and files (a file is imported on its own)."""
        md = ev.mimeData()
        return [u.toLocalFile() for u in md.urls() if u.isLocalFile() and os.path.exists(u.toLocalFile())] \
            if md.hasUrls() else []

    def dragEnterEvent(self, ev):  # noqa: N802
        if self._folders(ev):
            ev.acceptProposedAction()

    def dropEvent(self, ev):  # noqa: N802
        folders = self._folders(ev)
        if folders:
            self.imports.import_paths(folders)
            ev.acceptProposedAction()

    def closeEvent(self, ev):  # noqa: N802
        try:
            self.save_settings()
        except Exception:  # noqa: BLE001 - never block closing on settings
            pass
        self.queue.save_queue(now=True)
        self.imports.cancel()
        self.desktop.stop()
        self.watching.stop()
        self.mood.shutdown()
        self.covers.shutdown()
        self.playback.close()
        self.analysis_ctl.close()
        self.pools.shutdown(5000)
        super().closeEvent(ev)
