"""Booking failures with stable error ids; `detail` is Russian because operators read it aloud."""

from __future__ import annotations

from services.common.problems import AppError, Conflict, InvalidInput


class SlotTaken(Conflict):
    """Every window (or the chosen specialist) is already booked at that time."""

    error_id, title = "slot-taken", "Slot taken"

    def __init__(self) -> None:
        super().__init__("Это время уже занято. Предложите гражданину другое время.")


class NotBookable(InvalidInput):
    """The time is not one of the office's slots for the service, or is in the past."""

    error_id, title = "not-a-slot", "Not a bookable slot"


class BookingClosed(Conflict):
    """The booking is cancelled or over, so it cannot be changed any more."""

    error_id, title = "booking-closed", "Booking no longer active"


class OutsideSystemError(AppError):
    """The office's own MFC queue system could not take the request."""

    status, error_id, title = 502, "mfc-unavailable", "Outside booking system unavailable"


class OutsideSystemRefused(OutsideSystemError):
    """The outside system answered and said no (slot gone, citizen refused, office closed)."""

    status, error_id, title = 409, "mfc-refused", "Outside booking system refused"


class OutsideSystemTimeout(OutsideSystemError):
    """The outside system did not answer in time; nothing was booked on our side."""

    status, error_id, title = 504, "mfc-timeout", "Outside booking system timed out"
