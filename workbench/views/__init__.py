"""What people read: one number formatter, plain-text and HTML-ready tables, terminal text, altair charts."""
