"""Typeset texts we already evaluate as PDF and Word files, with real typesetters.

    python3 data/formats/make_formats.py [--pages-only]   # needs Debian's libreoffice-writer-nogui,
        # hyphen-en-us, texlive-latex-base, texlive-latex-recommended, lmodern and poppler-utils
        # (--pages-only: only pages.json, from the PDFs as they are)

Writes, beside this script (the outputs are committed, so neither tests nor CI need a typesetter):

- pak-us-diplomatic-relations.pdf / .docx   the article, from LibreOffice Writer: A5, justified and
                                            hyphenated, a running header (the title) and "Page N" footers
- encyclopedia-barcelonnette.pdf / .docx    the same way, with its section headings as Heading 1
- encyclopedia-rift-valley-fever.pdf        pdfLaTeX, two columns (article class, twocolumn): the title
                                            across both columns, running header and page number, TeX's
                                            hyphenation and its fi/fl ligatures (no ToUnicode entries
                                            for them, as pdfTeX writes by default)
- encyclopedia-rift-valley-fever.docx       LibreOffice, as the others

Each paragraph of the .txt becomes one paragraph; a short line without end punctuation, comma or bracket
becomes a heading (the first one the title). No word is changed: straight quotes and apostrophes are set
as such (LaTeX would curl them) and nothing is auto-corrected, so the questions written for the .txt
find their evidence in the typeset text. pages.json records, for each PDF, the pages on which sentences
start and end (read off the PDF with poppler's pdftotext, not with the reader under test).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
SOURCES = {
    "pak-us-diplomatic-relations": DATA / "pak-us-diplomatic-relations.txt",
    "encyclopedia-barcelonnette": DATA / "texts" / "encyclopedia-barcelonnette.txt",
    "encyclopedia-rift-valley-fever": DATA / "texts" / "encyclopedia-rift-valley-fever.txt",
}
LATEX = {"encyclopedia-rift-valley-fever"}       # typeset in two columns with pdfLaTeX (PDF only)


def paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def is_heading(paragraph: str) -> bool:
    return len(paragraph) < 70 and paragraph[-1] not in ".!?:;”\"'" and not re.search(r"[,()]", paragraph)


# ---------------------------------------------------------------- LibreOffice (flat ODT -> PDF, DOCX)

FODT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:meta><dc:title>{title}</dc:title></office:meta>
 <office:font-face-decls>
  <style:font-face style:name="DejaVu Serif" svg:font-family="'DejaVu Serif'" style:font-family-generic="roman"/>
  <style:font-face style:name="DejaVu Sans" svg:font-family="'DejaVu Sans'" style:font-family-generic="swiss"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:paragraph-properties fo:hyphenation-ladder-count="no-limit"/>
   <style:text-properties style:font-name="DejaVu Serif" fo:font-size="9.5pt" fo:language="en" fo:country="US"
    fo:hyphenate="true" fo:hyphenation-remain-char-count="2" fo:hyphenation-push-char-count="2"/>
  </style:default-style>
  <style:style style:name="Standard" style:family="paragraph" style:class="text"/>
  <style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph"
   style:parent-style-name="Standard" style:class="text">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0.2cm" fo:text-align="justify"/>
  </style:style>
  <style:style style:name="Title" style:family="paragraph" style:parent-style-name="Standard"
   style:next-style-name="Text_20_body" style:class="chapter">
   <style:paragraph-properties fo:margin-bottom="0.4cm" fo:text-align="center"/>
   <style:text-properties style:font-name="DejaVu Sans" fo:font-size="16pt" fo:font-weight="bold" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph"
   style:parent-style-name="Standard" style:next-style-name="Text_20_body" style:default-outline-level="1"
   style:class="text">
   <style:paragraph-properties fo:margin-top="0.3cm" fo:margin-bottom="0.15cm" fo:keep-with-next="always"/>
   <style:text-properties style:font-name="DejaVu Sans" fo:font-size="11pt" fo:font-weight="bold" fo:hyphenate="false"/>
  </style:style>
  <style:style style:name="Header" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
   <style:paragraph-properties fo:text-align="end"/>
   <style:text-properties fo:font-size="8pt" fo:font-style="italic"/>
  </style:style>
  <style:style style:name="Footer" style:family="paragraph" style:parent-style-name="Standard" style:class="extra">
   <style:paragraph-properties fo:text-align="center"/>
   <style:text-properties fo:font-size="8pt"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1">
   <style:page-layout-properties fo:page-width="14.8cm" fo:page-height="21cm" fo:margin-top="1.2cm"
    fo:margin-bottom="1.2cm" fo:margin-left="1.8cm" fo:margin-right="1.8cm"/>
   <style:header-style><style:header-footer-properties fo:min-height="0cm" fo:margin-bottom="0.4cm"/></style:header-style>
   <style:footer-style><style:header-footer-properties fo:min-height="0cm" fo:margin-top="0.4cm"/></style:footer-style>
  </style:page-layout>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1">
   <style:header><text:p text:style-name="Header">{title}</text:p></style:header>
   <style:footer><text:p text:style-name="Footer">Page <text:page-number text:select-page="current">1</text:page-number></text:p></style:footer>
  </style:master-page>
 </office:master-styles>
 <office:body><office:text>
{body}
 </office:text></office:body>
</office:document>
"""


