"""Python clients of the JSON API: a voter's device and a trustee's device (used by the CLI,
the demo and the tests). The phone page does the voter's part in JavaScript."""
