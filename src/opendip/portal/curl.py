"""Copy as curl: a message's send as a shell command that signs it afresh and sends it again.

A DIP request is signed over its method, URL, a date and the body's hash, and
the hub refuses stale dates, so a copied signature would be useless a few
minutes later. The command therefore signs at the moment it is run, with
openssl, using the sender's own private key; the API key and the key files are
left as placeholders ($OPENDIP_API_KEY, $OPENDIP_KEY, $OPENDIP_CERT): the hub
never holds the private key, and shows no secret on a page. The hub refuses a
senderUniqueReference it has accepted before (MSG1006), so the command gives
the copy a new one, and a new senderTimestamp, when it runs.
"""

from __future__ import annotations

import orjson

SCRIPT = """\
# Send {transaction} again to the hub as {sender}: set these first
#   OPENDIP_API_KEY=...   OPENDIP_KEY=sender-key.pem   OPENDIP_CERT=sender-cert.pem
URL='{url}'
NOW=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
SUR="{reference}-$(date -u +%Y%m%d)-$(date -u +%H%M%S)$(openssl rand -hex 6)"
BODY='{body}'
DATE=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
HASH=$(printf '%s' "$BODY" | openssl dgst -sha256 -binary | base64 | tr -d '\\n')
SIG=$(printf '%s' "post;$(printf '%s' "$URL" | tr 'A-Z' 'a-z');$DATE;$HASH" \\
  | openssl dgst -sha256 -sign "$OPENDIP_KEY" | base64 | tr -d '\\n')
curl -sS -X POST "$URL" \\
  -H 'Content-Type: application/json' \\
  -H "X-API-Key: $OPENDIP_API_KEY" \\
  -H "X-DIP-Signature-Date: $DATE" \\
  -H "X-DIP-Content-Hash: $HASH" \\
  -H "X-DIP-Signature-Certificate: $(base64 < "$OPENDIP_CERT" | tr -d '\\n')" \\
  -H "X-DIP-Signature: $SIG" \\
  --data-binary "$BODY"
"""


def shell_quoted(text: str) -> str:
    """Safe inside single quotes: each ' becomes '\\'' (close, escaped quote, reopen)."""
    return text.replace("'", "'\\''")


SUR_MARK, NOW_MARK = "\x00sur\x00", "\x00now\x00"


def curl_command(base_url: str, interface_id: str, payload: bytes, sender: str, transaction: str = "") -> str:
    message = orjson.loads(payload)
    s1 = message["CommonBlock"]["S1"]
    role = s1.get("senderRoleID") or "ROLE"
    s1["senderUniqueReference"], s1["senderTimestamp"] = SUR_MARK, NOW_MARK
    body = shell_quoted(orjson.dumps([{"payload": message}]).decode("utf-8"))
    body = body.replace(orjson.dumps(SUR_MARK).decode()[1:-1], "'\"$SUR\"'")
    body = body.replace(orjson.dumps(NOW_MARK).decode()[1:-1], "'\"$NOW\"'")
    url = f"{base_url.rstrip('/')}/dip-channel/{interface_id}"
    return SCRIPT.format(
        transaction=transaction or "this message",
        sender=sender,
        url=shell_quoted(url),
        reference=f"S-{interface_id}-{sender}-{role}",
        body=body,
    )
