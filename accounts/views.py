from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from accounts.models import Project


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to their first project's traces, or explain that they have none."""
    project = Project.objects.visible_to(request.user).order_by("created_at", "id").first()
    if project:
        return redirect("traces:list", project_id=project.id)
    return render(request, "accounts/no_projects.html")
