"""docrelay: a document provider for Adobe Workfront's Document Webhooks API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("docrelay")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
