"""Validating and applying tag mutations (Metaflow's rules and errors).

A run's tags are system tags (``user:…``, ``runtime:…``, ``production:…``,
set at launch, immutable) and user tags (``--tag`` at launch, then
``Run.add_tag``/``remove_tag``/``replace_tag(s)``). A mutation removes first,
then adds; adding a tag that is already a system tag is a silent no-op for
that tag; removing a system tag is an error and nothing changes.
"""

from __future__ import annotations

from ..exceptions import MetaflowTaggingError

MAX_USER_TAG_SET_SIZE = 50
MAX_TAG_SIZE = 500


def is_stringish(value) -> bool:
    return isinstance(value, (str, bytes))


def validate_tag(tag) -> None:
    if isinstance(tag, bytes):
        try:
            tag.decode("utf-8")
        except UnicodeError:
            raise MetaflowTaggingError("Tags must be UTF-8 decodable")
    elif isinstance(tag, str):
        try:
            tag.encode("utf-8")
        except UnicodeError:
            raise MetaflowTaggingError("Tags must be UTF-8 encodable")
    else:
        raise MetaflowTaggingError(f"Tags must be some kind of string (bytes or unicode), got {type(tag)}")
    if not len(tag):
        raise MetaflowTaggingError("Tags must not be empty string")
    if len(tag) > MAX_TAG_SIZE:
        raise MetaflowTaggingError(f"Tag is too long {len(tag)} > {MAX_TAG_SIZE}")


def validate_tag_set(tags, existing=None) -> None:
    tag_set = frozenset(tags)
    if len(tag_set) > MAX_USER_TAG_SET_SIZE and (existing is None or len(frozenset(existing)) < len(tag_set)):
        raise MetaflowTaggingError(f"Cannot increase size of tag set beyond {MAX_USER_TAG_SET_SIZE}")
    for tag in tag_set:
        validate_tag(tag)


def _as_text(tag):
    return tag.decode("utf-8") if isinstance(tag, bytes) else tag


def _iterable(value, what: str) -> list:
    if is_stringish(value):
        raise MetaflowTaggingError(f"{what} may not be a string")
    try:
        return list(value)
    except TypeError:
        raise MetaflowTaggingError(f"{what} must be iterable")


def mutate(user_tags: frozenset, system_tags: frozenset, tags_to_remove, tags_to_add) -> frozenset | None:
    """The user tags after the mutation, or None when nothing changes. Raises
    ``MetaflowTaggingError`` (and changes nothing) on any invalid request."""
    tags_to_remove = [] if tags_to_remove is None else tags_to_remove
    tags_to_add = [] if tags_to_add is None else tags_to_add
    remove = _iterable(tags_to_remove, "tags_to_remove")
    add = _iterable(tags_to_add, "tags_to_add")
    if not remove and not add:
        raise MetaflowTaggingError("Must add or remove at least one tag")
    for tag in remove + add:
        validate_tag(tag)
    remove_set = frozenset(_as_text(t) for t in remove)
    add_set = frozenset(_as_text(t) for t in add) - system_tags
    if remove_set & system_tags:
        raise MetaflowTaggingError(
            f"Cannot remove a tag that is an existing system tag ({sorted(remove_set & system_tags)})")
    final = (user_tags - remove_set) | add_set
    if final == user_tags:
        return None
    validate_tag_set(final, existing=user_tags)
    return final
