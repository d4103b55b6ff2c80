"""The composition root: the click CLI, crawl orchestration and the daemon. Only this package
imports every other one."""
