"""The newest kpt's render status in the root Kptfile, for the runners that
compare `lummo render` with the kpt on our machines (v1.0.0-beta.56).

kpt v1.0.0-beta.67 writes a top-level `status:` block (conditions, renderStatus)
into the root Kptfile on every in-place render, and so does `lummo render`;
kpt v1.0.0-beta.56 writes none (and cannot read a Kptfile holding
`renderStatus`). The runners compare everything but that block: they take
exactly it out of the root Kptfile, and nothing else.

`status_block` finds the block as lummo-render's `status::status_block` does:
the line of the top-level `status:` key and the indented or blank lines after
it (trailing blank lines left out).
"""
import os
import re


def status_block(text):
    """(start, end) offsets of the top-level `status:` block; (len, len) when none."""
    offset, start, end, last = 0, None, len(text), len(text)
    for line in text.splitlines(keepends=True):
        line_start = offset
        offset += len(line)
        if start is None:
            if re.match(r"status\s*:", line):
                start, last = line_start, offset
        elif not line.strip():
            continue
        elif line[0] in " \t":
            last = offset
        else:
            end = last
            break
    if start is None:
        return len(text), len(text)
    return start, (last if end == len(text) else end)


def without_status(text):
    """The text without its top-level `status:` block (str or bytes)."""
    if isinstance(text, bytes):
        return without_status(text.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    start, end = status_block(text)
    return text[:start] + text[end:]


def strip_root_status(package):
    """Takes the render status out of `package`/Kptfile in place (the file's
    mode and everything else kept); returns whether there was one."""
    path = os.path.join(package, "Kptfile")
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        text = f.read()
    stripped = without_status(text)
    if stripped == text:
        return False
    with open(path, "wb") as f:
        f.write(stripped)
    return True
