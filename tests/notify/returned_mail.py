"""Returned mail as receiving servers write it, built with the email package: the examples of
RFC 3464 (delivery status notifications) and RFC 5965 (feedback reports), and bounces and
complaints shaped like those of large providers. Each builder takes the campaign mail that was
sent (as the test's SMTP sink received it) and returns the bytes a server would send back."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

ARRIVAL = "Fri, 6 Mar 2026 10:00:03 +0000"


def _compat(original: EmailMessage) -> Message:
    """The sent mail as a plain ``Message``, with the ``Return-Path`` the receiving server
    added at the last hop when it has one."""
    return email.message_from_bytes(original.as_bytes(), policy=email.policy.compat32)


def _fields(**values: str) -> Message:
    block = Message()
    for name, value in values.items():
        block[name.replace("_", "-")] = value
    return block


def _status_part(per_message: Message, *per_recipient: Message) -> Message:
    part = Message()
    part.set_type("message/delivery-status")
    part.set_payload([per_message, *per_recipient])
    return part


def _report(kind: str, sender: str, subject: str, to: str, *parts: Message) -> MIMEMultipart:
    report = MIMEMultipart("report", report_type=kind)
    report["From"] = sender
    report["To"] = to
    report["Subject"] = subject
    report["Date"] = ARRIVAL
    report["Auto-Submitted"] = "auto-replied"
    for part in parts:
        report.attach(part)
    return report


def _headers_only(original: EmailMessage) -> MIMEText:
    head = original.as_string().split("\n\n", 1)[0] + "\n"
    part = MIMEText(head, "rfc822-headers")
    return part


def rfc3464_example(original: EmailMessage, recipient: str, envelope: str) -> bytes:
    """RFC 3464 appendix, the first example: a message that could not be delivered for five
    days (``Action: failed`` with ``Status: 4.0.0``), with the original message returned."""
    human = MIMEText(
        "   ----- The following addresses had delivery problems -----\n"
        f"<{recipient}>  (unrecoverable error)\n\n"
        "   ----- Transcript of session follows -----\n"
        f"<{recipient}>... Deferred: Connection timed out with larry.slip.umd.edu.\n"
        "Message could not be delivered for 5 days\n"
        "Message will be deleted from queue\n"
    )
    status = _status_part(
        _fields(Reporting_MTA="dns; cs.utk.edu"),
        _fields(
            Original_Recipient=f"rfc822;{recipient}",
            Final_Recipient=f"rfc822;{recipient}",
            Action="failed",
            Status="4.0.0",
            Diagnostic_Code="smtp; 426 connection timed out",
            Last_Attempt_Date="Thu, 7 Jul 1994 17:15:49 -0400",
        ),
    )
    report = _report(
        "delivery-status",
        "Mail Delivery Subsystem <MAILER-DAEMON@CS.UTK.EDU>",
        "Returned mail: Cannot send message for 5 days",
        envelope,
        human,
        status,
        MIMEMessage(_compat(original)),
    )
    return report.as_bytes()


def gmail_style(original: EmailMessage, recipient: str, envelope: str) -> bytes:
    """Gmail's "Address not found": a human part in text and HTML, a delivery status with the
    original's ``X-Original-Message-ID``, and the original message."""
    human = MIMEMultipart("alternative")
    human.attach(
        MIMEText(
            "\n** Address not found **\n\n"
            f"Your message wasn't delivered to {recipient} because the address couldn't be "
            "found, or is unable to receive mail.\n\nLearn more here: "
            "https://support.google.com/mail/?p=NoSuchUser\n\nThe response was:\n\n"
            "550 5.1.1 The email account that you tried to reach does not exist.\n"
        )
    )
    human.attach(
        MIMEText(
            "<html><body><h2>Address not found</h2><p>Your message wasn't "
            f"delivered to <b>{recipient}</b>.</p></body></html>",
            "html",
        )
    )
    status = _status_part(
        _fields(
            Reporting_MTA="dns; googlemail.com",
            Received_From_MTA="dns; mail.example.org",
            Arrival_Date=ARRIVAL,
            X_Original_Message_ID=str(original["Message-ID"]),
        ),
        _fields(
            Final_Recipient=f"rfc822; {recipient}",
            Action="failed",
            Status="5.1.1",
            Remote_MTA="dns; gmail-smtp-in.l.google.com. (2a00:1450:400c:c06::1b, the "
            "server for the domain example.com.)",
            Diagnostic_Code="smtp; 550-5.1.1 The email account that you tried to reach "
            "does not exist. Please try 550-5.1.1 double-checking the "
            "recipient's email address for typos or 550-5.1.1 unnecessary "
            "spaces. 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser "
            "a1si2345678wrb.123 - gsmtp",
            Last_Attempt_Date=ARRIVAL,
        ),
    )
    report = _report(
        "delivery-status",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        envelope,
        human,
        status,
        MIMEMessage(_compat(original)),
    )
    return report.as_bytes()


