"""The package logger: warnings and notes go to stderr through it, never print().

Levels: ``warn`` (something the user should act on), ``note`` (a decision
chromoflow made for the user, e.g. the fold scheme or the score column:
shown by default), ``info`` (details, shown with ``-v``).
"""

import logging

logger = logging.getLogger("chromoflow")
NOTE = 25
logging.addLevelName(NOTE, "note")


def warn(message: str) -> None:
    logger.warning(" ".join(str(message).split()))


def note(message: str) -> None:
    logger.log(NOTE, " ".join(str(message).split()))


def info(message: str) -> None:
    logger.info(" ".join(str(message).split()))
