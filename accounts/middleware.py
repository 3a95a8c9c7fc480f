from django.conf import settings
from django.utils import translation


class UserLanguageMiddleware:
    """Speak the signed-in user's language; others get the language cookie or zh-hans.

    The browser's Accept-Language is ignored on purpose: the office's system is
    Chinese unless a user chose English.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response

    @staticmethod
    def _language_for(request) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user.language
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        return chosen if chosen in supported else settings.LANGUAGE_CODE
