"""The published answer codes a simulated participant uses (Elexon's ResponseCodes document).

Participants' systems key their handling on these exact codes, so the simulator
only ever answers with published ones: RCP for a recipient's content checks,
REG for the registration service's business rules. Kept as data: one table.
"""

from __future__ import annotations

RCP: dict[str, str] = {
    "RCP0000": "Message Success",
    "RCP1000": "Message Processing Failed",
    "RCP1001": "Schema Failure",
    "RCP1002": "Interface ID Invalid",
    "RCP1003": "Event Code Invalid, Unexpected or Missing",
    "RCP1004": "Environment Code Invalid, Unexpected or Missing",
    "RCP1005": "Schema Version Invalid or Not Compatible",
    "RCP1006": "Sender Unique Reference Missing or Duplicated",
    "RCP1007": "Sender Sent Date/Time Invalid or Missing",
    "RCP1008": "Sender Sent Date/Time is in the Future",
    "RCP1009": "Sender DIP ID Invalid, Unexpected or Missing",
    "RCP1010": "Sender Role Invalid, Unexpected or Missing",
    "RCP1021": "Msg Mandatory Data Item Missing",
    "RCP1022": "Msg Contains Invalid Value for Value Restricted Field",
    "RCP1023": "Msg Contains Invalid Valid Value Combination(s)",
    "RCP1041": "Recipient ID Invalid, Unexpected or Missing",
    "RCP1042": "Publication ID Invalid, Unexpected or Missing",
    "RCP1043": "DIP Txn ID Invalid, Unexpected or Missing",
    "RCP1044": "DIP Txn Timestamp Invalid or Missing",
    "RCP1045": "DIP Txn Timestamp is in the Future",
    "RCP1046": "DIP Correlation ID Invalid, Unexpected or Missing",
    "RCP1047": "Replay Indicator Invalid or Unexpected",
    "RCP1051": "R0 Response Code Invalid",
    "RCP1052": "R0 Response Code Inconsistent with Error Condition(s)",
    "RCP1061": "MPAN Invalid or Unknown",
    "RCP1062": "PUB Unexpected given MPAN Process Status/Condition",
    "RCP1063": "Message Data Content Differs from that Issued or Expected",
    "RCP1064": "MDR provided not valid",
    "RCP9999": "Message Signature Invalid",
}

REG: dict[str, str] = {
    "REG0000": "MPAN Invalid or does not exist",
    "REG0003": "Event/Operation cannot be undertaken when Connection Type is Unmetered",
    "REG1001": "MP/RMP Status must be Created/Operational to update MTDs",
    "REG1002": "No Valid Appointment held by Metering Service on Relevant Date",
    "REG1006": "Meter with same Meter ID already Installed",
    "REG1012": "Only Appointed MS can use Update Events",
    "REG1015": "Meter ID does not exist so cannot be updated",
    "REG1021": "Requesting Supplier is not the Current Supplier",
    "REG1024": "Effective Date Cannot be Retrospective",
    "REG1026": "Scenario CSP cannot propose the currently appointed Service Provider",
    "REG1050": "Supplier must have Ownership of either Import/Export MPAN to maintain Relationships",
    "REG1075": "Only current Service Providers can set Customer Direct Contracts",
    "REG1084": "Supplier Referenced is not Current Supplier",
}

SUCCESS = "RCP0000"


def text(code: str) -> str:
    """`RCP1061 - MPAN Invalid or Unknown`: the form a StandardResponse's `message` carries."""
    meaning = RCP.get(code) or REG.get(code)
    if meaning is None:
        raise KeyError(f"{code} is not a published RCP or REG code")
    return f"{code} - {meaning}"


def is_success(code: str) -> bool:
    return code == SUCCESS
