"""LaMP as a ``datasets`` builder: a face over :class:`lampkit.builders.lamp.Lamp`, where the code lives (so an
installed lampkit builds without this checkout). Build with ``lampkit build lamp``; see ``docs/lamp.md``."""

from lampkit.builders.lamp import Lamp

__all__ = ["Lamp"]
