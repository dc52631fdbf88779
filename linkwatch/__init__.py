"""linkwatch: finds openly advertised invite links to group chats on public forums (the application)."""

__version__ = "0.1.0"
