#!/usr/bin/env python3
"""`json-roundtrip-fn.py COMMAND...`: an exec function for kpt that runs COMMAND (a
KRM function) on the ResourceList on stdin, then prints its output the way a
function built on kyaml's `filtersutil.ApplyToJSON` does (the catalog's
set-labels before v0.2, set-namespace before v0.3, set-annotations before v0.1.4:
scripts/catalog_restyles.py): every object marshalled
to JSON and read back (`RNode.UnmarshalJSON`, `yaml.FromMap`), so it comes out in
go-yaml's default styles (block collections, keys sorted, quotes only where a
plain scalar would read as another type) and without comments. kpt restores the
comments and field order, not the styles. Used by scripts/kpt-output-parity.py to
run our kpt-catalog binary as such a release under the real kpt."""
import json, re, subprocess, sys

import yaml


# go-yaml v3's encoder quotes the YAML 1.1 booleans and base-60 floats too
# (yaml.v3 encode.go `stringv`: `isOldBool`, `isBase60Float`).
OLD_BOOLS = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF"}


def scalar(v, ind=0):
    """`v` as go-yaml writes it; a literal block's lines indented by `ind`."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = str(v)
    if "\n" in s:
        # go-yaml's encoder writes a string with a line break as a literal block.
        chomp = "" if s.endswith("\n") and not s.endswith("\n\n") else "-" if not s.endswith("\n") else "+"
        body = s[:-1] if s.endswith("\n") else s
        return "|" + chomp + "".join("\n" + (" " * ind + line if line else "") for line in body.split("\n"))
    # The encoder (yaml.v3 encode.go `stringv`) asks for double quotes only when the
    # string would read back as another type (or a YAML 1.1 boolean or base-60
    # float); otherwise it asks for plain style, and the emitter
    # (`yaml_emitter_select_scalar_style`) falls back to single quotes where a
    # plain scalar cannot hold the string (`with: colon`, `a # b`, `- x`), and to
    # double quotes where single quotes cannot either (control characters).
    # the tag of the string read as a plain scalar (YAML 1.1's implicit types, and 1.2's floats)
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, s, (True, False))
    other_type = s == "" or s in OLD_BOOLS or tag != "tag:yaml.org,2002:str" or bool(
        re.fullmatch(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", s))
    if other_type:
        return json.dumps(s)
    plain = (s == s.strip()
             and not s.startswith(("'", '"', "{", "[", "]", "}", ",", "&", "*", "!", "|", ">", "%", "@", "`", "#",
                                   "- ", "? ", ": "))
             and s not in ("-", "?", ":") and ": " not in s and " #" not in s and not s.endswith(":"))
    if plain:
        return s
    if any((ord(c) < 0x20 and c != "\t") or c in "\x7f\ufeff" for c in s):
        return json.dumps(s)
    return "'" + s.replace("'", "''") + "'"


def emit(v, ind, out):
    if isinstance(v, dict):
        for k in sorted(v):
            x = v[k]
            if isinstance(x, dict) and x:
                out.append(" " * ind + scalar(k) + ":")
                emit(x, ind + 2, out)
            elif isinstance(x, list) and x:
                out.append(" " * ind + scalar(k) + ":")
                emit(x, ind, out)
            else:
                out.append(" " * ind + scalar(k) + ": " + ("{}" if x == {} else "[]" if x == [] else scalar(x, ind + 2)))
    else:
        for x in v:
            if isinstance(x, dict) and x:
                sub = []
                emit(x, ind + 2, sub)
                sub[0] = " " * ind + "- " + sub[0][ind + 2:]
                out.extend(sub)
            else:
                out.append(" " * ind + "- " + scalar(x, ind + 2))


_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOATS = {".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"),
                   "+.inf": float("inf"), "+.Inf": float("inf"), "+.INF": float("inf"),
                   "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
                   ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan")}


def go_int(s):
    """go-yaml v3's integer (resolve.go: `strconv.ParseInt(plain, 0, 64)` with
    underscores taken out, so `0o644` and `0644` are octal); None if not one."""
    plain = s.replace("_", "")
    sign, body = (plain[0], plain[1:]) if plain[:1] in "+-" and plain[:1] else ("", plain)
    bases = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
    try:
        if body[:2] in bases and len(body) > 2:
            value = int(body[2:], bases[body[:2]])
        elif len(body) > 1 and body[0] == "0":
            value = int(body[1:], 8)
        elif body.isdigit():
            value = int(body)
        else:
            return None
    except ValueError:
        return None
    return -value if sign == "-" else value


class GoYamlV3Loader(yaml.SafeLoader):
    """Plain scalars resolved as go-yaml v3 resolves them into an `interface{}`
    (what kyaml's `RNode.MarshalJSON` decodes through): YAML 1.2's booleans only
    (`yes`, `on` stay strings), octal `0o644`, no timestamps, no base 60."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            if value in ("", "~", "null", "Null", "NULL"):
                return "tag:yaml.org,2002:null"
            if value in ("true", "True", "TRUE", "false", "False", "FALSE"):
                return "tag:yaml.org,2002:bool"
            if go_int(value) is not None:
                return "tag:yaml.org,2002:int"
            if value in _SPECIAL_FLOATS or _FLOAT.match(value.replace("_", "")):
                return "tag:yaml.org,2002:float"
            return "tag:yaml.org,2002:str"
        return super().resolve(kind, value, implicit)


GoYamlV3Loader.add_constructor("tag:yaml.org,2002:int",
                               lambda loader, node: go_int(loader.construct_scalar(node)))
GoYamlV3Loader.add_constructor("tag:yaml.org,2002:float",
                               lambda loader, node: _SPECIAL_FLOATS.get(loader.construct_scalar(node))
                               if loader.construct_scalar(node) in _SPECIAL_FLOATS
                               else float(loader.construct_scalar(node).replace("_", "")))


def main():
    proc = subprocess.run(sys.argv[1:], stdin=sys.stdin, capture_output=True, text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout)
        sys.exit(proc.returncode)
    rl = yaml.load(proc.stdout, Loader=GoYamlV3Loader)
    out = []
    emit(rl, 0, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
