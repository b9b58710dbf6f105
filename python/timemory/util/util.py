"""``timemory.util.util``: the decorators, under the module path the original API used."""

from ..bundle import auto_timer, auto_tuple, base_decorator, context, marker, rss_usage, timer

__all__ = ["auto_timer", "auto_tuple", "base_decorator", "context", "marker", "rss_usage", "timer"]
