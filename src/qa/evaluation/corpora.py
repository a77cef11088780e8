"""The documents the evaluation asks questions of, each with its own index (built once, then reused).

SQuAD articles become text files (paragraphs in order, a blank line between); the varied texts in
data/texts/ are indexed as they are, and some of them (and the article) typeset as PDF and Word files too. Everything generated lives under eval/.work/ (not committed).
"""
from __future__ import annotations

from pathlib import Path

from ..config import PROJECT_ROOT
from ..indexing.store import Index, load_index
from .datasets import Row, Span
from .freshness import indexing_code_hash
from .squad import SquadArticle

WORK = PROJECT_ROOT / "eval" / ".work"
TEXTS = PROJECT_ROOT / "data" / "texts"
TEXT_SETS = PROJECT_ROOT / "eval" / "texts"
FORMATS = PROJECT_ROOT / "data" / "formats"
# question sets asked again of their document typeset as PDF and Word files (data/formats/README.md)
FORMAT_SETS = {"article-test": "pak-us-diplomatic-relations",
               "encyclopedia-barcelonnette": "encyclopedia-barcelonnette",
               "encyclopedia-rift-valley-fever": "encyclopedia-rift-valley-fever"}
FORMAT_SUFFIXES = (".pdf", ".docx")


def document_index(path: Path, folder: Path, log=lambda m: None) -> Index:
    """The index of one document, built if missing, if the document changed, or if the indexing code
    changed since it was built (a stamp beside it holds the code's hash); otherwise a no-op."""
    from ..indexing.build import build

    stamp = folder.with_name(folder.name + ".code")
    code = indexing_code_hash()
    force = not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != code
    build([path], folder, log=log, progress=False, force=force)
    stamp.write_text(code + "\n", encoding="utf-8")
    return load_index(folder)


def squad_document(article: SquadArticle, work: Path = WORK) -> Path:
    """The article as a text file (written only when its text changed)."""
    path = work / "squad" / f"{article.slug}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != article.text:
        path.write_text(article.text, encoding="utf-8")
    return path


def squad_index(article: SquadArticle, work: Path = WORK) -> Index:
    path = squad_document(article, work)
    return document_index(path, work / "squad" / f"{article.slug}.index")


def squad_rows(article: SquadArticle, index: Index) -> tuple[list[Row], list[list[Span]]]:
    """The article's questions as Q&A rows, with each answer's own span as the gold evidence."""
    source = index.manifest["sources"][0]["source"]
    rows, gold = [], []
    for q in article.questions:
        rows.append(Row(id=q.id, question=q.question, answers=[a.text for a in q.answers], evidence=[],
                        answerable=q.answerable, type="squad"))
        gold.append([Span(source, a.start, a.end) for a in q.answers])
    return rows, gold


def text_index(stem: str, work: Path = WORK) -> Index:
    """The index of data/texts/<stem>.txt."""
    return document_index(TEXTS / f"{stem}.txt", work / "texts" / f"{stem}.index")


def format_versions(dataset: Path) -> list[Path]:
    """The PDF and Word versions of the document a question set asks about, where there are some."""
    stem = FORMAT_SETS.get(Path(dataset).stem)
    return [FORMATS / f"{stem}{suffix}" for suffix in FORMAT_SUFFIXES if stem and (FORMATS / f"{stem}{suffix}").exists()]


def format_index(path: Path, work: Path = WORK) -> Index:
    """The index of one typeset version (data/formats/<name>)."""
    return document_index(path, work / "formats" / f"{path.name}.index")
