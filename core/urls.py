"""Canonical URLs and the URL key that identifies "the same page".

Shared vocabulary: spiders use the key to skip pages already stored, pipelines to de-duplicate,
the store to index. w3lib does the canonicalisation (sorted query, percent-encoding); this
module only decides which parameters are tracking noise and which host/scheme differences do
not matter.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that never change what a page says.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|CMP|cmp|at_medium|at_campaign"
    r"|ito|int_source|int_medium|shared|msg|amp|ns_mchannel|ns_source|ns_campaign|ns_linkname|ns_fee|ocid)$"
)
# Hosts that serve the same pages as another host.
_HOST_ALIASES = {"feeds.bbci.co.uk": "www.bbc.co.uk", "feeds.bbc.co.uk": "www.bbc.co.uk"}


def strip_tracking(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return urlunsplit(parts._replace(fragment=""))
    names = [kv.split("=", 1)[0] for kv in parts.query.split("&") if kv]
    noise = [n for n in names if _TRACKING.match(n)]
    return url_query_cleaner(url, noise, remove=True) if noise else urlunsplit(parts._replace(fragment=""))


def canonical_url(url: str, page_canonical: str | None = None) -> str:
    """The URL to show and cite: the page's own rel=canonical if it is on the same site, else the
    fetched URL without tracking parameters or fragment, canonicalised."""
    if page_canonical:
        candidate = urljoin(url, page_canonical.strip())
        if _site(candidate) == _site(url):
            url = candidate
    host = urlsplit(url).hostname or ""
    if host in _HOST_ALIASES:
        url = urlunsplit(urlsplit(url)._replace(netloc=_HOST_ALIASES[host]))
    return canonicalize_url(strip_tracking(url), keep_fragments=False)


def url_key(url: str) -> str:
    """The identity of a page: canonical URL without scheme, ``www.`` or trailing slash.
    http and https, /slug and /slug/ are the same page."""
    parts = urlsplit(canonical_url(url))
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")
