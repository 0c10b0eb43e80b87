#!/usr/bin/env python3
"""The delivery benchmark's baseline (issue 5): N small e-mails with Python's smtplib on ONE
connection to an SMTP sink, without any bookkeeping. Compare with `relance bench send`.

Usage: smtplib_baseline.py HOST PORT [N]
"""
import smtplib
import sys
import time
from email.message import EmailMessage

host, port = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
msg = EmailMessage()
msg["From"] = "relances@bench-sas.example"
msg["To"] = "compta@client.example"
msg["Subject"] = "Relance : facture F-00000001 échue"
msg.set_content("Madame, Monsieur,\n\nsauf erreur de notre part, la facture F-00000001 reste impayée.\n" * 8)
data = msg.as_bytes()
with smtplib.SMTP(host, port) as smtp:
    start = time.perf_counter()
    for _ in range(n):
        smtp.sendmail("relances@bench-sas.example", ["compta@client.example"], data)
    seconds = time.perf_counter() - start
print(f"smtplib, one connection: {n} messages in {seconds:.2f} s: {n / seconds:.0f} msg/s")
