"""LongLaMP as a ``datasets`` builder: a face over :class:`lampkit.builders.longlamp.LongLamp`, where the code lives
(so an installed lampkit builds without this checkout). Build with ``lampkit build longlamp``; see
``docs/longlamp.md``."""

from lampkit.builders.longlamp import LongLamp

__all__ = ["LongLamp"]
