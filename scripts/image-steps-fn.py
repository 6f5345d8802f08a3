#!/usr/bin/env python3
"""`image-steps-fn.py CATALOG IMAGE`: an exec function for kpt that runs `CATALOG IMAGE`
(our kpt-catalog binary as the catalog function IMAGE) on the ResourceList on stdin
after writing every step of its Kptfiles that scripts/real_packages.py turned into
`exec: "<...> CATALOG X"` back into `image: X`, and prints the function's output as
it is. A function that reads the pipeline (set-project-id looks for the step whose
image contains `apply-setters`) then sees what it sees when kpt runs the catalog's
images; a function that prints every object afresh (generate-folders, on the
TypeScript SDK's js-yaml) quotes the Kptfile's image steps as it quotes those images.
In its output each of those image steps is made the exec step it was again (an
image the function single-quoted an exec step single-quoted), so that kpt finds the
fields it gave (their order is kept by name)."""
import re
import subprocess
import sys


def main():
    catalog, image = sys.argv[1], sys.argv[2]
    text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    step = re.compile(
        r"^(\s*-?\s*)exec: \"?((?:\S+(?:json-roundtrip|image-steps)-fn\.py )?" + re.escape(catalog) + r" (\S+?))\"?(\s*)$",
        re.M,
    )
    execs = {}

    def to_image(m):
        execs[m.group(3)] = (m.group(0)[len(m.group(1)):len(m.group(0)) - len(m.group(4))], m.group(2))
        return f"{m.group(1)}image: {m.group(3)}{m.group(4)}"

    text = step.sub(to_image, text)
    done = subprocess.run([catalog, image], input=text.encode("utf-8", "surrogateescape"), capture_output=True)
    out = done.stdout.decode("utf-8", "surrogateescape")
    for name, (line, command) in execs.items():
        out = re.sub(r"^(\s*-?\s*)image: " + re.escape(name) + r"(\s*)$", lambda m: m.group(1) + line + m.group(2), out, flags=re.M)
        quoted = f"exec: '{command}'"
        out = re.sub(r"^(\s*-?\s*)image: '" + re.escape(name) + r"'(\s*)$", lambda m: m.group(1) + quoted + m.group(2), out, flags=re.M)
    sys.stdout.buffer.write(out.encode("utf-8", "surrogateescape"))
    sys.stderr.buffer.write(done.stderr)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
