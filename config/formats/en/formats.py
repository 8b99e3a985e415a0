"""English reads dates as Chinese does: 2026-12-01 15:26 (config/formats/zh_Hans says why)."""

from config.formats.zh_Hans.formats import *  # noqa: F403
