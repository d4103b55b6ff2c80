"""Spiders: fetch only. They yield raw Articles (page bytes plus what the feed or listing said)
and one Fetch record per attempt; all interpretation happens in pipelines/."""
