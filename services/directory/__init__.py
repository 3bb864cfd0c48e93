"""The agency directory (R9): agencies and MFC offices, their hours, holidays and services."""
