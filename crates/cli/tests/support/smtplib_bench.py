#!/usr/bin/env python3
"""The reference of `relance bench send`: N messages with smtplib on ONE connection, no bookkeeping.

Usage: smtplib_bench.py PORT N [EML_FILE]   (the message defaults to a small reminder)
Prints "smtplib: N messages in S s: R msg/s".
"""
import smtplib
import sys
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
if len(sys.argv) > 3:
    with open(sys.argv[3], "rb") as f:
        body = f.read()
else:
    body = (b"From: Bench SAS <relances@bench-sas.example>\r\nTo: compta@client.example\r\n"
            b"Subject: Rappel\r\n\r\n" + b"Bonjour,\r\n" * 200)
with smtplib.SMTP("127.0.0.1", port) as smtp:
    start = time.perf_counter()
    for i in range(n):
        smtp.sendmail("relances@bench-sas.example", ["compta%d@client%d.example" % (i, i % 50)], body)
    seconds = time.perf_counter() - start
print("smtplib: %d messages in %.2f s: %.0f msg/s" % (n, seconds, n / seconds))
