"""Figures over the records, aggregated in SQL and shaped with pandas: one computation behind every dashboard,
report and workbook. pandas is imported only when a figure is computed, so importing this package stays cheap."""

from .core import AGENCY, MONTH_OF, Analysis, Filter, agency_names, month_label, months_between, preset_period

__all__ = ["AGENCY", "MONTH_OF", "Analysis", "Filter", "agency_names", "month_label", "months_between",
           "preset_period"]
