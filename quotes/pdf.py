"""A quote version as a PDF (the shared fpdf2 Document)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _

from shopauto.pdf import Document

from .models import Quote, QuoteVersion


def quote_pdf_bytes(quote: Quote, version: QuoteVersion) -> bytes:
    pdf = Document().setup()
    pdf.add_page()
    pdf.font(16, bold=True)
    pdf.cell(0, 10, pdf.text(_("Quote %(number)s, version %(version)s") % {"number": quote.number,
                                                                          "version": version.number}),
             new_x="LMARGIN", new_y="NEXT")
    pdf.font(10)
    customer = quote.customer
    pdf.line_of_text(quote.company.name if quote.company_id else customer.display_name)
    pdf.line_of_text(customer.user.email)
    pdf.line_of_text(_("Valid until: %(date)s") % {"date": version.valid_until.date().isoformat()})
    if quote.needed_by:
        pdf.line_of_text(_("Needed by: %(date)s") % {"date": quote.needed_by.isoformat()})
    pdf.ln(4)
    widths = (35, 80, 20, 25, 25)
    pdf.font(10, bold=True)
    for width, title in zip(widths, (_("SKU"), _("Item"), _("Qty"), _("Unit price"), _("Total")), strict=True):
        pdf.cell(width, 7, pdf.text(title), border=1, align="L" if width in (35, 80) else "R")
    pdf.ln(7)
    pdf.font(10)
    for line in version.lines.all():
        pdf.cell(35, 7, pdf.text(line.sku), border=1)
        pdf.cell(80, 7, pdf.text(line.name[:45]), border=1)
        pdf.cell(20, 7, str(line.quantity), border=1, align="R")
        pdf.cell(25, 7, str(line.unit_price), border=1, align="R")
        pdf.cell(25, 7, str(line.line_total), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.font(10, bold=True)
    pdf.cell(160, 7, pdf.text(_("Subtotal (%(currency)s)") % {"currency": version.currency}), border=1, align="R")
    pdf.cell(25, 7, str(version.subtotal), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.font(10)
    shipping = (str(version.shipping) if version.shipping is not None
                else _("at the chosen shipping method's rate"))
    pdf.line_of_text(_("Shipping: %(shipping)s") % {"shipping": shipping})
    if version.note:
        pdf.ln(3)
        pdf.multi_cell(0, 5, pdf.text(version.note))
    return bytes(pdf.output())


def quote_pdf_response(quote: Quote, version: QuoteVersion) -> HttpResponse:
    response = HttpResponse(quote_pdf_bytes(quote, version), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{version.number}.pdf"'
    return response
