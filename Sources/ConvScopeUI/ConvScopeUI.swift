// The terminal app lives here (issue 4).
