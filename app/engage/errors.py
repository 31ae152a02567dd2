"""Errors of the engage area::

    EngageError                  an engagement request cannot be done
    ├── InvalidAction            not a known ``kind:ref`` action name
    ├── SurveyError              a survey cannot be answered
    │   ├── SurveyUnknown        no survey file of that name
    │   ├── SurveyClosed         before ``opens_at`` or after ``closes_at``
    │   ├── AlreadyAnswered      the member already sent a response
    │   └── InvalidAnswers       answers break the definition (``errors`` maps ids to messages)
    ├── CodeError                a code cannot be redeemed
    │   ├── CodeMalformed        not 13 code characters, or the check character does not match
    │   ├── CodeUnknown          no issued code has this value
    │   ├── CodeExpired          the code's batch has expired
    │   ├── CodeUsedUp           every use of the code is taken
    │   ├── CodeAlreadyRedeemed  this member already redeemed this very code
    │   └── BatchAlreadyRedeemed this member already redeemed another code of the batch
    └── BatchError               a code batch cannot be issued (bad name, options that differ)

Every message is fit to show the person who asked.
"""

from __future__ import annotations


class EngageError(Exception):
    """Base class; ``str(error)`` is fit to show the person who asked."""


class InvalidAction(EngageError):
    pass


class SurveyError(EngageError):
    pass


class SurveyUnknown(SurveyError):
    pass


class SurveyClosed(SurveyError):
    pass


class AlreadyAnswered(SurveyError):
    pass


class InvalidAnswers(SurveyError):
    """``errors`` maps question ids to the message shown next to each question."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("Some answers need a second look.")


class CodeError(EngageError):
    pass


class CodeMalformed(CodeError):
    pass


class CodeUnknown(CodeError):
    pass


class CodeExpired(CodeError):
    pass


class CodeUsedUp(CodeError):
    pass


class CodeAlreadyRedeemed(CodeError):
    pass


class BatchAlreadyRedeemed(CodeError):
    pass


class BatchError(EngageError):
    pass
