"""Who handles which event.

Apps register handlers in their `handlers.py` (imported from their AppConfig.ready):

    @on("order.confirmed")
    def send_order_confirmation(event): ...

A pattern may end in `*` ("order.*", "*"). The handler's name (module.function unless
given) is its identity in the HandlerRun log, so keep it stable.
"""

from collections.abc import Callable
from fnmatch import fnmatchcase

Handler = Callable[..., None]

_handlers: dict[str, tuple[str, Handler]] = {}


def on(pattern: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        key = name or f"{func.__module__}.{func.__qualname__}"
        _handlers[key] = (pattern, func)
        return func

    return register


def handlers_for(event_name: str) -> list[tuple[str, Handler]]:
    """Handlers whose pattern matches, in a stable order (by handler name)."""
    return sorted(
        ((key, func) for key, (pattern, func) in _handlers.items() if fnmatchcase(event_name, pattern)),
        key=lambda item: item[0],
    )


def unregister(name: str) -> None:
    _handlers.pop(name, None)
