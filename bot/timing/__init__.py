"""Time rules below config: the staffing/opening-hours parser."""
