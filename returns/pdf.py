"""The return label and packing slip (one PDF, two parts) given on approval."""

from django.utils.translation import gettext as _

from shopauto.pdf import Document, pdf_response


def return_label_pdf(request, *, policy):
    pdf = Document().setup()
    pdf.add_page()
    # The label: cut along the frame and stick it on the parcel.
    pdf.set_line_width(0.6)
    pdf.rect(10, 10, 190, 95)
    pdf.set_xy(15, 15)
    pdf.font(9)
    pdf.line_of_text(_("RETURN TO"))
    pdf.font(14, bold=True)
    for line in (policy.return_address or "").splitlines():
        pdf.set_x(15)
        pdf.line_of_text(line, height=7)
    pdf.set_xy(15, 60)
    pdf.font(9)
    pdf.line_of_text(_("FROM"))
    pdf.font(10)
    address = request.order.shipping_address or {}
    for line in (address.get("name"), address.get("line1"),
                 f"{address.get('postal_code', '')} {address.get('city', '')} {address.get('country', '')}"):
        if line and line.strip():
            pdf.set_x(15)
            pdf.line_of_text(line)
    pdf.set_xy(110, 60)
    pdf.font(22, bold=True)
    pdf.cell(85, 14, pdf.text(request.rma), border=1, align="C")
    pdf.set_xy(10, 112)
    # The packing slip: goes inside the parcel.
    pdf.font(16, bold=True)
    pdf.line_of_text(_("Return packing slip %(rma)s") % {"rma": request.rma}, height=10)
    pdf.font(10)
    pdf.line_of_text(_("Order %(number)s · reason: %(reason)s · wanted: %(resolution)s")
                     % {"number": request.order.number, "reason": request.get_reason_display(),
                        "resolution": request.get_resolution_display()})
    pdf.ln(3)
    pdf.font(10, bold=True)
    pdf.cell(40, 7, pdf.text(_("SKU")), border=1)
    pdf.cell(120, 7, pdf.text(_("Item")), border=1)
    pdf.cell(25, 7, pdf.text(_("Qty")), border=1, new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.font(10)
    for line in request.lines.all():
        pdf.cell(40, 7, pdf.text(line.sku), border=1)
        pdf.cell(120, 7, pdf.text(line.name[:70]), border=1)
        pdf.cell(25, 7, str(line.quantity), border=1, new_x="LMARGIN", new_y="NEXT", align="R")
    pdf.ln(5)
    pdf.font(11, bold=True)
    pdf.line_of_text(_("How to send it back"))
    pdf.font(10)
    pdf.multi_cell(0, 5, pdf.text(policy.instructions or ""))
    return pdf_response(pdf, filename=f"return-{request.rma}.pdf")
