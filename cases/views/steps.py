"""The forms of the case's steps: each a GET form and a POST that calls the step's service."""

from django.http import Http404, HttpRequest, HttpResponse


def step(request: HttpRequest, number: str, name: str) -> HttpResponse:
    raise Http404  # built in issue 7
