"""One module per benchmark scenario; see bench/README.md."""
