"""Tracking-configuration validation: read a GTM container export and a settings table, find what makes
clicks, sessions and views disagree (:mod:`.findings`), and measure each effect (:mod:`.effect`)."""
