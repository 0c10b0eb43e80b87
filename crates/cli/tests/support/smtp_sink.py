#!/usr/bin/env python3
"""A loopback SMTP sink for the delivery tests (aiosmtpd).

Stores every message it accepts as one file DIR/<n>.eml. Special recipients:
  reject*@…   → 550 5.1.1 (permanent: address rejected)
  greylist*@… → 450 4.2.0 the first time this address is seen, then accepted (temporary)
Prints "PORT <n>" on stdout once listening on 127.0.0.1 (port 0 = any free port), then serves
until killed.

With --tls CERT KEY the server offers STARTTLS and requires it; with --auth USER:PASSWORD it
requires AUTH (PLAIN or LOGIN, only after STARTTLS) with these credentials. Every successful
login is noted as a line "AUTH <user>" in DIR/../auth.log.

Usage: smtp_sink.py DIR [PORT] [--tls CERT KEY] [--auth USER:PASSWORD]
"""
import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


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


def authenticator(expected, log_path):
    user, password = expected.split(":", 1)

    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        if ok:
            with open(log_path, "a") as f:
                f.write("AUTH %s %s\n" % (mechanism, user))
        # handled=False: aiosmtpd then answers 535 itself (its default, True, answers nothing).
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    args = sys.argv[1:]
    tls = auth = None
    if "--tls" in args:
        i = args.index("--tls")
        tls = args[i + 1 : i + 3]
        del args[i : i + 3]
    if "--auth" in args:
        i = args.index("--auth")
        auth = args[i + 1]
        del args[i : i + 2]
    folder = args[0]
    port = int(args[1]) if len(args) > 1 else 0
    os.makedirs(folder, exist_ok=True)
    handler = Sink(folder)
    options = {}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls[0], tls[1])
        options.update(tls_context=context, require_starttls=True)
    if auth:
        log = os.path.join(os.path.dirname(os.path.abspath(folder)), "auth.log")
        options.update(
            authenticator=authenticator(auth, log),
            auth_required=True,
            auth_require_tls=True,
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler, hostname="sink.test", decode_data=False, data_size_limit=None, **options
        ),
        "127.0.0.1",
        port,
    )
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
