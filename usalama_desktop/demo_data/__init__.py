"""Realistic, clearly fictional demo data, one module per area."""
