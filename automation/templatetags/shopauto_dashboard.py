from django import template

from automation.dashboard import dashboard_data

register = template.Library()


@register.inclusion_tag("admin/shopauto_dashboard.html", takes_context=True)
def shopauto_dashboard(context):
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return {"show": False}
    return {"show": True, **dashboard_data()}
