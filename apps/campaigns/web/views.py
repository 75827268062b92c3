"""Web pages of the campaigns app: for now one page that says what is coming."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.web.decorators import scope_required


@scope_required()
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/index.html")
