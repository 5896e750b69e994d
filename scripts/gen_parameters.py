"""Regenerate the generated reference pages: docs/parameters.md and docs/output.md."""

from pathlib import Path

from blinasim.docgen import outputs_markdown, parameters_markdown

if __name__ == "__main__":
    docs = Path(__file__).resolve().parents[1] / "docs"
    for name, text in (("parameters.md", parameters_markdown()), ("output.md", outputs_markdown())):
        (docs / name).write_text(text)
        print(f"wrote {docs / name}")
