"""recommend subcommands (filled in by the recommend issue)."""


def register(sub, common) -> None:
    pass
