"""Card components (Metaflow's names): each renders itself to an HTML fragment.

Every value that comes from the user (text, table cells, artifact reprs,
exception messages, labels) goes through ``html.escape`` here, so a card
never runs markup it did not make. Images are embedded as ``data:`` URIs and
charts as inline SVG: a card is one self-contained file, opened with no network.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time

ARTIFACT_REPR_LIMIT = 2000  # characters of repr() shown by Artifact (Metaflow truncates too)
TABLE_ROWS_LIMIT = 1000     # Table.from_dataframe(truncate=True) keeps this many rows


def esc(value) -> str:
    return html.escape(str(value), quote=True)


class MetaflowCardComponent:
    """Base of everything that can be appended to a card. ``render()`` returns a str."""

    REALTIME_UPDATABLE = False
    component_id = None

    def render(self):
        raise NotImplementedError

    def update(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} cannot be updated")


class UserComponent(MetaflowCardComponent):
    """Components Metaflow ships for users (Markdown, Table, ...)."""

    def __init__(self):
        self._updated_at = time.time()

    def _touch(self):
        self._updated_at = time.time()


def render_component(value) -> str | None:
    """HTML for a component; None for something that is not one or that fails to render
    (Metaflow drops those silently rather than failing the card)."""
    if not isinstance(value, MetaflowCardComponent):
        return None
    try:
        out = value.render()
    except Exception:
        return None
    if isinstance(out, str):
        return out
    if isinstance(out, dict):
        return f"<pre class='mf-json'>{esc(json.dumps(out, indent=1, default=str))}</pre>"
    return None


# -- Markdown (a small, safe subset: headings, emphasis, code, lists, links, rules) --------------

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/)", re.I)


def _inline(text: str) -> str:
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append(f"<code>{esc(part[1:-1])}</code>")
            continue
        piece = esc(part)
        piece = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", piece)
        piece = re.sub(r"__(.+?)__", r"<strong>\1</strong>", piece)
        piece = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", piece)

        def link(match):
            label, url = match.group(1), html.unescape(match.group(2))
            if not _SAFE_URL.match(url):
                return match.group(0)
            return f"<a href='{esc(url)}'>{label}</a>"

        out.append(_LINK.sub(link, piece))
    return "".join(out)


def markdown_to_html(source: str) -> str:
    lines = str(source).splitlines()
    out: list[str] = []
    para: list[str] = []
    list_kind = None
    in_code = False
    code: list[str] = []

    def flush_para():
        if para:
            out.append("<p>" + " ".join(_inline(p) for p in para) + "</p>")
            para.clear()

    def close_list():
        nonlocal list_kind
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = None

    for line in lines:
        if line.strip().startswith("```"):
            if in_code:
                out.append("<pre><code>" + esc("\n".join(code)) + "</code></pre>")
                code.clear()
                in_code = False
            else:
                flush_para()
                close_list()
                in_code = True
            continue
        if in_code:
            code.append(line)
            continue
        stripped = line.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        bullet = re.match(r"^[-*+]\s+(.*)$", stripped)
        number = re.match(r"^\d+[.)]\s+(.*)$", stripped)
        if not stripped:
            flush_para()
            close_list()
        elif heading:
            flush_para()
            close_list()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif re.match(r"^(-{3,}|\*{3,})$", stripped):
            flush_para()
            close_list()
            out.append("<hr>")
        elif bullet or number:
            flush_para()
            kind = "ul" if bullet else "ol"
            if list_kind != kind:
                close_list()
                out.append(f"<{kind}>")
                list_kind = kind
            out.append(f"<li>{_inline((bullet or number).group(1))}</li>")
        else:
            close_list()
            para.append(stripped)
    if in_code:
        out.append("<pre><code>" + esc("\n".join(code)) + "</code></pre>")
    flush_para()
    close_list()
    return "\n".join(out)


class Markdown(UserComponent):
    """``Markdown("# Title\\nsome *text*")``."""

    REALTIME_UPDATABLE = True

    def __init__(self, text=None):
        super().__init__()
        self._text = "" if text is None else str(text)

    def update(self, text=None):
        self._text = "" if text is None else str(text)
        self._touch()

    def render(self):
        return f"<div class='mf-markdown'>{markdown_to_html(self._text)}</div>"


# -- images ------------------------------------------------------------------------------------

def _image_mime(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _pil_to_png(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _figure_to_png(figure) -> bytes:
    import io

    if hasattr(figure, "get_figure") and not hasattr(figure, "savefig"):
        figure = figure.get_figure()  # an Axes
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _to_image_bytes(src) -> bytes:
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src)
    module = type(src).__module__ or ""
    if module.startswith("PIL.") or hasattr(src, "save") and hasattr(src, "mode") and hasattr(src, "size"):
        return _pil_to_png(src)
    if module.startswith("matplotlib.") or hasattr(src, "savefig"):
        return _figure_to_png(src)
    raise TypeError(f"Image needs bytes (PNG/JPEG/GIF/WebP), a PIL image or a matplotlib figure, "
                    f"got {type(src).__name__}")


class Image(UserComponent):
    """``Image(png_bytes, label=...)``, ``Image.from_pil_image(img)``, ``Image.from_matplotlib(fig)``."""

    REALTIME_UPDATABLE = True

    def __init__(self, src=None, label=None, disable_updates: bool = False):
        super().__init__()
        self._label = label
        self._error = None
        self._uri = None
        self._set(src)

    def _set(self, src):
        self._error = None
        self._uri = None
        if src is None:
            return
        try:
            data = _to_image_bytes(src)
            mime = _image_mime(data)
            if mime is None:
                raise TypeError("the bytes are not a PNG, JPEG, GIF or WebP image")
            self._uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        except Exception as exc:  # a card shows the problem; the task goes on
            self._error = f"{type(exc).__name__}: {exc}"

    @classmethod
    def from_pil_image(cls, pilimage, label=None, disable_updates: bool = False):
        return cls(pilimage, label=label)

    @classmethod
    def from_matplotlib(cls, plot, label=None, disable_updates: bool = False):
        return cls(plot, label=label)

    def update(self, image, label=None):
        self._set(image)
        if label is not None:
            self._label = label
        self._touch()

    def render(self):
        caption = f"<figcaption>{esc(self._label)}</figcaption>" if self._label else ""
        if self._error:
            return f"<figure class='mf-image mf-error'><pre>{esc(self._error)}</pre>{caption}</figure>"
        if not self._uri:
            return f"<figure class='mf-image'>{caption}</figure>"
        alt = esc(self._label or "image")
        return f"<figure class='mf-image'><img src='{self._uri}' alt='{alt}'>{caption}</figure>"


# -- tables ------------------------------------------------------------------------------------

def _cell(value) -> str:
    if isinstance(value, MetaflowCardComponent):
        rendered = render_component(value)
        return rendered if rendered is not None else ""
    return esc(value)


class Table(UserComponent):
    """``Table([[1, 2], [3, 4]], headers=["a", "b"])``; cells may be components."""

    REALTIME_UPDATABLE = True

    def __init__(self, data=None, headers=None, disable_updates: bool = False):
        super().__init__()
        self._headers = list(headers or [])
        self._data = [list(row) for row in (data or [])]

    @classmethod
    def from_dataframe(cls, dataframe=None, truncate: bool = True):
        if dataframe is None:
            return cls()
        frame = dataframe.head(TABLE_ROWS_LIMIT) if truncate else dataframe
        headers = [str(c) for c in frame.columns]
        rows = [list(row) for row in frame.itertuples(index=False, name=None)]
        return cls(rows, headers=headers)

    def update(self, data=None, headers=None):
        if data is not None:
            self._data = [list(row) for row in data]
        if headers is not None:
            self._headers = list(headers)
        self._touch()

    def update_cell(self, row: int, col: int, value):
        self._data[row][col] = value
        self._touch()

    def update_row(self, row: int, values):
        self._data[row] = list(values)
        self._touch()

    def add_row(self, values):
        self._data.append(list(values))
        self._touch()

    def render(self):
        head = ""
        if self._headers:
            head = "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in self._headers) + "</tr></thead>"
        body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in self._data)
        return f"<table class='mf-table'>{head}<tbody>{body}</tbody></table>"


# -- progress, artifacts, errors -----------------------------------------------------------------

class ProgressBar(UserComponent):
    """``ProgressBar(max=100, label="epochs", value=0, unit="%")``; ``update(value)``."""

    REALTIME_UPDATABLE = True

    def __init__(self, max: int = 100, label: str | None = None, value: int = 0, unit: str | None = None,
                 metadata: str | None = None):
        super().__init__()
        self._max = max
        self._label = label
        self._value = value
        self._unit = unit
        self._metadata = metadata

    def update(self, new_value: int, metadata: str | None = None):
        self._value = new_value
        if metadata is not None:
            self._metadata = metadata
        self._touch()

    def render(self):
        try:
            fraction = max(0.0, min(1.0, float(self._value) / float(self._max))) if self._max else 0.0
        except (TypeError, ValueError):
            fraction = 0.0
        unit = f" {esc(self._unit)}" if self._unit else ""
        label = f"<span class='mf-label'>{esc(self._label)}</span>" if self._label else ""
        meta = f"<span class='mf-meta'>{esc(self._metadata)}</span>" if self._metadata else ""
        return (f"<div class='mf-progress'>{label}<progress max='{esc(self._max)}' value='{esc(self._value)}'>"
                f"{fraction:.0%}</progress><span>{esc(self._value)} / {esc(self._max)}{unit}</span>{meta}</div>")


class Artifact(UserComponent):
    """``Artifact(value, name="x")``: a truncated repr of any value."""

    REALTIME_UPDATABLE = True

    def __init__(self, artifact, name: str | None = None, compressed: bool = True):
        super().__init__()
        self._artifact = artifact
        self._name = name
        self._compressed = compressed

    def update(self, artifact):
        self._artifact = artifact
        self._touch()

    def render(self):
        try:
            text = repr(self._artifact)
        except Exception as exc:
            text = f"<repr failed: {type(exc).__name__}: {exc}>"
        if self._compressed and len(text) > ARTIFACT_REPR_LIMIT:
            text = text[:ARTIFACT_REPR_LIMIT] + f"... ({len(text) - ARTIFACT_REPR_LIMIT} more characters)"
        name = f"<div class='mf-name'>{esc(self._name)}</div>" if self._name else ""
        kind = esc(type(self._artifact).__name__)
        return f"<div class='mf-artifact'>{name}<span class='mf-type'>{kind}</span><pre>{esc(text)}</pre></div>"


class Error(UserComponent):
    """``Error(exception, title=...)``: an exception with its traceback."""

    def __init__(self, exception, title: str | None = None):
        super().__init__()
        self._exception = exception
        self._title = title

    def render(self):
        import traceback

        exc = self._exception
        if isinstance(exc, BaseException):
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            text = str(exc)
        title = f"<h3>{esc(self._title)}</h3>" if self._title else ""
        return f"<div class='mf-error'>{title}<pre>{esc(text)}</pre></div>"


class Section(UserComponent):
    """A titled group of components (used by the built-in cards)."""

    def __init__(self, contents=None, title: str | None = None):
        super().__init__()
        self._contents = list(contents or [])
        self._title = title

    def render(self):
        title = f"<h2>{esc(self._title)}</h2>" if self._title else ""
        inner = "".join(part if isinstance(part, str) else (render_component(part) or "") for part in self._contents)
        return f"<section class='mf-section'>{title}{inner}</section>"


# -- Vega-Lite: drawn as inline SVG for the common simple charts ------------------------------------

class VegaChart(UserComponent):
    """``VegaChart(spec)``: a Vega-Lite spec. Cards embed no JavaScript runtime, so a
    single-layer bar/line/point chart with inline ``data.values`` is drawn as SVG;
    any other spec is shown as its JSON (the card says so)."""

    REALTIME_UPDATABLE = True

    def __init__(self, spec: dict, show_controls: bool = False):
        super().__init__()
        self._spec = spec

    @classmethod
    def from_altair_chart(cls, altair_chart):
        return cls(altair_chart.to_dict())

    def update(self, spec=None):
        if spec is not None:
            self._spec = spec
        self._touch()

    def render(self):
        from .vega import vega_to_svg

        title = self._spec.get("title") if isinstance(self._spec, dict) else None
        if isinstance(title, dict):
            title = title.get("text")
        heading = f"<div class='mf-chart-title'>{esc(title)}</div>" if title else ""
        svg = vega_to_svg(self._spec)
        if svg is not None:
            return f"<figure class='mf-vega'>{heading}{svg}</figure>"
        spec = json.dumps(self._spec, indent=1, default=str)
        return (f"<figure class='mf-vega'>{heading}<div class='mf-note'>This Vega-Lite chart is not one "
                f"sfncompile draws without a JavaScript runtime; its spec:</div><pre>{esc(spec)}</pre></figure>")
