"""Packing slips as PDF (fpdf2: pure Python, no system libraries to install)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _

from shopauto.pdf import Document


def packing_slips_pdf(orders, *, filename: str) -> HttpResponse:
    pdf = Document().setup()
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
    return pdf.response(filename=filename)
