"""The four verdicts a decision can reach."""

from __future__ import annotations

import enum

__all__ = ["Verdict"]


class Verdict(enum.Enum):
    MIGRATE = "migrate"
    MIGRATE_IF = "migrate-if"
    HOLD = "hold"
    DO_NOT_MIGRATE = "do-not-migrate"

    @property
    def words(self) -> str:
        return {
            "migrate": "Migrate",
            "migrate-if": "Migrate if",
            "hold": "Hold",
            "do-not-migrate": "Do not migrate",
        }[self.value]
