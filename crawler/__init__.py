"""linkwatch: finds advertised open-channel invite links on public forums (crawler side)."""

__version__ = "0.1.0"
