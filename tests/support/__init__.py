"""What several test packages share (issue 16: one home instead of copies in each
``helpers`` module)."""