def outlook_style(original: EmailMessage, recipient: str, envelope: str) -> bytes:
    """Exchange Online's "Undeliverable": ``Status: 5.1.10`` (recipient not found), the
    original's headers only, as ``text/rfc822-headers``."""
    human = MIMEMultipart("alternative")
    human.attach(
        MIMEText(
            f"Your message to {recipient} couldn't be delivered.\n"
            f"{recipient.split('@')[0]} wasn't found at {recipient.split('@')[1]}.\n\n"
            "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
            "found by SMTP address lookup'\n"
        )
    )
    human.attach(
        MIMEText(
            f"<html><body><p>Your message to {recipient} couldn't be delivered.</p></body></html>",
            "html",
        )
    )
    status = _status_part(
        _fields(
            Reporting_MTA="dns;AM6PR01MB1234.eurprd01.prod.exchangelabs.com",
            Received_From_MTA="dns;mail.example.org",
            Arrival_Date=ARRIVAL,
        ),
        _fields(
            Final_Recipient=f"rfc822;{recipient}",
            Action="failed",
            Status="5.1.10",
            Diagnostic_Code="smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
            "found by SMTP address lookup",
        ),
    )
    sender = (
        "Microsoft Outlook "
        "<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.onmicrosoft.com>"
    )
    report = _report(
        "delivery-status",
        sender,
        f"Undeliverable: {original['Subject']}",
        envelope,
        human,
        status,
        _headers_only(original),
    )
    return report.as_bytes()


def yahoo_style(original: EmailMessage, recipient: str, envelope: str) -> bytes:
    """Yahoo's plain-text "Failure Notice": no report parts, the SMTP reply in the text and a
    copy of the original message below it."""
    text = (
        "Sorry, we were unable to deliver your message to the following address.\n\n"
        f"<{recipient}>:\n"
        "554: delivery error: dd This user doesn't have a yahoo.com account "
        f"({recipient}) [0] - mta1039.mail.ne1.yahoo.com\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "Received: from mail.example.org (EHLO mail.example.org) (192.0.2.1)\n"
        "  by mta1039.mail.ne1.yahoo.com with SMTPS; Fri, 06 Mar 2026 10:00:02 +0000\n"
        + original.as_string()
    )
    mail = MIMEText(text)
    mail["From"] = "MAILER-DAEMON@yahoo.com"
    mail["To"] = envelope
    mail["Subject"] = "Failure Notice"
    mail["Date"] = ARRIVAL
    return mail.as_bytes()


def delayed(
    original: EmailMessage,
    recipient: str,
    envelope: str,
    status: str = "4.2.2",
    diagnostic: str = "smtp; 452 4.2.2 Mailbox full",
) -> bytes:
    """A Postfix-style "delayed" notification (``Action: delayed``)."""
    human = MIMEText(
        "This is the mail system at host mail.example.org.\n\n"
        "####################################################################\n"
        "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
        "####################################################################\n"
    )
    status_part = _status_part(
        _fields(Reporting_MTA="dns; mail.example.org", Arrival_Date=ARRIVAL),
        _fields(
            Final_Recipient=f"rfc822; {recipient}",
            Action="delayed",
            Status=status,
            Diagnostic_Code=diagnostic,
            Will_Retry_Until="Fri, 13 Mar 2026 10:00:03 +0000",
        ),
    )
    report = _report(
        "delivery-status",
        "MAILER-DAEMON@mail.example.org (Mail Delivery System)",
        "Delayed Mail (still being retried)",
        envelope,
        human,
        status_part,
        _headers_only(original),
    )
    return report.as_bytes()


