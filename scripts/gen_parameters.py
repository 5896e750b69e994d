"""Regenerate the generated reference pages: docs/parameters.md and docs/output.md.

    python scripts/gen_parameters.py

The pages come from the code (scripts/docgen.py); tests/test_docs.py fails while
a committed page differs from what this writes.
"""

from docgen import DOCS, outputs_markdown, parameters_markdown

if __name__ == "__main__":
    for name, text in (("parameters.md", parameters_markdown()), ("output.md", outputs_markdown())):
        (DOCS / name).write_text(text)
        print(f"wrote {DOCS / name}")
