"""mood subcommands (filled in by the mood issue)."""


def register(sub, common) -> None:
    pass
