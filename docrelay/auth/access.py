"""What an acting user may do in a root: ``read-write``, ``read-only`` or ``none``."""

from fnmatch import fnmatchcase

from docrelay.config import Access, AccessRule, RuleAccess


class AccessPolicy:
    def __init__(self, rules: list[AccessRule], default: Access) -> None:
        self._rules = [
            (rule.users.casefold(), rule.access, None if rule.roots is None else set(rule.roots))
            for rule in rules
        ]
        self._default: Access = default

    def access_for(self, user: str, root: str | None = None) -> RuleAccess:
        """The first rule whose pattern matches the user name (case-insensitive) and whose
        roots, if it names any, include ``root`` decides; else the default."""
        folded = user.casefold()
        for pattern, access, roots in self._rules:
            if roots is not None and root not in roots:
                continue
            if fnmatchcase(folded, pattern):
                return access
        return self._default
