"""CLI subcommands, one module per area. Each module has ``register(subparsers, common)`` where
``common`` is the parent parser carrying ``--db``; handlers take ``(args) -> int`` and raise
:class:`player.cli.CliError` (or LibraryError/DatabaseError) for user mistakes. Keep imports at the top
of these modules light: heavy libraries are imported inside the handlers."""
