"""Usalama Desktop: offline-first records for Kenyan Community Safety Forums."""

__version__ = "0.1.0"
APP_NAME = "Usalama Desktop"
