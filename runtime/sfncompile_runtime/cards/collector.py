"""``current.card``: the step's cards and the components appended to them.

Which card ``current.card.append`` reaches follows Metaflow's rules:
only cards whose type allows user components are editable; one editable card
is the default whatever its id; among several, the one marked
``customize=True``, else the only one without an id; otherwise ``append``
warns and does nothing. ``current.card[id]`` reaches any card by its id.
Nothing here ever raises into the user's step: problems are warnings.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from dataclasses import dataclass, field

from .components import MetaflowCardComponent, render_component


@dataclass
class CardSpec:
    """One ``@card`` of the step, with Metaflow's defaults."""

    type: str = "default"
    id: str | None = None
    options: dict = field(default_factory=dict)
    timeout: float = 45
    save_errors: bool = True
    customize: bool = False
    refresh_interval: float = 5
    hash: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def from_args(cls, args: dict) -> "CardSpec":
        args = dict(args or {})
        try:
            timeout = float(args.get("timeout", 45))
        except (TypeError, ValueError):
            timeout = 45.0
        return cls(type=str(args.get("type") or "default"), id=args.get("id") or None,
                   options=dict(args.get("options") or {}), timeout=timeout,
                   save_errors=bool(args.get("save_errors", True)), customize=bool(args.get("customize", False)),
                   refresh_interval=float(args.get("refresh_interval", 5) or 5))

    @property
    def card_class(self):
        from .card import card_class

        return card_class(self.type)

    @property
    def editable(self) -> bool:
        cls = self.card_class
        return bool(cls is not None and cls.ALLOW_USER_COMPONENTS)


def _warn(message: str) -> None:
    if os.environ.get("METAFLOW_CARD_NO_WARNING", "").lower() in ("1", "true", "yes"):
        return
    print(f"@card WARNING: {message}", file=sys.stderr)


class CardComponentManager:
    """The components of one card: ``append``/``extend``/``clear``/``refresh``,
    ``[component_id]`` for a component appended with ``id=``."""

    def __init__(self, spec: CardSpec, collector: "CardComponentCollector", components=None):
        self._spec = spec
        self._collector = collector
        self._components: dict[str, object] = {}
        self._auto = 0
        self.component_update_ts = time.time()
        self._user_data: dict = {}
        for component in components or []:
            self.append(component)

    # the list-like surface
    def append(self, component, id=None):
        if id is None:
            self._auto += 1
            id = f"_auto_{self._auto}"
        if id in self._components:
            _warn(f"a component with id '{id}' is already on this card; use .update() on it instead")
            return
        self._components[str(id)] = component
        self.component_update_ts = time.time()

    def extend(self, components):
        for component in components:
            self.append(component)

    def clear(self):
        self._components.clear()
        self.component_update_ts = time.time()

    def __iter__(self):
        return iter(list(self._components.values()))

    def __len__(self):
        return len(self._components)

    def __getitem__(self, key):
        return self._components[key]

    def __setitem__(self, key, component):
        self._components[str(key)] = component
        self.component_update_ts = time.time()

    def __contains__(self, key):
        return key in self._components

    def keys(self):
        return list(self._components)

    def values(self):
        return list(self._components.values())

    @property
    def components(self):
        return self

    def serialised(self) -> list:
        """What the card type's constructor receives: each valid component rendered (str or dict)."""
        out = []
        for component in self._components.values():
            rendered = render_component(component)
            if rendered is not None:
                out.append(rendered)
        return out

    def latest_data(self, final: bool = False) -> dict:
        components = {}
        for key, component in self._components.items():
            if isinstance(component, MetaflowCardComponent) and component.REALTIME_UPDATABLE:
                try:
                    components[key] = component.render()
                except Exception:
                    continue
        return {"mode": "final" if final else "runtime", "component_update_ts": self.component_update_ts,
                "components": components, "render_seq": self._collector._render_seq, "user": self._user_data}

    def refresh(self, data=None, force: bool = False):
        if data is not None:
            self._user_data = data
        self._collector._refresh(self, force=force)


