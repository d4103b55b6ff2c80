"""The canonical-URL stage: the URL to cite (the page's own rel=canonical where it is on the same
site) and the key that says two URLs are the same page (core.urls)."""

from __future__ import annotations

import dataclasses

from carewatch.config.schema import Config
from carewatch.core.items import Article, SeenIndex
from carewatch.core.urls import canonical_url, url_key


def canonicalise(article: Article) -> Article:
    canon = canonical_url(article.url, article.extra.get("page_canonical"))
    return dataclasses.replace(article, canonical_url=canon, url_key=url_key(canon))


class CanonicalPipeline:
    @classmethod
    def from_config(cls, config: Config, seen: SeenIndex | None = None) -> CanonicalPipeline:
        return cls()

    def process_item(self, item, spider=None):
        return canonicalise(item) if isinstance(item, Article) else item
