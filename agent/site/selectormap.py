"""Selector maps: one TOML file per Case Log UI generation and locale (data in selectors/).

A map is the whole contract between the agent and a Case Log page: where things are (URLs,
CSS selectors that reach into open shadow DOM, header and field labels), how each value is
read (its text, an attribute, the content of a ``<template>`` or hidden element, a pattern),
how its dates are written (per field, ISO 8601 with offsets included), what the site's words
mean (status labels -> canonical statuses), how the rendered pages signal that they are ready
(the DOM reader's hooks and lobby state), and how a long message is expanded (a button, a
template, or a fetch). The readers hard-code none of it, so a redesign is a new map.

A map may ``extends = "<another map>"`` and override only some keys (tables merge key by key).
Every key is documented in README, "Selector maps".
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from agent.core.models import CaseStatus
from agent.core.text import squash
from agent.errors import ConfigError, first_problem

__all__ = [
    "SELF",
    "ActionsSpec",
    "ApiSpec",
    "ColumnSpec",
    "DetailSpec",
    "DomSpec",
    "FieldSpec",
    "FormSpec",
    "ListSpec",
    "SelectorMap",
    "UrlSpec",
    "available_maps",
    "detail_url",
    "load_map",
    "map_data",
    "maps_dir",
    "parse_map",
]

SELF = ":self"
"""A field selector meaning "the container itself"."""


def _css(value: str) -> str:
    """A CSS selector the browser will accept, checked when the map is read."""
    if value == SELF:
        return value
    import cssselect  # when a map is read whole: a link to a case needs no selector

    try:
        cssselect.parse(value)
    except cssselect.SelectorError as exc:
        raise ValueError(f"{value!r} is not a valid CSS selector ({exc})") from None
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    return value


def _count_pattern(value: str) -> str:
    if "total" not in re.compile(_regex(value)).groupindex:
        raise ValueError(f"{value!r} needs a group named 'total', like (?P<total>[\\d,.]+)")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (an IANA name)") from None
    return value


Selector = Annotated[str, AfterValidator(_css)]
Regex = Annotated[str, AfterValidator(_regex)]


class MapModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class FieldSpec(MapModel):
    """How to read one value inside its container (a row's cell, the summary, a message).

    The element is found by ``label`` (the element after a ``dt``/``th`` whose text is the
    label, e.g. a ``dd``) and/or ``selector`` (inside it; ``:self`` is the container itself).
    Its value is its text, or ``attr`` (e.g. ``datetime``); ``full_text`` names an element
    (inside the container) holding the whole text when the visible one is cut short, such as a
    ``<template>`` or a hidden node: when it is there, its text is the value. ``pattern`` keeps
    the first group of a regular expression (an ID inside a link's ``href``); ``formats`` are
    this field's date formats (default: the map's ``date_formats``; ``iso`` for ISO 8601).
    """

    selector: Selector = SELF
    label: str | None = None
    label_selector: Selector = "dt, th, [role=rowheader]"
    attr: str | None = None
    full_text: Selector | None = None
    pattern: Regex | None = None
    formats: list[str] | None = None
    all: bool = False  # a list of every match
    required: bool = True


class ColumnSpec(FieldSpec):
    """A list column, found by its header text (so a changed column order still reads right),
    read inside its cell like a :class:`FieldSpec`."""

    header: str | list[str]

    def labels(self) -> list[str]:
        return [self.header] if isinstance(self.header, str) else list(self.header)


class ListSpec(MapModel):
    page_size: int = Field(ge=1)
    table: Selector
    header: Selector
    row: Selector
    cell: Selector = "td"
    count: Selector
    count_pattern: Annotated[str, AfterValidator(_count_pattern)]
    next: Selector | None = None
    columns: dict[str, ColumnSpec]  # field name -> its column

    @model_validator(mode="before")
    @classmethod
    def _header_to_field(cls, data: Any) -> Any:
        """The first map format (still accepted): ``columns = {"Case ID" = "case_id", ...}``
        (header label -> field) and ``id_link`` (the case ID's link inside its cell)."""
        if not isinstance(data, dict):
            return data
        columns = data.get("columns")
        id_link = data.get("id_link")
        if isinstance(columns, dict) and any(isinstance(v, str) for v in columns.values()):
            columns = {
                (field if isinstance(field, str) else label): (
                    {"header": label} if isinstance(field, str) else field
                )
                for label, field in columns.items()
            }
        if id_link and isinstance(columns, dict) and isinstance(columns.get("case_id"), dict):
            columns["case_id"] = {"selector": id_link, **columns["case_id"]}
        return {**{k: v for k, v in data.items() if k != "id_link"}, "columns": columns}

    @model_validator(mode="after")
    def _case_id_column(self) -> ListSpec:
        if "case_id" not in self.columns:
            raise ValueError("the list needs a case_id column ([list.columns.case_id])")
        return self


class DetailSpec(MapModel):
    summary: Selector
    fields: dict[str, FieldSpec]  # status, created_at, primary_email, cc, subject
    message: Selector
    message_fields: dict[str, FieldSpec]  # sender, sender_email, date, time, body, attachments
    from_amazon_senders: list[str]  # sender labels that mean "Amazon" (others: the seller)
    order: Literal["newest_first", "oldest_first"] = "newest_first"
    # a link to the next (older) page of a long thread, followed by fetching its href
    older_link: Selector | None = None
    # rendered pages only (the DOM reader): controls to use before reading
    see_more: Selector | None = None  # a "See more" that is not expanded yet
    load_older: Selector | None = None  # "Show older messages", clicked


class ApiSpec(MapModel):
    search: str = "/hill/hillservice/mons-api/SearchForCases"
    view: str = "/hill/hillservice/mons-api/ViewCase"
    contact: str = "/hill/hillservice/mons-api/ViewContact"  # "See more": the full text
    page_size: int = 50
    contacts_page_size: int = 10
    statuses: dict[str, CaseStatus]  # API status value -> canonical


class DomSpec(MapModel):
    """How the rendered (browser-built) pages say they are ready, for the DOM reader."""

    lobby: Selector  # the element that renders the case list
    detail: Selector  # the element that renders a case
    ready: str = ":not([data-state=loading])"  # appended to lobby/detail when rendered
    failed: str = "[data-state=error]"  # appended to lobby/detail when it shows an error
    error: Selector = "[data-testid=error-message]"  # the error text inside a failed one
    # the lobby's state in its URL: all history, the largest page, oldest case ID first
    lobby_state: str = "range=all&pageSize={rows}&sort=CaseId&order=ASC&page={page}"
    search_param: str = "q"


class FormSpec(MapModel):
    """One action's controls on a case page (``[actions.reply]``, ``.reopen``, ``.cc``).

    With ``submit = "fetch"`` the controls are found inside ``form`` and the form's own fields
    (hidden ones and the anti-CSRF token included) are sent by ``fetch()`` from the page; with
    ``submit = "click"`` they are found in the page (through open shadow roots) and ``send``
    is clicked, so the page's own script sends them.
    """

    form: Selector | None = None  # the <form> (fetch)
    open: Selector | None = None  # a control that shows the form first ("Edit Cc")
    message: Selector | None = None  # the message box (reply)
    cc: Selector | None = None  # the Cc field
    files: Selector | None = None  # the file input (reply)
    send: Selector | None = None  # the button that sends (click)
    unavailable: Selector | None = None  # shown instead when the action is not possible


class ActionsSpec(MapModel):
    """Acting on a case (``caselog reply``, ``reopen``, ``cc``): where the forms are, how they
    are sent, where the anti-CSRF token is, and how the page confirms or refuses."""

    submit: Literal["fetch", "click"]
    ready: Selector | None = None  # the case page is rendered and can be used
    token: Selector  # the anti-CSRF token: in the form (fetch), else in the page
    token_attr: str = "value"
    notice: Selector  # the confirmation of an accepted action
    error: Selector  # a refusal, or an answer that failed
    error_code_attr: str = "data-error-code"
    # error codes by which the site says it refused (nothing was done); any other failure
    # (a 500, no answer) leaves it unknown until the case is read back
    refused_codes: Regex = r"^(err_|not_found|signed_out)"
    # the limits a form states (read from the control, or the component that holds it)
    max_chars_attr: str = "data-max-chars"
    max_files_attr: str = "data-max-files"
    max_file_bytes_attr: str = "data-max-file-bytes"
    allowed_types_attr: str = "data-allowed-types"
    reply: FormSpec
    reopen: FormSpec
    cc: FormSpec

    @model_validator(mode="after")
    def _how_to_send(self) -> ActionsSpec:
        for name in ("reply", "reopen", "cc"):
            form: FormSpec = getattr(self, name)
            needed = "form" if self.submit == "fetch" else "send"
            if getattr(form, needed) is None:
                raise ValueError(f"[actions.{name}] needs {needed!r} with submit = {self.submit!r}")
        return self


class UrlSpec(MapModel):
    lobby: str
    list: str  # format: {page} {rows} {page0} {wide}
    search: str  # format: {text} (quoted) {wide}
    detail: str  # format: {case_id}
    switch: str = "mons_sel_dir_mcid={merchant}&mons_sel_mkid={marketplace}"


class SelectorMap(MapModel):
    name: str
    ui: str  # the UI generation it reads (classic, modern, grid, ...), for people
    reader: Literal["html", "dom", "api"] | None = None  # default: api if [api], else html
    locale: str
    timezone: Annotated[str, AfterValidator(_zone)]  # the zone the site writes its times in
    date_formats: list[str]
    urls: UrlSpec
    statuses: dict[str, CaseStatus]  # displayed label (case-insensitive) -> canonical
    blank_texts: list[str]
    no_reply_texts: list[str] = Field(default_factory=list)
    list: ListSpec
    detail: DetailSpec
    api: ApiSpec | None = None
    dom: DomSpec | None = None
    actions: ActionsSpec | None = None

    @model_validator(mode="after")
    def _reader_has_its_section(self) -> SelectorMap:
        if self.reader == "api" and self.api is None:
            raise ValueError("reader = 'api' needs an [api] section")
        if self.reader == "dom" and self.dom is None:
            raise ValueError("reader = 'dom' needs a [dom] section")
        return self

    @property
    def read_with(self) -> str:
        """The reader this map is for: ``api`` (the modern JSON API, DOM as fallback when
        there is a [dom] section), ``dom`` (rendered pages) or ``html`` (fetched pages)."""
        return self.reader or ("api" if self.api else "html")

    def status(self, label: str) -> CaseStatus:
        wanted = squash(label).casefold()
        for known, status in self.statuses.items():
            if squash(known).casefold() == wanted:
                return status
        if self.api:
            for known, status in self.api.statuses.items():
                if known.casefold() == wanted:
                    return status
        return CaseStatus.UNKNOWN

    def formats(self, spec: FieldSpec | None) -> Sequence[str]:
        """The date formats of a field (its own, else the map's)."""
        return spec.formats if spec is not None and spec.formats else self.date_formats


def maps_dir() -> Path:
    """The selector maps: inside the installed wheel, or selectors/ in a checkout."""
    spec = importlib.util.find_spec("caselog_selectors")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    return Path(__file__).resolve().parents[2] / "selectors"


def available_maps() -> list[str]:
    return sorted(p.stem for p in maps_dir().glob("*.toml"))


def _map_path(name: str) -> Path:
    path = Path(name).expanduser() if name.endswith(".toml") else maps_dir() / f"{name}.toml"
    if name.endswith(".toml") and not path.is_file():
        raise ConfigError(f"selector map file {path} does not exist; check the selector_map path")
    if not path.is_file():
        known = ", ".join(available_maps()) or "none"
        raise ConfigError(f"there is no selector map named {name!r}; use one of: {known}")
    return path


@cache
def load_map(name: str) -> SelectorMap:
    """A bundled map by name (``classic-en-US``), or your own map file by path (``*.toml``):
    when Amazon changes a page, a corrected copy of a map works before a new release does."""
    path = _map_path(name)
    return parse_map(path.read_text(encoding="utf-8"), str(path), base=path.parent)


@cache
def detail_url(name: str) -> str:
    """The map's ``[urls] detail`` (a case's page, ``{case_id}`` in it), read without checking
    the rest of the map: what a link to a case needs, at the cost of reading one TOML file."""
    path = _map_path(name)
    urls = map_data(path.read_text(encoding="utf-8"), str(path), base=path.parent).get("urls")
    detail = urls.get("detail") if isinstance(urls, dict) else None
    if not isinstance(detail, str):
        raise ConfigError(f"selector map {path}: key urls.detail is missing")
    return detail


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def map_data(text: str, source: str, base: Path | None = None, _seen: tuple[str, ...] = ()) -> Any:
    """A map's TOML as data, with ``extends`` resolved (a bundled name, or a path relative to
    the extending file)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"selector map {source} is not valid TOML ({exc})") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(f"selector map {source}: key extends must name a map")
    if parent in _seen:
        raise ConfigError(f"selector map {source}: extends {parent!r} goes round in a circle")
    name = str((base or Path.cwd()) / parent) if parent.endswith(".toml") else parent
    path = _map_path(name)
    inherited = map_data(path.read_text(encoding="utf-8"), str(path), path.parent, (*_seen, parent))
    return _merge(inherited, data)


def parse_map(text: str, source: str, base: Path | None = None) -> SelectorMap:
    data = map_data(text, source, base)
    try:
        return SelectorMap.model_validate(data)
    except ValidationError as exc:
        key, msg, kind = first_problem(exc)
        if kind == "extra_forbidden":
            raise ConfigError(
                f"selector map {source}: key {key} is not a known setting; check its spelling "
                "against the README (Selector maps)"
            ) from None
        raise ConfigError(f"selector map {source}: key {key}: {msg}") from None
