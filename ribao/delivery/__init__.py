"""Delivery: the HTML page, the static site, push channels (Apprise) and their renderings, schedules."""
