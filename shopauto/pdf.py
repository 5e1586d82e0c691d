"""The PDF base every document uses (fpdf2: pure Python, no system libraries)."""

from pathlib import Path

from django.http import HttpResponse
from fpdf import FPDF

# DejaVu covers Latin, Greek and Cyrillic; without it we fall back to a core font.
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class Document(FPDF):
    """An A4 page with a Unicode font when the system has one (`text()` degrades to
    Latin-1 otherwise, so a missing font never breaks a download)."""

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

    def line_of_text(self, value, *, height=5):
        self.cell(0, height, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def response(self, *, filename: str) -> HttpResponse:
        response = HttpResponse(bytes(self.output()), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response
