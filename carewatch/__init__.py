"""carewatch: watches the news and official statements about Birmingham's children's social care
and tells the people who campaign on it what changed.

Every module is imported as ``carewatch.…``. The repository keeps one folder per package at its top
(``scrapers/``, ``pipelines/``, ``store/``, ``config/``, …); pyproject.toml maps each folder into
this package (see docs/architecture.md).
"""
