"""The one table of DIP message codes, and the typed exceptions that carry them.

Every rejection the hub gives, synchronous (L3) or in the journal, names one of
these codes. Keeping them in one place means the portal, the API and the docs
can never disagree about what a code means or what the sender should do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class MessageCode:
    code: str
    text: str
    http_status: int
    help: str
    retryable: bool = False

    @property
    def message(self) -> str:
        return f"{self.code} - {self.text}"


class Msg(Enum):
    """Every code the hub answers with. `help` is what a human should do next."""

    SUCCESS = MessageCode("MSG0000", "Success", 201, "Message accepted and queued for delivery.")
    SCHEMA_FAILURE = MessageCode(
        "MSG1001", "Schema Failure", 400, "Correct the field named in the path to satisfy the rule given."
    )
    MALFORMED_JSON = MessageCode(
        "MSG1002", "Malformed JSON", 400, 'The body must be a JSON array of {"payload": {...}} objects.'
    )
    EMPTY_ARRAY = MessageCode("MSG1003", "Empty Message Array", 400, "Send at least one message.")
    UNSUPPORTED_MEDIA_TYPE = MessageCode(
        "MSG1004", "Unsupported Content Type", 415, "Send the body as Content-Type: application/json."
    )
    BODY_TOO_LARGE = MessageCode(
        "MSG1005", "Body Too Large", 413, "Split the batch into smaller requests under the size limit."
    )
    NOT_UTF8 = MessageCode("MSG1006", "Body Not UTF-8", 400, "Encode the JSON body as UTF-8.")
    INTERFACE_MISMATCH = MessageCode(
        "MSG1007",
        "Interface Mismatch",
        400,
        "S0.interfaceID must equal the interface in the URL path.",
    )
    UNKNOWN_CHANNEL = MessageCode("MSG1008", "Unknown Channel", 404, "Use an interface ID published in the catalogue.")
    UNKNOWN_EVENT_CODE = MessageCode(
        "MSG1009", "Unknown Event Code", 400, "Use an event code defined for this interface."
    )
    UNSUPPORTED_VERSION = MessageCode(
        "MSG1010", "Unsupported Schema Version", 400, "Use a schemaVersion this environment accepts."
    )
    RETIRED_VERSION = MessageCode(
        "MSG1011", "Retired Schema Version", 400, "This schemaVersion is retired: move to a current one."
    )
    WRONG_ENVIRONMENT = MessageCode(
        "MSG1012", "Wrong Environment Tag", 400, "S1.environmentTag must name this environment."
    )
    DUPLICATE_REFERENCE = MessageCode(
        "MSG1013",
        "Duplicate Sender Unique Reference",
        409,
        "This senderUniqueReference was already accepted from this sender; use a new one.",
    )
    UNKNOWN_RECIPIENT = MessageCode(
        "MSG1014", "Unknown Recipient", 400, "Every A0.primaryRecipients entry must be a registered DIP ID."
    )
    DUPLICATE_CONTENT = MessageCode(
        "MSG1015", "Duplicate Content", 409, "The same content was already sent within the duplicate window."
    )
    NOT_JSON_ARRAY = MessageCode(
        "MSG1016", "Body Not A Message Array", 400, 'The body must be a JSON array of {"payload": {...}}.'
    )
    WEBHOOK_URL_REFUSED = MessageCode(
        "MSG1050",
        "Webhook URL Refused",
        400,
        "callbackURL must be an absolute http(s) URL (https in production) to a host this hub may call: "
        "no credentials, control characters, '..' segments, private addresses or the hub itself.",
    )
    API_KEY_MISSING = MessageCode("MSG2001", "API Key Missing", 401, "Send your API key in X-API-Key.")
    API_KEY_INVALID = MessageCode(
        "MSG2002", "API Key Invalid", 401, "The X-API-Key is unknown, revoked or expired; use a current key."
    )
    SIGNATURE_HEADERS_MISSING = MessageCode(
        "MSG2003",
        "Signature Headers Missing",
        401,
        "Send X-DIP-Signature-Date, X-DIP-Content-Hash, X-DIP-Signature-Certificate and X-DIP-Signature.",
    )
    CONTENT_HASH_MISMATCH = MessageCode(
        "MSG2004",
        "Content Hash Mismatch",
        401,
        "X-DIP-Content-Hash must be base64(SHA-256) of the exact body bytes sent.",
    )
    SIGNATURE_INVALID = MessageCode(
        "MSG2005",
        "Signature Invalid",
        401,
        "Sign 'METHOD;full-url-lower-case;signature-date;content-hash' with RSA PKCS#1 v1.5 SHA-256.",
    )
    CERTIFICATE_UNTRUSTED = MessageCode(
        "MSG2006", "Certificate Untrusted", 401, "Use a certificate issued by a CA this hub trusts."
    )
    CERTIFICATE_EXPIRED = MessageCode(
        "MSG2007", "Certificate Expired", 401, "Renew the certificate; it is outside its validity dates."
    )
    CERTIFICATE_REVOKED = MessageCode(
        "MSG2008", "Certificate Revoked", 401, "This certificate was revoked; use a newly issued one."
    )
    SIGNATURE_DATE_SKEW = MessageCode(
        "MSG2009",
        "Signature Date Outside Allowed Skew",
        401,
        "X-DIP-Signature-Date must be the current UTC time (ISO 8601 with milliseconds).",
    )
    CERTIFICATE_NOT_BOUND = MessageCode(
        "MSG2010", "Certificate Not Bound To Caller", 401, "Sign with the certificate issued to your DIP ID."
    )
    CERTIFICATE_MALFORMED = MessageCode(
        "MSG2011",
        "Certificate Malformed",
        401,
        "X-DIP-Signature-Certificate must be base64 of a PEM certificate.",
    )
    TLS_CERTIFICATE_NOT_BOUND = MessageCode(
        "MSG2050",
        "TLS Certificate Not Bound To Caller",
        401,
        "Connect with the TLS client certificate issued to the same DIP ID as your signing certificate.",
    )
    TLS_CERTIFICATE_MISSING = MessageCode(
        "MSG2051",
        "TLS Client Certificate Missing",
        401,
        "This hub requires mutual TLS: present your client certificate from a CA the hub trusts.",
    )
    NOT_SIGNED_IN = MessageCode(
        "MSG2052",
        "Not Signed In",
        401,
        "Sign in at /login, or send the operator token as 'Authorization: Bearer <token>'.",
    )
    SIGN_IN_FAILED = MessageCode(
        "MSG2053",
        "Sign-In Failed",
        401,
        "Check the username and password; repeated failures lock the account for a while.",
    )
    SENDER_NOT_CALLER = MessageCode(
        "MSG3001",
        "Sender Not Authorised",
        403,
        "S1.senderDIPID must be your own DIP ID, or one you are the registered connection provider for.",
    )
    ROLE_NOT_ENTITLED = MessageCode(
        "MSG3002", "Role Not Entitled", 403, "This market role may not send on this interface."
    )
    ROLE_MISMATCH = MessageCode(
        "MSG3003", "Role Mismatch", 403, "S1.senderRoleID must be the market role registered for the DIP ID."
    )
    DCP_NOT_REGISTERED = MessageCode(
        "MSG3004",
        "Connection Provider Not Registered",
        403,
        "S1.DIPConnectionProviderID must be a provider registered to send for this participant.",
    )
    PARTICIPANT_SUSPENDED = MessageCode(
        "MSG3005", "Participant Suspended", 403, "This participant is suspended; contact the hub operator."
    )
    BATCH_NOT_PROCESSED = MessageCode(
        "MSG3007",
        "Batch Not Processed",
        403,
        "Another message in this request was not authorised, so none was stored; fix it and resend all.",
    )
    NOT_OWN_RESOURCE = MessageCode("MSG3006", "Not Your Resource", 403, "You may only act for your own DIP ID.")
    RATE_LIMITED = MessageCode(
        "MSG4029",
        "Too Many Requests",
        429,
        "Slow down and retry after the number of seconds in Retry-After.",
        retryable=True,
    )
    ALREADY_EXISTS = MessageCode("MSG4050", "Already Exists", 409, "Use a new identifier or update the existing one.")
    QUOTA_EXHAUSTED = MessageCode(
        "MSG4051",
        "Daily Quota Exhausted",
        429,
        "This participant's daily message quota is used up; retry after the number of seconds in Retry-After.",
        retryable=True,
    )
    SENDING_STOPPED = MessageCode(
        "MSG3050",
        "Sending Stopped",
        403,
        "This participant's outbound sending is stopped; start it again in the portal or with "
        "`opendip participant start DIP_ID --sending`.",
    )
    PERMISSION_DENIED = MessageCode("MSG3051", "Permission Denied", 403, "Ask a user with the needed role.")
    CSRF_FAILED = MessageCode(
        "MSG3052",
        "CSRF Check Failed",
        403,
        "Reload the page and submit again; API calls with a session send the token in X-CSRF-Token.",
    )
    NOT_FOUND = MessageCode("MSG4004", "Not Found", 404, "Check the identifier in the URL.")
    INVALID_CONTINUATION_TOKEN = MessageCode(
        "MSG1060",
        "Invalid Continuation Token",
        400,
        "Send back the X-Continuation-Token exactly as received, with the same filter body; "
        "or drop the header to start again.",
    )
    UNKNOWN_TRANSACTION = MessageCode(
        "MSG1061",
        "Unknown Transaction",
        404,
        "Name a transactionID the hub delivered to you (D0.transactionID).",
    )
    REQUEUE_RUNNING = MessageCode(
        "MSG4060",
        "Requeue Already Running",
        429,
        "Only one requeue per recipient runs at a time: follow the running one with requeueStatus, then retry.",
        retryable=True,
    )
    INTERNAL_ERROR = MessageCode(
        "MSG5000", "Internal Server Error", 500, "Retry later; the hub recorded the fault.", retryable=True
    )
    UNAVAILABLE = MessageCode("MSG5003", "Service Unavailable", 503, "Retry later with back-off.", retryable=True)

    @property
    def spec(self) -> MessageCode:
        return self.value

    @classmethod
    def by_code(cls, code: str) -> Msg | None:
        for item in cls:
            if item.value.code == code:
                return item
        return None


class DipError(Exception):
    """An error that answers with a DIP message code.

    `detail` is the specific reason (a JSON path and the rule it broke, or the
    certificate's expiry date): it is appended to the code's generic help.
    """

    def __init__(self, msg: Msg, detail: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(f"{msg.spec.message}: {detail}" if detail else msg.spec.message)
        self.msg = msg
        self.detail = detail
        self.retry_after = retry_after

    @property
    def http_status(self) -> int:
        return self.msg.spec.http_status

    @property
    def help(self) -> str:
        return f"{self.detail}. {self.msg.spec.help}" if self.detail else self.msg.spec.help


class AuthenticationError(DipError):
    """Who is calling could not be established: answered 401."""


class AuthorisationError(DipError):
    """The caller is known but may not do this: answered 403."""
