"""The demos' code per chapter: training runs and timings that plots show (tagged demo cells call them)."""
