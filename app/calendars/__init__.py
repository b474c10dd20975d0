"""Calendar feeds (spec integrations.md §4): secret iCalendar URLs per service and provider, the order's .ics."""
