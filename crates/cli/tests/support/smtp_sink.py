#!/usr/bin/env python3
"""A loopback SMTP sink for the delivery tests (aiosmtpd).

Stores every message it accepts as one file DIR/<n>.eml. Special recipients:
  reject*@…   → 550 5.1.1 (permanent: address rejected)
  greylist*@… → 450 4.2.0 the first time this address is seen, then accepted (temporary)
Prints "PORT <n>" on stdout once listening on 127.0.0.1 (port 0 = any free port), then serves
until killed.

Usage: smtp_sink.py DIR [PORT]
"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)
        self.greylisted = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("greylist") and address not in self.greylisted:
            self.greylisted.add(address)
            return "450 4.2.0 <%s>: greylisted, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        path = os.path.join(self.folder, "%08d.eml" % n)
        with open(path + ".part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        return "250 2.0.0 stored"


async def main():
    folder = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    os.makedirs(folder, exist_ok=True)
    handler = Sink(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False, data_size_limit=None),
        "127.0.0.1",
        port,
    )
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