def fodt(paras: list[str]) -> str:
    body = []
    for n, p in enumerate(paras):
        text = escape(p)
        if n == 0:
            body.append(f'  <text:p text:style-name="Title">{text}</text:p>')
        elif is_heading(p):
            body.append(f'  <text:h text:style-name="Heading_20_1" text:outline-level="1">{text}</text:h>')
        else:
            body.append(f'  <text:p text:style-name="Text_20_body">{text}</text:p>')
    return FODT.format(title=escape(paras[0]), body="\n".join(body))


def libreoffice(stem: str, paras: list[str], formats: list[str], work: Path) -> None:
    source = work / f"{stem}.fodt"
    source.write_text(fodt(paras), encoding="utf-8")
    for kind in formats:
        target = {"pdf": "pdf:writer_pdf_Export", "docx": "docx:MS Word 2007 XML"}[kind]
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{work}/profile",
                        "--convert-to", target, "--outdir", str(work), str(source)],
                       check=True, stdout=subprocess.DEVNULL)
        shutil.copyfile(work / f"{stem}.{kind}", HERE / f"{stem}.{kind}")


# ---------------------------------------------------------------- pdfLaTeX, two columns

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "%": r"\%", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "'": r"\textquotesingle{}", '"': r"\textquotedbl{}", "²": r"\textsuperscript{2}"}


def tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text).replace("--", "-{}-")


def latex(stem: str, paras: list[str], work: Path) -> None:
    lines = [r"\documentclass[10pt,a4paper,twocolumn]{article}", r"\usepackage[T1]{fontenc}",
             r"\usepackage[utf8]{inputenc}", r"\usepackage{lmodern}", r"\usepackage{textcomp}",
             r"\usepackage[margin=2cm]{geometry}", r"\pagestyle{myheadings}",
             rf"\markright{{{tex_escape(paras[0])}}}", r"\begin{document}",
             rf"\twocolumn[{{\centering\LARGE\bfseries {tex_escape(paras[0])}\par\bigskip}}]",
             r"\thispagestyle{myheadings}"]
    for p in paras[1:]:
        lines.append(rf"\section*{{{tex_escape(p)}}}" if is_heading(p) else tex_escape(p) + "\n")
    lines.append(r"\end{document}")
    (work / f"{stem}.tex").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for _ in range(2):
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{stem}.tex"], cwd=work,
                       check=True, stdout=subprocess.DEVNULL)
    shutil.copyfile(work / f"{stem}.pdf", HERE / f"{stem}.pdf")


# ---------------------------------------------------------------- known pages

def known_pages(stem: str, paras: list[str]) -> dict:
    """The pages on which sentences start and end, read with poppler's pdftotext (not the reader under
    test): {first words: [page, end page]} for each sentence whose first and last words are found on
    exactly one page each (a sentence with a word broken by a hyphen there is left out)."""
    pdf = HERE / f"{stem}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [" ".join(page.split()) for page in text.split("\f")]
    found = {}
    whole = " ".join(paras)
    for p in paras[1:]:
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z“\"])", p):
            words = sentence.split()
            if len(words) < 12:
                continue
            head, tail = " ".join(words[:6]), " ".join(words[-6:])
            starts = [n for n, page in enumerate(pages, 1) if head in page]
            ends = [n for n, page in enumerate(pages, 1) if tail in page]
            if len(starts) == 1 and len(ends) == 1 and whole.count(head) == 1 and whole.count(tail) == 1:
                found[head] = [starts[0], ends[0]]
    return {"pages": len([p for p in pages if p]), "sentences": found}


def main() -> int:
    missing = [tool for tool in ("soffice", "pdflatex", "pdftotext") if not shutil.which(tool)]
    if missing:
        print(f"make_formats: needs {', '.join(missing)} (see the docstring)", file=sys.stderr)
        return 1
    record = {}
    pages_only = "--pages-only" in sys.argv[1:]        # pages.json again, from the PDFs as they are
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for stem, source in SOURCES.items():
            paras = paragraphs(source)
            if pages_only:
                pass
            elif stem in LATEX:
                latex(stem, paras, work)
                libreoffice(stem, paras, ["docx"], work)
            else:
                libreoffice(stem, paras, ["pdf", "docx"], work)
            record[stem] = known_pages(stem, paras)
            print(f"{stem}: {record[stem]['pages']} pages")
    (HERE / "pages.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
