"""The domain's errors.

DomainError
├── InvalidContactId      a string that names no contact
└── InvalidTransition     a lead or order state change the table does not allow
"""


class DomainError(Exception):
    """A rule of the conversation domain was broken."""
