"""The plain `phone` and `citizen_id` of a person record, over its stored encrypted columns.

Members and workers store these values the same way (members/crypto.py): ciphertext, a keyed hash for exact
lookup, the last four characters and a stored mask. One mixin keeps the two models from drifting apart.
"""

from members import crypto


def sensitive_columns(*, citizen_id: str | None = None, phone: str | None = None, hash_phone: bool = False) -> dict:
    """Column values for already-validated, normalised values (used by the models and bulk writes)."""
    out = {}
    if citizen_id is not None:
        out.update(
            citizen_id_cipher=crypto.encrypt(citizen_id),
            citizen_id_hash=crypto.lookup_hash(citizen_id),
            citizen_id_last4=citizen_id[-4:],
            citizen_id_masked=crypto.mask_citizen_id(citizen_id),
        )
    if phone is not None:
        out.update(
            phone_cipher=crypto.encrypt(phone),
            phone_last4=phone[-4:],
            phone_masked=crypto.mask_phone(phone),
        )
        if hash_phone:
            out["phone_hash"] = crypto.lookup_hash(phone)
    return out


class SensitiveValuesMixin:
    """Decrypt on first read, fill every stored column on write. Callers decide whether a value may be shown.

    `hash_phone`: whether the model keeps a keyed hash of the phone (workers are found again by phone).
    """

    hash_phone = False
    _citizen_id: str | None = None
    _phone: str | None = None

    @property
    def citizen_id(self) -> str:
        if self._citizen_id is None:
            self._citizen_id = crypto.decrypt(self.citizen_id_cipher)
        return self._citizen_id

    @citizen_id.setter
    def citizen_id(self, value: str) -> None:
        value = value or ""
        for column, column_value in sensitive_columns(citizen_id=value).items():
            setattr(self, column, column_value)
        self._citizen_id = value

    @property
    def phone(self) -> str:
        if self._phone is None:
            self._phone = crypto.decrypt(self.phone_cipher)
        return self._phone

    @phone.setter
    def phone(self, value: str) -> None:
        value = value or ""
        for column, column_value in sensitive_columns(phone=value, hash_phone=self.hash_phone).items():
            setattr(self, column, column_value)
        self._phone = value

    def refresh_from_db(self, *args, **kwargs):
        self._citizen_id = self._phone = None
        super().refresh_from_db(*args, **kwargs)
