"""`make bench`: top the development database up, then time the case screens in-process.

``topup`` adds only the demo cases that are missing; ``screens`` times the case list,
a case page and intake through Django's test ``Client`` (view, middleware, templates;
no network) and prints one ``bench: <name> <value> <unit>`` line per figure.
"""
