"""The card types and components Metaflow's own test suite uses
(``metaflow.plugins.cards.card_modules.test_cards``), written from their observable
behaviour: each renders plain text the suite's checkers compare exactly."""

from __future__ import annotations

import hashlib
import json
import random
import string
import time

from .card import MetaflowCard
from .components import MetaflowCardComponent

SEPARATOR = "$&#!!@*"


class TestStringComponent(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, text):
        self._text = text

    def render(self):
        return str(self._text)

    def update(self, text):
        self._text = text


class TestJSONComponent(MetaflowCardComponent):
    REALTIME_UPDATABLE = True

    def __init__(self, data):
        self._data = data

    def render(self):
        try:
            json.dumps(self._data)
        except (TypeError, ValueError):
            return None
        return self._data

    def update(self, data):
        self._data = data


def _component_values_to_hash(components: dict) -> str:
    joined = ",".join("".join(item) for value in components.values() for item in value)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


class TestPathSpecCard(MetaflowCard):
    type = "test_pathspec_card"

    def render(self, task):
        suffix = "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        return f"{task.pathspec} {suffix}"


class _JoinedComponents(MetaflowCard):
    def __init__(self, options=None, components=None, **kwargs):
        self._components = list(components or [])

    def render(self, task):
        return SEPARATOR.join(str(c) for c in self._components)


class TestEditableCard(_JoinedComponents):
    type = "test_editable_card"
    ALLOW_USER_COMPONENTS = True


class TestEditableCard2(_JoinedComponents):
    type = "test_editable_card_2"
    ALLOW_USER_COMPONENTS = True


class TestNonEditableCard(_JoinedComponents):
    type = "test_non_editable_card"


class TestMockCard(MetaflowCard):
    type = "test_mock_card"

    def __init__(self, options=None, **kwargs):
        self._key = (options or {}).get("key", "dummy_key")

    def render(self, task):
        return "%s" % task[self._key].data


class TestErrorCard(MetaflowCard):
    type = "test_error_card"

    def render(self, task):
        raise Exception("Unknown Things Happened")


class TestTimeoutCard(MetaflowCard):
    type = "test_timeout_card"

    def __init__(self, options=None, **kwargs):
        self._timeout = (options or {}).get("timeout", 10)

    def render(self, task):
        time.sleep(self._timeout)
        return "%s" % task.pathspec


REFRESHABLE_HTML = """<html>
<script>
var METAFLOW_RELOAD_TOKEN = "[METAFLOW_RELOAD_TOKEN]"
</script>
<h1>[PATHSPEC]</h1>
<h1>[REPLACE_CONTENT_HERE]</h1>
</html>
"""


class TestRefreshCard(MetaflowCard):
    type = "test_refresh_card"
    RUNTIME_UPDATABLE = True
    ALLOW_USER_COMPONENTS = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ALWAYS

    def render(self, task):
        return self._page(task, self.runtime_data or {"user": {}})

    def _page(self, task, data):
        return REFRESHABLE_HTML.replace("[REPLACE_CONTENT_HERE]", json.dumps(data.get("user"))) \
            .replace("[PATHSPEC]", task.pathspec)

    def render_runtime(self, task, data):
        return self._page(task, data)

    def refresh(self, task, data):
        return data


class TestRefreshComponentCard(MetaflowCard):
    type = "test_component_refresh_card"
    RUNTIME_UPDATABLE = True
    ALLOW_USER_COMPONENTS = True
    RELOAD_POLICY = MetaflowCard.RELOAD_POLICY_ONCHANGE

    def __init__(self, options=None, components=None, **kwargs):
        self._components = list(components or [])

    def render(self, task):
        return REFRESHABLE_HTML.replace("[REPLACE_CONTENT_HERE]", json.dumps(self._components)) \
            .replace("[PATHSPEC]", task.pathspec)

    def render_runtime(self, task, data):
        return self.render(task)

    def refresh(self, task, data):
        return data["components"]

    def reload_content_token(self, task, data):
        if task.finished:
            return "final"
        return "runtime-%s" % _component_values_to_hash(data["components"])


class TestImageCard(MetaflowCard):
    type = "test_image_card"

    def render(self, task):
        import base64

        png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABRDE8UwAAAABJRU5ErkJggg==")
        return f"<html><img src='data:image/png;base64,{base64.b64encode(png).decode()}' /></html>"


CARDS = (TestPathSpecCard, TestEditableCard, TestEditableCard2, TestNonEditableCard, TestMockCard, TestErrorCard,
         TestTimeoutCard, TestRefreshCard, TestRefreshComponentCard, TestImageCard)
