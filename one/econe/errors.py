"""EC2's error codes and the error document its clients parse."""
from __future__ import annotations

from xml.sax.saxutils import escape

# HTTP status per code: botocore reads the code from the body, but retries 5xx.
_STATUS = {"AuthFailure": 401, "SignatureDoesNotMatch": 403, "RequestExpired": 400,
           "InternalError": 500, "Unavailable": 503}


class Ec2Error(Exception):
    """A refusal as EC2 words it: `code` is one of EC2's documented error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return _STATUS.get(self.code, 400)

    def document(self, request_id: str) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
                f"</Error></Errors><RequestID>{request_id}</RequestID></Response>").encode()


def missing(name: str) -> Ec2Error:
    return Ec2Error("MissingParameter", f"The request must contain the parameter {name}")


def invalid(name: str, value: str) -> Ec2Error:
    return Ec2Error("InvalidParameterValue", f"Value ({value}) for parameter {name} is invalid.")
