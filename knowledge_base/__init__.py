"""Frequently asked questions: data files, validation and fuzzy matching.

Usable on its own: ``KnowledgeBase.from_dir("knowledge_base/data").decide("...", "ru")``.
"""

from knowledge_base.base import KnowledgeBase
from knowledge_base.errors import KnowledgeBaseError, LoadIssue
from knowledge_base.index import MatchParams
from knowledge_base.models import Decision, Entry, Match
from knowledge_base.normaliser import Normaliser

__all__ = [
    "Decision",
    "Entry",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "LoadIssue",
    "Match",
    "MatchParams",
    "Normaliser",
]
