"""Selector maps: one TOML file per Case Log UI generation and locale (data in selectors/).

A map says where things are (URLs, CSS selectors that reach into open shadow DOM, header
labels), what the site's words mean (status labels -> canonical statuses) and how it writes
dates. The reader is driven entirely by the map, so a layout change is a data change.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cssselect
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from agent.core.models import CaseStatus
from agent.errors import ConfigError, first_problem

SELF = ":self"
"""A field selector meaning "the container itself"."""


def _css(value: str) -> str:
    """A CSS selector the browser will accept, checked when the map is read."""
    if value == SELF:
        return value
    try:
        cssselect.parse(value)
    except cssselect.SelectorError as exc:
        raise ValueError(f"{value!r} is not a valid CSS selector ({exc})") from None
    return value


def _pattern(value: str) -> str:
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    if "total" not in compiled.groupindex:
        raise ValueError(f"{value!r} needs a group named 'total', like (?P<total>[\\d,.]+)")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (an IANA name)") from None
    return value


Selector = Annotated[str, AfterValidator(_css)]


class MapModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(MapModel):
    """Where one value sits, relative to its container."""

    selector: Selector
    attr: str | None = None  # read this attribute instead of the text
    all: bool = False  # a list of every match
    required: bool = True


class ListSpec(MapModel):
    page_size: int = Field(ge=1)
    table: Selector
    header: Selector
    row: Selector
    cell: Selector = "td"
    id_link: Selector = "a"
    count: Selector
    count_pattern: Annotated[str, AfterValidator(_pattern)]
    next: Selector | None = None
    columns: dict[str, str]  # header label (normalised) -> field name


class DetailSpec(MapModel):
    summary: Selector
    fields: dict[str, FieldSpec]  # status, created_at, primary_email, cc, subject
    message: Selector
    message_fields: dict[str, FieldSpec]  # sender, sender_email, date, time, body, attachments
    from_amazon_senders: list[str]  # sender labels that mean "Amazon" (others: the seller)
    # rendered pages only (the DOM reader): controls to use before reading
    see_more: Selector | None = None  # a "See more" that is not expanded yet
    load_older: Selector | None = None  # "Show older messages"


class ApiSpec(MapModel):
    search: str = "/hill/hillservice/mons-api/SearchForCases"
    view: str = "/hill/hillservice/mons-api/ViewCase"
    contact: str = "/hill/hillservice/mons-api/ViewContact"
    page_size: int = 50
    contacts_page_size: int = 10
    statuses: dict[str, CaseStatus]  # API status value -> canonical


class UrlSpec(MapModel):
    lobby: str
    list: str  # format: {page} {rows} {page0}
    search: str  # format: {text} (quoted)
    detail: str  # format: {case_id}
    switch: str = "mons_sel_dir_mcid={merchant}&mons_sel_mkid={marketplace}"


class SelectorMap(MapModel):
    name: str
    ui: Literal["classic", "modern"]
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

    def status(self, label: str) -> CaseStatus:
        wanted = " ".join(label.split()).casefold()
        for known, status in self.statuses.items():
            if known.casefold() == wanted:
                return status
        if self.api:
            for known, status in self.api.statuses.items():
                if known.casefold() == wanted:
                    return status
        return CaseStatus.UNKNOWN


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


@cache
def load_map(name: str) -> SelectorMap:
    """A bundled map by name (``classic-en-US``), or your own map file by path (``*.toml``):
    when Amazon changes a page, a corrected copy of a map works before a new release does."""
    path = Path(name).expanduser() if name.endswith(".toml") else maps_dir() / f"{name}.toml"
    if name.endswith(".toml") and not path.is_file():
        raise ConfigError(f"selector map file {path} does not exist; check the selector_map path")
    if not path.is_file():
        known = ", ".join(available_maps()) or "none"
        raise ConfigError(
            f"there is no selector map named {name!r}; use one of: {known}"
        )
    return parse_map(path.read_text(encoding="utf-8"), str(path))


def parse_map(text: str, source: str) -> SelectorMap:
    try:
        data = tomllib.loads(text)
        return SelectorMap.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"selector map {source} is not valid TOML ({exc})") from None
    except ValidationError as exc:
        key, msg, kind = first_problem(exc)
        if kind == "extra_forbidden":
            raise ConfigError(
                f"selector map {source}: key {key} is not a known setting; check its spelling "
                "against the README (Selector maps)"
            ) from None
        raise ConfigError(f"selector map {source}: key {key}: {msg}") from None
