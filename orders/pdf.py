"""Packing slips as PDF (the shared fpdf2 base is shopauto.pdf)."""

from django.utils.translation import gettext as _

from shopauto.pdf import Document, pdf_response


def packing_slips_pdf(orders, *, filename: str):
    pdf = Document().setup()
    for order in orders:
        pdf.add_page()
        pdf.font(16, bold=True)
        pdf.line_of_text(_("Packing slip %(number)s") % {"number": order.number}, height=10)
        pdf.font(10)
        pdf.address(order.shipping_address)
        pdf.ln(3)
        if order.po_number:
            pdf.line_of_text(_("PO number: %(po)s") % {"po": order.po_number})
        pdf.line_of_text(_("Placed: %(date)s") % {"date": order.placed_at.date().isoformat()})
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
    return pdf_response(pdf, filename=filename)
