"""Item pipelines: extract, canonicalise, de-duplicate, tag. Each stage is a pure function on an
Article plus a thin Scrapy pipeline class around it, built from the configuration (``from_config``).
Their order is declared once, ``pipelines.runner.STAGES``; the store's pipeline comes last.
"""
