"""Serves plotly.min.js straight from the installed plotly package.

The 4.8 MB file is not committed: runserver, the test server and collectstatic all find it
here, so the version always matches the plotly that builds our figures.
"""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"
VENDORED = {"vendor/plotly.min.js": "plotly.min.js"}


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PLOTLY_DIR))
        self.storage.prefix = "vendor"

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        name = VENDORED.get(path)
        if name is None:
            return [] if find_all else None
        match = str(PLOTLY_DIR / name)
        return [match] if find_all else match

    def list(self, ignore_patterns):
        for name in VENDORED.values():
            yield name, self.storage
