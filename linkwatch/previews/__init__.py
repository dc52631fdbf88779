"""Pure liveness logic: which public preview to ask for a link, and how to read its answer."""

from linkwatch.previews.preview import Preview, clean_text
from linkwatch.previews.targets import Bases, Target, parse_response, target_for

__all__ = ["Bases", "Preview", "Target", "clean_text", "parse_response", "target_for"]
