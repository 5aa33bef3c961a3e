"""PDF documents: the recovery sheet, decision records, receipts and the monthly summary."""
