"""Amazon's marketplaces as ``caselog init`` offers them: code, marketplace ID, the Seller
Central site that serves it, a default selector map and time zone.

One Seller Central login (one ``[[accounts]]`` table) covers the marketplaces of one site
(North America's unified account: US, CA, MX; Europe's: UK, DE, FR...). The selector map is
a starting point: the bundled maps read the Case Log in English (US or UK date formats) and
Chinese, so for another language set Seller Central to English, or write a map of your own
(README, Selector maps).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import ConfigError

__all__ = ["MARKETPLACES", "SITES", "MarketplaceInfo", "find_marketplaces", "region_default"]


@dataclass(frozen=True)
class MarketplaceInfo:
    code: str
    id: str
    country: str
    region: str
    selector_map: str
    timezone: str

    @property
    def base_url(self) -> str:
        return f"https://{SITES[self.region]}"


SITES = {
    "na": "sellercentral.amazon.com",
    "eu": "sellercentral-europe.amazon.com",
    "br": "sellercentral.amazon.com.br",
    "in": "sellercentral.amazon.in",
    "jp": "sellercentral.amazon.co.jp",
    "au": "sellercentral.amazon.com.au",
    "sg": "sellercentral.amazon.sg",
    "ae": "sellercentral.amazon.ae",
    "sa": "sellercentral.amazon.sa",
}
"""Seller Central's sites by region: one login each."""

_US, _UK = "modern-en-US", "classic-en-GB"

MARKETPLACES = (
    MarketplaceInfo("US", "ATVPDKIKX0DER", "United States", "na", _US, "America/Los_Angeles"),
    MarketplaceInfo("CA", "A2EUQ1WTGCTBG2", "Canada", "na", _US, "America/Toronto"),
    MarketplaceInfo("MX", "A1AM78C64UM0Y8", "Mexico", "na", _US, "America/Mexico_City"),
    MarketplaceInfo("BR", "A2Q3Y263D00KWC", "Brazil", "br", _US, "America/Sao_Paulo"),
    MarketplaceInfo("UK", "A1F83G8C2ARO7P", "United Kingdom", "eu", _UK, "Europe/London"),
    MarketplaceInfo("IE", "A28R8C7NBKEWEA", "Ireland", "eu", _UK, "Europe/Dublin"),
    MarketplaceInfo("DE", "A1PA6795UKMFR9", "Germany", "eu", _UK, "Europe/Berlin"),
    MarketplaceInfo("FR", "A13V1IB3VIYZZH", "France", "eu", _UK, "Europe/Paris"),
    MarketplaceInfo("IT", "APJ6JRA9NG5V4", "Italy", "eu", _UK, "Europe/Rome"),
    MarketplaceInfo("ES", "A1RKKUPIHCS9HS", "Spain", "eu", _UK, "Europe/Madrid"),
    MarketplaceInfo("NL", "A1805IZSGTT6HS", "Netherlands", "eu", _UK, "Europe/Amsterdam"),
    MarketplaceInfo("SE", "A2NODRKZP88ZB9", "Sweden", "eu", _UK, "Europe/Stockholm"),
    MarketplaceInfo("PL", "A1C3SOZRARQ6R3", "Poland", "eu", _UK, "Europe/Warsaw"),
    MarketplaceInfo("BE", "AMEN7PMS3EDWL", "Belgium", "eu", _UK, "Europe/Brussels"),
    MarketplaceInfo("TR", "A33AVAJ2PDY3EV", "Turkey", "eu", _UK, "Europe/Istanbul"),
    MarketplaceInfo("IN", "A21TJRUUN4KGV", "India", "in", _UK, "Asia/Kolkata"),
    MarketplaceInfo("JP", "A1VC38T7YXB528", "Japan", "jp", _US, "Asia/Tokyo"),
    MarketplaceInfo("AU", "A39IBJ37TRP1C6", "Australia", "au", _UK, "Australia/Sydney"),
    MarketplaceInfo("SG", "A19VAU5U5O7RUS", "Singapore", "sg", _UK, "Asia/Singapore"),
    MarketplaceInfo("AE", "A2VIGQ35RCS4UG", "United Arab Emirates", "ae", _UK, "Asia/Dubai"),
    MarketplaceInfo("SA", "A17E79C6D8DWNP", "Saudi Arabia", "sa", _UK, "Asia/Riyadh"),
)


def region_default(region: str) -> MarketplaceInfo:
    """The first marketplace of a region (US for ``na``, UK for ``eu``)."""
    key = region.strip().lower()
    for info in MARKETPLACES:
        if info.region == key:
            return info
    raise ConfigError(f"{region!r} is not a Seller Central region; use one of {', '.join(SITES)}")


def find_marketplaces(wanted: list[str], *, one_site: bool = True) -> list[MarketplaceInfo]:
    """The marketplaces named by code (``US``, ``uk``) or ID (``ATVPDKIKX0DER``), all of one
    Seller Central site unless ``one_site`` is off (an address of your own serves them all);
    refused in one sentence otherwise."""
    by_key = {m.code: m for m in MARKETPLACES} | {m.id: m for m in MARKETPLACES}
    by_key["GB"] = by_key["UK"]
    found: list[MarketplaceInfo] = []
    for raw in wanted:
        info = by_key.get(raw.strip().upper())
        if info is None:
            raise ConfigError(
                f"{raw!r} is not a marketplace caselog knows; use a code ("
                + ", ".join(m.code for m in MARKETPLACES)
                + ") or a marketplace ID (see `caselog init --list-marketplaces`)"
            )
        if info not in found:
            found.append(info)
    if not found:
        raise ConfigError("name at least one marketplace, e.g. --marketplace US")
    regions = {m.region for m in found}
    if one_site and len(regions) > 1:
        first, other = found[0], next(m for m in found if m.region != found[0].region)
        raise ConfigError(
            f"{first.code} and {other.code} are on different Seller Central sites "
            f"({SITES[first.region]}, {SITES[other.region]}), each with its own sign-in; make "
            "one account per site (the second as another [[accounts]] table in caselog.toml)"
        )
    return found
