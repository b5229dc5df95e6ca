"""The one table of DIP message codes, and the typed exceptions that carry them.

Every rejection the hub gives, synchronous (L3) or in the journal, names one of
these codes. Keeping them in one place means the portal, the API and the docs
can never disagree about what a code means or what the sender should do.
"""

from __future__ import annotations

from enum import Enum

from opendip.message_codes import MessageCode, is_extension_code


class Msg(Enum):
    """Every code the hub answers with. `help` is what a human should do next.

    Codes MSG0000 and MSG1000-MSG1038 are Elexon's published DIP codes and carry
    exactly their published text: participants' systems branch on them. Several
    members may share one published code (a malformed body and a schema violation
    are both "MSG1001 - Schema Failure") with their own help and HTTP status.
    Faults the published list has no code for use OpenDIP's own codes, always in
    MSG2000-MSG5999 (see `is_extension`), never in the published numbers.
    """

    SUCCESS = MessageCode("MSG0000", "Success", 201, "Message accepted and queued for delivery.")
    INTERNAL_ERROR = MessageCode(
        "MSG1000", "Message Processing Failed", 500, "Retry later; the hub recorded the fault.", retryable=True
    )
    SCHEMA_FAILURE = MessageCode(
        "MSG1001", "Schema Failure", 400, "Correct the field named in the path to satisfy the rule given."
    )
    MALFORMED_JSON = MessageCode(
        "MSG1001", "Schema Failure", 400, 'The body must be well-formed JSON: an array of {"payload": {...}} objects.'
    )
    NOT_UTF8 = MessageCode("MSG1001", "Schema Failure", 400, "Encode the JSON body as UTF-8.")
    NOT_JSON_ARRAY = MessageCode(
        "MSG1001", "Schema Failure", 400, 'The body must be a JSON array of {"payload": {...}} objects.'
    )
    EMPTY_ARRAY = MessageCode("MSG1001", "Schema Failure", 400, "The message array needs at least one message.")
    UNKNOWN_EVENT_CODE = MessageCode(
        "MSG1001", "Schema Failure", 400, "S0.eventCode must be an event code defined for this interface."
    )
    UNSUPPORTED_VERSION = MessageCode(
        "MSG1001", "Schema Failure", 400, "S0.schemaVersion must be a version this environment accepts."
    )
    RETIRED_VERSION = MessageCode(
        "MSG1001", "Schema Failure", 400, "This schemaVersion is retired: move to a current one."
    )
    UNKNOWN_CHANNEL = MessageCode(
        "MSG1002", "Interface ID Invalid", 404, "Use an interface ID published in the catalogue."
    )
    INTERFACE_MISMATCH = MessageCode(
        "MSG1002",
        "Interface ID Invalid",
        400,
        "S0.interfaceID must name a catalogued interface, the one in the URL path.",
    )
    DUPLICATE_REFERENCE = MessageCode(
        "MSG1006",
        "Sender Unique Reference Duplicated",
        400,
        "This senderUniqueReference was already used by this sender; use a new one.",
    )
    SENDER_TIMESTAMP_INVALID = MessageCode(
        "MSG1007",
        "Sender Timestamp Invalid",
        400,
        "S1.senderTimestamp must be a real date-time like 2026-11-25T09:30:00+00:00, not in the future.",
    )
    SENDER_DIP_ID_INVALID = MessageCode(
        "MSG1009", "Sender DIP ID Invalid", 400, "S1.senderDIPID must be a 10-digit registered DIP ID."
    )
    SENDER_NOT_CALLER = MessageCode(
        "MSG1009",
        "Sender DIP ID Invalid",
        403,
        "S1.senderDIPID must be your own DIP ID, or one you are the registered connection provider for.",
    )
    SENDER_ROLE_INVALID = MessageCode(
        "MSG1010", "Sender Role Invalid", 400, "S1.senderRoleID must be a market role of 3 to 5 capitals."
    )
    ROLE_MISMATCH = MessageCode(
        "MSG1010", "Sender Role Invalid", 403, "S1.senderRoleID must be the market role registered for the DIP ID."
    )
    ROLE_NOT_ENTITLED = MessageCode(
        "MSG1010", "Sender Role Invalid", 403, "This market role may not send on this interface."
    )
    CONNECTION_PROVIDER_INVALID = MessageCode(
        "MSG1011", "Connection Provider ID Invalid", 400, "S1.DIPConnectionProviderID must be null or a DIP ID."
    )
    DCP_NOT_REGISTERED = MessageCode(
        "MSG1011",
        "Connection Provider ID Invalid",
        403,
        "S1.DIPConnectionProviderID must be a provider registered to send for this participant.",
    )
    CORRELATION_ID_INVALID = MessageCode(
        "MSG1012",
        "Sender Correlation ID Invalid",
        400,
        "S1.senderCorrelationID must be null or at most 60 characters of the published format.",
    )
    ADDRESSING_ERROR = MessageCode(
        "MSG1030",
        "Msg Addressing / Routing Error",
        400,
        "Name at least one recipient in A0.primaryRecipients, or send on an interface with routing rules.",
    )
    PRIMARY_RECIPIENT_UNKNOWN = MessageCode(
        "MSG1031",
        "Primary Recipient(s) DIP Participant ID Invalid",
        400,
        "Every A0.primaryRecipients entry must be a registered DIP ID.",
    )
    PRIMARY_RECIPIENT_ROLE = MessageCode(
        "MSG1032",
        "Primary Recipient(s) DIP Role ID Invalid",
        400,
        "Every A0.primaryRecipients entry must be registered in a role that receives this interface.",
    )
    SECONDARY_RECIPIENT_UNKNOWN = MessageCode(
        "MSG1033",
        "Secondary Recipient(s) DIP Participant ID Invalid",
        400,
        "Every secondary recipient (A0.secondaryRecipients, or the MPAN's distributor) must be a registered DIP ID.",
    )
    SECONDARY_RECIPIENT_ROLE = MessageCode(
        "MSG1034",
        "Secondary Recipient(s) DIP Role ID Invalid",
        400,
        "Every A0.secondaryRecipients entry must be registered in a role that receives this interface.",
    )
    ALWAYS_RECIPIENT_UNKNOWN = MessageCode(
        "MSG1035",
        "Always Recipient(s) DIP Participant ID Invalid",
        400,
        "Every A0.always entry, and every always-recipient of the routing rules, must be a registered DIP ID.",
    )
    ALWAYS_RECIPIENT_ROLE = MessageCode(
        "MSG1036",
        "Always Recipient(s) DIP Role ID Invalid",
        400,
        "Every A0.always entry must be registered in a role that receives this interface.",
    )
    SECONDARY_NEEDS_MPAN = MessageCode(
        "MSG1037",
        "Cannot Resolve Secondary Recipient(s) for Missing MPAN",
        400,
        "This interface routes to the MPAN's distributor: send M0 with MPANCore and distributorDIPID.",
    )
    SECONDARY_UNRESOLVED = MessageCode(
        "MSG1038",
        "Cannot Resolve Secondary Recipient(s) for MPAN/Party/Event Combination",
        400,
        "The routing rules of this interface and event found no registered recipient for this MPAN's party.",
    )
    DUPLICATE_CONTENT = MessageCode(
        "MSG4009", "Duplicate Content", 409, "The same content was already sent within the duplicate window."
    )
    WRONG_ENVIRONMENT = MessageCode(
        "MSG4012", "Wrong Environment Tag", 400, "S1.environmentTag must name this hub's environment."
    )
    BODY_TOO_LARGE = MessageCode(
        "MSG4013", "Body Too Large", 413, "Split the batch into smaller requests under the size limit."
    )
    REQUEST_TIMEOUT = MessageCode(
        "MSG4008",
        "Request Timeout",
        408,
        "Send the request line, headers and whole body promptly; the hub does not wait for a stalled request.",
        retryable=True,
    )
    HEADERS_TOO_LARGE = MessageCode(
        "MSG4031",
        "Request Header Fields Too Large",
        431,
        "Keep the request line and headers within the hub's limit (OPENDIP_HTTP_MAX_HEAD_BYTES, 64 KB by default).",
    )
    UNSUPPORTED_MEDIA_TYPE = MessageCode(
        "MSG4015", "Unsupported Content Type", 415, "Send the body as Content-Type: application/json."
    )
    WEBHOOK_URL_REFUSED = MessageCode(
        "MSG4071",
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
    SIGNATURE_REPLAYED = MessageCode(
        "MSG2012",
        "Signature Replayed",
        401,
        "Sign every request afresh: a signature is accepted once, so a resent request needs a new "
        "X-DIP-Signature-Date and X-DIP-Signature.",
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
    PARTICIPANT_SUSPENDED = MessageCode(
        "MSG3005", "Participant Suspended", 403, "This participant is suspended; contact the hub operator."
    )
    BATCH_NOT_PROCESSED = MessageCode(
        "MSG3007",
        "Batch Not Processed",
        400,
        "This message is valid, but another message of the same request was refused, so none was stored; "
        "fix that one and resend the whole request.",
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
    METHOD_NOT_ALLOWED = MessageCode("MSG4005", "Method Not Allowed", 405, "Use a method the Allow header lists.")
    CHANGE_NOT_ALLOWED = MessageCode(
        "MSG4070",
        "Change Not Allowed",
        409,
        "The change process does not allow this step now; the detail names the steps that are allowed.",
    )
    INVALID_CONTINUATION_TOKEN = MessageCode(
        "MSG4061",
        "Invalid Continuation Token",
        400,
        "Send back the X-Continuation-Token exactly as received, with the same filter body; "
        "or drop the header to start again.",
    )
    UNKNOWN_TRANSACTION = MessageCode(
        "MSG4062",
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
    RANGE_PURGED = MessageCode(
        "MSG4080",
        "Range Purged",
        410,
        "Messages received before the retention floor were archived and purged: start datetimeFrom at or after "
        "the floor, or ask the hub operator to restore the archive named (opendip retention restore-archive).",
    )
    UNAVAILABLE = MessageCode("MSG5003", "Service Unavailable", 503, "Retry later with back-off.", retryable=True)

    @property
    def spec(self) -> MessageCode:
        return self.value

    @property
    def is_extension(self) -> bool:
        """An OpenDIP code for a fault the published list has no code for."""
        return is_extension_code(self.value.code)

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