def plain_dsn(
    recipient: str, envelope: str, *, action: str, status: str, message_id: str | None = None
) -> bytes:
    """A minimal delivery status notification about ``recipient``, with the original's headers
    only when ``message_id`` is given."""
    parts: list[Message] = [
        MIMEText("Delivery report.\n"),
        _status_part(
            _fields(Reporting_MTA="dns; mail.example.org"),
            _fields(Final_Recipient=f"rfc822; {recipient}", Action=action, Status=status),
        ),
    ]
    if message_id is not None:
        parts.append(MIMEText(f"Message-ID: {message_id}\nTo: {recipient}\n", "rfc822-headers"))
    return _report(
        "delivery-status", "MAILER-DAEMON@mail.example.org", "Delivery report", envelope, *parts
    ).as_bytes()


def rfc5965_example(
    original: EmailMessage, recipient: str, envelope: str, feedback_type: str = "abuse"
) -> bytes:
    """RFC 5965 section B.2, a complaint with every optional field, about our message: the
    envelope sender it names (``Original-Mail-From``) is the campaign mail's VERP address."""
    human = MIMEText(
        "This is an email abuse report for an email message received from IP\n"
        "192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.  For more information\n"
        "about this format please see http://www.mipassoc.org/arf/.\n"
    )
    fields = _fields(
        Feedback_Type=feedback_type,
        User_Agent="SomeGenerator/1.0",
        Version="1",
        Original_Mail_From=f"<{envelope}>",
        Original_Rcpt_To=f"<{recipient}>",
        Arrival_Date="Thu, 8 Mar 2005 14:00:00 EDT",
        Reporting_MTA="dns; mail.example.com",
        Source_IP="192.0.2.1",
        Authentication_Results="mail.example.com; spf=fail smtp.mail=somespammer@example.com",
        Reported_Domain="example.net",
        Reported_Uri="http://example.net/earn_money.html",
        Removal_Recipient=recipient,
    )
    report = _report(
        "feedback-report",
        "<abusedesk@example.com>",
        "FW: Earn money",
        "<abuse@example.net>",
        human,
        MIMEMessage(fields, "feedback-report"),
        MIMEMessage(_compat(original)),
    )
    return report.as_bytes()


def feedback_loop(original: EmailMessage, envelope: str) -> bytes:
    """A complaint from a provider's feedback loop: the recipient is redacted, and only the
    returned original (with the ``Return-Path`` its server added) tells whose it was."""
    returned = _compat(original)
    returned["Return-Path"] = f"<{envelope}>"
    del returned["To"]
    returned["To"] = "redacted@example.com"
    human = MIMEText("This is an email abuse report for an email message from pullfirst.example.\n")
    fields = _fields(
        Feedback_Type="abuse",
        User_Agent="Yahoo!-Mail-Feedback/2.0",
        Version="0.1",
        Received_Date=ARRIVAL,
        Reported_Domain="pullfirst.example",
        Authentication_Results="mta1.mail.example.com from=pullfirst.example; "
        "domainkeys=neutral; dkim=pass",
    )
    report = _report(
        "feedback-report",
        "feedback@arf.mail.example.com",
        "FW: Three articles for the weekend",
        "fbl@pullfirst.example",
        human,
        MIMEMessage(fields, "feedback-report"),
        MIMEMessage(returned),
    )
    return report.as_bytes()


def out_of_office(envelope: str) -> bytes:
    """An RFC 3834 auto-reply that went, as it should, to the envelope sender."""
    reply = MIMEText(
        "I am away until Monday and will read your message then.\n"
        "Call 555 1234 for anything urgent, or write to 4.5.6 Support Street.\n"
    )
    reply["From"] = "Robin Reader <reader@example.com>"
    reply["To"] = envelope
    reply["Subject"] = "Automatic reply: Three articles for the weekend"
    reply["Auto-Submitted"] = "auto-replied"
    return reply.as_bytes()


def in_maildir(raw: bytes, delivered_to: str | None, null_sender: bool = True) -> bytes:
    """``raw`` as a mail server's local delivery writes it: ``Return-Path`` and
    ``Delivered-To`` prepended."""
    head = b"Return-Path: <>\n" if null_sender else b""
    if delivered_to is not None:
        head += f"Delivered-To: {delivered_to}\n".encode()
    return head + raw