class CardComponentCollector:
    """``current.card``."""

    def __init__(self, specs: list[CardSpec]):
        self._specs = list(specs)
        self._managers = {s.hash: CardComponentManager(s, self) for s in self._specs}
        self._by_id: dict[str, str] = {}
        self._default: str | None = None
        self._warned: set = set()
        self._render_seq = 0
        self._last_refresh: dict[str, float] = {}
        self.task = None  # set by the runner: the object card types render from
        self.graph = None
        self.flow = None
        self._resolve()

    def _resolve(self):
        ids = [s.id for s in self._specs if s.id]
        for spec in self._specs:
            if spec.id and ids.count(spec.id) == 1:
                self._by_id[spec.id] = spec.hash
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            _warn(f"several @card decorators have the id {', '.join(duplicated)}: current.card['{duplicated[0]}'] "
                  "will not work")
        editable = [s for s in self._specs if s.editable]
        if not editable:
            return
        if len(editable) == 1:
            self._default = editable[0].hash
            return
        without_id = [s for s in editable if s.id is None]
        if len(without_id) == 1:
            self._default = without_id[0].hash
        customized = [s for s in editable if s.customize]
        if len(customized) > 1:
            _warn("several @card decorators have customize=True; current.card.append ignores them")
        elif len(customized) == 1:
            self._default = customized[0].hash

    # -- Metaflow's surface ---------------------------------------------------------
    def __getitem__(self, key):
        if key in self._by_id:
            return self._managers[self._by_id[key]]
        if key not in self._warned:
            self._warned.add(key)
            _warn(f"current.card['{key}'] is not present: give a @card the argument id='{key}' to use it; "
                  "what you append to it goes nowhere")
        return []

    def __setitem__(self, key, value):
        if key not in self._by_id:
            _warn(f"current.card['{key}'] is not present: give a @card the argument id='{key}'")
            return
        if not isinstance(value, list):
            _warn(f"current.card['{key}'] must be set to a list of card components")
            return
        spec_hash = self._by_id[key]
        spec = next(s for s in self._specs if s.hash == spec_hash)
        self._managers[spec_hash] = CardComponentManager(spec, self, value)

    def _default_manager(self, action: str):
        if self._default is None:
            if "default" not in self._warned:
                self._warned.add("default")
                if len(self._specs) == 1:
                    _warn(f"card of type '{self._specs[0].type}' is not an editable card: current.card.{action} "
                          "has no effect (use @card(type='blank') or 'default', or current.card[id])")
                else:
                    _warn(f"current.card.{action} cannot tell which of the step's editable cards to use: "
                          "give one of them customize=True, or use current.card[id]")
            return None
        return self._managers[self._default]

    def append(self, component, id=None):
        manager = self._default_manager("append")
        if manager is not None:
            manager.append(component, id=id)

    def extend(self, components):
        manager = self._default_manager("extend")
        if manager is not None:
            manager.extend(components)

    def clear(self):
        if self._default is not None:
            self._managers[self._default].clear()

    @property
    def components(self):
        manager = self._default_manager("components")
        return manager if manager is not None else {}

    def refresh(self, data=None, force: bool = False):
        if self._default is not None:
            self._managers[self._default].refresh(data, force=force)

    def get(self, type=None):
        """The component lists of the step's cards of ``type``."""
        return [list(self._managers[s.hash]) for s in self._specs if s.type == type]

    # -- used by the runner ----------------------------------------------------------
    @property
    def specs(self) -> list[CardSpec]:
        return list(self._specs)

    def manager(self, spec: CardSpec) -> CardComponentManager:
        return self._managers[spec.hash]

    def _refresh(self, manager: CardComponentManager, force: bool = False):
        """Write the card's data (and, for a runtime-updatable type, its HTML) now,
        at most once a second unless forced. A failure is a warning, never the step's."""
        now = time.time()
        if not force and now - self._last_refresh.get(manager._spec.hash, 0) < 1.0:
            return
        self._last_refresh[manager._spec.hash] = now
        self._render_seq += 1
        try:
            from .render import write_runtime

            write_runtime(self, manager._spec)
        except Exception as exc:
            _warn(f"card refresh failed: {type(exc).__name__}: {exc}")
