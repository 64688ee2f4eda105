"""The package logger: warnings and notes go to stderr through it, never print()."""

import logging

logger = logging.getLogger("chromoflow")


def warn(message: str) -> None:
    logger.warning(" ".join(str(message).split()))


def info(message: str) -> None:
    logger.info(" ".join(str(message).split()))
