"""PDF rendering of report pages with WeasyPrint.

Reports are ordinary HTML documents (the same templates the browser shows) whose charts are
inline SVG, so the PDF needs no network and no JavaScript. Page size, margins and page numbers
come from :data:`PAGE_CSS`; Chinese and Japanese text uses Debian's Noto CJK fonts (without
``fonts-noto-cjk`` it would render as empty boxes).

>>> pdf = html_to_pdf("<h1>Plan</h1>")
>>> pdf[:5]
b'%PDF-'
"""

from __future__ import annotations

from typing import Any

PAGE_CSS = """
@page {
  size: A4;
  margin: 18mm 16mm 20mm 16mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #64748b; }
  @bottom-left { content: string(doctitle); font-size: 8pt; color: #64748b; }
}
h1 { string-set: doctitle content(); }
html { font-family: "Noto Sans CJK JP", "Noto Sans CJK SC", "DejaVu Sans", sans-serif; }
html:lang(zh) { font-family: "Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans", sans-serif; }
.screen-only { display: none !important; }
"""


def _document(html: str, base_url: str | None) -> Any:
    from weasyprint import CSS, HTML

    return HTML(string=html, base_url=base_url).render(stylesheets=[CSS(string=PAGE_CSS)])


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render an HTML document to PDF bytes (A4, numbered pages)."""
    pdf = _document(html, base_url).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def page_count(html: str, base_url: str | None = None) -> int:
    """How many A4 pages the document lays out into."""
    return len(_document(html, base_url).pages)
