"""The console's password policy: one function, used wherever a password is set (the store's
``add_user`` and ``set_password``, hence the users page, the password page and the CLI).

The console decides when a customer's international calling goes on; an administrator's or a
technical user's password guards toll fraud, so theirs is longer and mixed (or a passphrase).
A refusal names its rule in one line; its :attr:`PolicyError.key` is a label
(:mod:`harness.console.labels`) for the form pages' language.
"""

from __future__ import annotations

from harness.errors import RecetteError

MIN_LENGTH = 10           # every user
MIN_DISTINCT = 5          # distinct characters ("aaaaaaaaaa" has one)
MIN_LENGTH_STRONG = 14    # administrators and technical users
MIN_CLASSES_STRONG = 3    # of lower, upper, digit, other
MIN_PASSPHRASE = 20       # or a passphrase this long, whatever its classes
STRONG_ROLES = ("administrator", "technical")

# What password lists and breach corpora put first, at least MIN_LENGTH long (shorter ones
# are refused by length anyway); compared without case.
COMMON = frozenset({
    "1234567890", "0123456789", "12345678910", "1234567890a", "123456789a", "qwertyuiop",
    "azertyuiop", "qwertyuiop123", "azertyuiop123", "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx3edc",
    "qazwsxedc123", "password123", "password1234", "passw0rd123", "motdepasse", "motdepasse1",
    "motdepasse123", "iloveyou123", "administrator", "administrateur", "admin12345",
    "admin123456", "adminadmin", "welcome123", "welcome1234", "bienvenue1", "bienvenue123",
    "changeme123", "letmein123", "football123", "sunshine123", "princess123", "trustno1234",
    "superman123", "baseball123", "starwars123", "qwerty12345", "qwerty123456", "abcdef123456",
    "abc1234567", "abcdefghij", "0987654321", "9876543210", "1111111111", "0000000000",
    "1234512345", "azerty12345", "azerty123456", "soleil1234", "doudou1234", "marseille13",
    "jetaime123", "loulou1234", "chouchou123", "p@ssw0rd123", "p@ssword123", "summer2024",
    "summer2025", "summer2026", "winter2025", "autumn2025", "password2024", "password2025",
    "password2026", "recette123", "recette2026", "console123", "telephone1",
})


class PolicyError(RecetteError):
    """A password the policy refuses: the English line, and the label key of its rule."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__(text)
        self.key = key


def min_length(role: str) -> int:
    """The shortest password ``role`` may have (the forms' ``minlength``)."""
    return MIN_LENGTH_STRONG if role in STRONG_ROLES else MIN_LENGTH


def _classes(password: str) -> int:
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password)))


def check(password: str, username: str, role: str) -> None:
    """Refuse ``password`` for ``username`` of ``role`` with :class:`PolicyError`, else
    return. The rules, in the order said: length, distinct characters, the user name in it,
    a common password, and for administrators and technical users the strong form."""
    if len(password) < MIN_LENGTH:
        raise PolicyError("password_short",
                          f"a password needs at least {MIN_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT:
        raise PolicyError("password_repetitive",
                          f"a password needs at least {MIN_DISTINCT} different characters")
    name = username.strip().lower()
    if len(name) >= 3 and name in password.lower():
        raise PolicyError("password_has_name", "a password must not contain the user name")
    if password.lower() in COMMON:
        raise PolicyError("password_common", "this password is among the most common ones")
    if role in STRONG_ROLES and len(password) < MIN_PASSPHRASE and (
            len(password) < MIN_LENGTH_STRONG or _classes(password) < MIN_CLASSES_STRONG):
        raise PolicyError("password_weak_role",
                          f"an administrator's or technical user's password needs at least "
                          f"{MIN_LENGTH_STRONG} characters with {MIN_CLASSES_STRONG} of "
                          "lower case, upper case, digits, others, or a passphrase of "
                          f"{MIN_PASSPHRASE}")
