"""What an acting user may do: ``read-write`` or ``read-only``, from the settings' rules."""

from fnmatch import fnmatchcase

from docrelay.config import Access, AccessRule


class AccessPolicy:
    def __init__(self, rules: list[AccessRule], default: Access) -> None:
        self._rules = [(rule.users.casefold(), rule.access) for rule in rules]
        self._default: Access = default

    def access_for(self, user: str) -> Access:
        """The first rule whose pattern matches the user name (case-insensitive) decides."""
        folded = user.casefold()
        for pattern, access in self._rules:
            if fnmatchcase(folded, pattern):
                return access
        return self._default
