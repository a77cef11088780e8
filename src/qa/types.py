"""Plain value types that carry offsets from the file to the answer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Sentence:
    id: int
    source: str          # source path as recorded in the manifest
    start: int           # character offsets into the file as stored
    end: int
    text: str            # the file's text between start and end, exactly
    entities: list = field(default_factory=list)   # [label, start, end] relative to `text`
    chunks: list = field(default_factory=list)     # ids of chunks holding this sentence


@dataclass
class Chunk:
    id: int
    source: str
    first: int           # first and last sentence id (inclusive)
    last: int
    start: int
    end: int
    tokens: int


@dataclass
class Citation:
    n: int
    source: str
    sentence: int
    start: int
    end: int
    text: str
    before: str = ""     # neighbouring sentences, for showing the citation in context
    after: str = ""
    page: int | None = None        # PDF: the 1-based page where the sentence starts ...
    end_page: int | None = None    # ... and where it ends (the same page unless it crosses a page break)
    heading: str | None = None     # DOCX: the nearest heading before the sentence

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Passage:
    source: str
    start: int
    end: int
    text: str
    score: float

    def to_dict(self) -> dict:
        return asdict(self)


TIERS = ("confident", "unsure", "none")


@dataclass
class Answer:
    """An answer, or an abstention. `tier` says how far to trust it: "confident" (the answer model's
    probability is at or above its confident threshold, chosen so that such answers were right at least 90%
    of the time on validation sets), "unsure" (an answer with its span and citations, marked as such: the
    document may answer this), or "none" (abstained: the document does not say)."""
    question: str
    answer: str
    abstained: bool
    confidence: float
    tier: str = "none"
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    answer_source: str | None = None   # where the short answer lies in its file
    answer_start: int | None = None
    answer_end: int | None = None
    resolved_question: str | None = None   # the question as understood, after follow-up resolution
    id: str | None = None
    signals: dict = field(default_factory=dict)   # what the confidence was computed from (not serialised)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "tier": self.tier,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "answer_source": self.answer_source,
            "answer_start": self.answer_start,
            "answer_end": self.answer_end,
            "resolved_question": self.resolved_question,
        }
