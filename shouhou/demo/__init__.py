"""Demo data: three realistic verticals (phone repair, home appliances, car repair) in Chinese."""
