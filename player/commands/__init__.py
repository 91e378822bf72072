"""CLI subcommands, one module per area. Each module has ``register(subparsers, common)`` where
``common`` is the parent parser carrying ``--db``; handlers take ``(args) -> int`` and raise
:class:`player.commands.common.CliError` (or any :class:`player.errors.PlayerError`) for user mistakes.
Import ``CliError``, ``open_library``, ``db_path`` and ``safe_text`` from :mod:`player.commands.common` at
the top (the dependency runs cli → commands → common); print tags and paths through ``safe_text``.
Keep imports at the top of these modules light: heavy libraries are imported inside the handlers."""
