"""analysis subcommands (filled in by the analysis issue)."""


def register(sub, common) -> None:
    pass
