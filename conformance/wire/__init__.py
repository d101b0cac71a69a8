"""The wire: requests as sent, the budgeted Sender, deadlines, rate limits, spend, interrupts, secrets in headers."""
