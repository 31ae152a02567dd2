"""Bounces and complaints: the VERP envelope sender of campaign mail, reading delivery status
notifications (RFC 3464) and feedback reports (RFC 5965), and what they change.

- :mod:`.verp` — the envelope sender ``bounces+<delivery id>.<tag>@<bounce domain>``;
- :mod:`.reports` — reads one returned message into a :class:`~.reports.Report` (plain values);
- :mod:`.statuses` — what an SMTP status code means: hard or soft, and in a few words;
- :mod:`.intake` — finds the delivery a report is about and records it (suppression, the
  delivery's reason, the soft-bounce count);
- :mod:`.listener` and :mod:`.maildir` — the two ways reports arrive: an SMTP/LMTP listener
  and a Maildir that a mail server delivers to.
"""
