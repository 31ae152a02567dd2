"""Text messages through Kannel: the keywords members text (STOP, START, HELP), replies, the
delivery reports, system texts, and the short links of the texts the notifier sends."""
