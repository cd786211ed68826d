"""NDX kernel: settings, platform database, errors, web layout, logging; and the app shell."""

__version__ = "0.1.0"
