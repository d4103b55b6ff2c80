"""Item pipelines: extract, canonicalise, de-duplicate, tag. Each stage is a pure function on an
Article plus a thin Scrapy pipeline class around it; ``pipelines.runner`` runs them outside Scrapy.

Order (see cli.crawl_process): extract 100 → canonical 200 → dedupe 300 → tag 400 → store 900.
"""
