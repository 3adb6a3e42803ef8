"""Hyperliquid: turning the venue's recorded and live messages into venue-neutral fills."""
