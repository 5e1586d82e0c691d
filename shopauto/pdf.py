"""The PDF base shared by packing slips, return labels, quotes and other printouts
(fpdf2: pure Python, no system libraries to install)."""

from pathlib import Path

from django.http import HttpResponse
from fpdf import FPDF

# DejaVu covers Latin, Greek and Cyrillic; without it we fall back to a core font.
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class Document(FPDF):
    """A page with a Unicode font when the system has one (`text()` degrades to Latin-1
    otherwise, so a missing font never breaks a download)."""

    def setup(self):
        if _FONT.exists():
            self.add_font("body", "", str(_FONT))
            self.add_font("body", "B", str(_FONT.with_name("DejaVuSans-Bold.ttf")))
            self.unicode = True
        else:
            self.unicode = False
        self.set_auto_page_break(auto=True, margin=15)
        return self

    def text(self, value) -> str:  # noqa: A003
        value = str(value)
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def font(self, size, bold=False):
        self.set_font("body" if self.unicode else "helvetica", "B" if bold else "", size)

    def line_of_text(self, value, *, height: float = 5):
        self.cell(0, height, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def address(self, address: dict | None):
        address = address or {}
        for line in (address.get("name"), address.get("line1"), address.get("line2"),
                     f"{address.get('postal_code', '')} {address.get('city', '')}", address.get("country")):
            if line and line.strip():
                self.line_of_text(line)

    def response(self, *, filename: str) -> HttpResponse:
        return pdf_response(self, filename=filename)


def pdf_response(pdf: FPDF, *, filename: str) -> HttpResponse:
    response = HttpResponse(bytes(pdf.output()), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
