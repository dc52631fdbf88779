"""The web console and REST API (`linkwatch serve`): FastAPI, server-rendered Jinja2 pages, vendored htmx."""
