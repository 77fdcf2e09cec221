"""artforge studio: a web face over the pipelines, with accounts, a gallery and a REST API.

>>> from artforge.studio import StudioSettings, create_app
>>> # app = create_app(StudioSettings(data_dir="studio-data"))
"""

from .app import create_app, prepare
from .settings import StudioSettings

__all__ = ["StudioSettings", "create_app", "prepare"]
