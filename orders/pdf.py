"""Packing slips as PDF (fpdf2: pure Python, no system libraries to install)."""

from pathlib import Path

from django.http import HttpResponse
from django.utils.translation import gettext as _
from fpdf import FPDF

# DejaVu covers Latin, Greek and Cyrillic; without it we fall back to a core font.
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class _Document(FPDF):
    def setup(self):
        if _FONT.exists():
            self.add_font("body", "", str(_FONT))
            self.add_font("body", "B", str(_FONT.with_name("DejaVuSans-Bold.ttf")))
            self.unicode = True
        else:
            self.unicode = False
        self.set_auto_page_break(auto=True, margin=15)

    def text(self, value) -> str:  # noqa: A003
        value = str(value)
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def font(self, size, bold=False):
        self.set_font("body" if self.unicode else "helvetica", "B" if bold else "", size)


def packing_slips_pdf(orders, *, filename: str) -> HttpResponse:
    pdf = _Document()
    pdf.setup()
    for order in orders:
        pdf.add_page()
        pdf.font(16, bold=True)
        pdf.cell(0, 10, pdf.text(_("Packing slip %(number)s") % {"number": order.number}), new_x="LMARGIN", new_y="NEXT")
        pdf.font(10)
        address = order.shipping_address or {}
        for line in (address.get("name"), address.get("line1"), address.get("line2"),
                     f"{address.get('postal_code', '')} {address.get('city', '')}", address.get("country")):
            if line and line.strip():
                pdf.cell(0, 5, pdf.text(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        if order.po_number:
            pdf.cell(0, 5, pdf.text(_("PO number: %(po)s") % {"po": order.po_number}), new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 5, pdf.text(_("Placed: %(date)s") % {"date": order.placed_at.date().isoformat()}),
                 new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.font(10, bold=True)
        pdf.cell(40, 7, pdf.text(_("SKU")), border=1)
        pdf.cell(120, 7, pdf.text(_("Item")), border=1)
        pdf.cell(25, 7, pdf.text(_("Qty")), border=1, new_x="LMARGIN", new_y="NEXT", align="R")
        pdf.font(10)
        for line in order.lines.all():
            pdf.cell(40, 7, pdf.text(line.sku), border=1)
            pdf.cell(120, 7, pdf.text(line.name[:70]), border=1)
            pdf.cell(25, 7, str(line.quantity), border=1, new_x="LMARGIN", new_y="NEXT", align="R")
    response = HttpResponse(bytes(pdf.output()), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
